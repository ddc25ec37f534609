"""Hostile input never gives a 500: exact requests, each a case of its own.

Each was a 500 in the security review or in the first run of these walls (a 20-digit page= or
year=, NUL bytes on PostgreSQL, a lone surrogate, JSON nested 100,000 deep, an upper-case replay
of a change_id, an object as item_id, a multipart part without a parsable name, a NUL in a static
path). The `versions=` range DoS on the no-JS save form has its own bounded test in
tests/inspections/test_fill_page.py: one such request used to eat gigabytes.
"""

from __future__ import annotations

import json
import uuid

import pytest

HUGE = "99999999999999999999"  # 20 digits: past a 64-bit integer


def _answers_url(w) -> str:
    return f"/api/v1/inspections/{w.ids['inspection']['A.in_progress']}/answers"


def _change(w, **fields) -> dict:
    return {
        "change_id": str(uuid.uuid4()),
        "item_id": w.items["W-02"],
        "base_version": w.versions["A.in_progress"]["W-02"],
        **fields,
    }


def _json(w, payload) -> dict:
    return {"data": json.dumps(payload), "content_type": "application/json"}


def _raw_json(text: str) -> dict:
    return {"data": text, "content_type": "application/json"}


def _bad_part_name() -> dict:
    body = b'--B\r\nContent-Disposition: form-data; name="a\\"\r\n\r\nx\r\n--B--\r\n'
    return {"data": body, "content_type": "multipart/form-data; boundary=B"}


def _case(name, client, method, url, body=None):
    return pytest.param(client, method, url, body, id=name)


CASES = [
    *[
        _case(f"page {path}", "admin", "GET", f"{path}?page={HUGE}")
        for path in (
            "/directory/units",
            "/directory/systems",
            "/directory/users",
            "/audit/",
            "/notifications/",
        )
    ],
    _case("page /directory/units small", "admin", "GET", "/directory/units?page=99999"),
    _case("year /rounds/", "admin", "GET", f"/rounds/?year={HUGE}"),
    _case("year /inspections/", "insp", "GET", f"/inspections/?year={HUGE}"),
    _case("year /api/v1/inspections", "insp", "GET", f"/api/v1/inspections?year={HUGE}"),
    _case("year /rounds/ negative", "admin", "GET", "/rounds/?year=-5"),
    _case(
        "a login name",
        "anon",
        "POST",
        "/auth/login",
        lambda w: {"data": {"username": "wall_ad\x00min", "password": "x"}},
    ),
    _case("a unit search", "admin", "GET", "/directory/units?q=a%00b"),
    _case("an audit filter", "admin", "GET", "/audit/?actor=a%00b"),
    _case(
        "an answer note",
        "insp",
        "POST",
        _answers_url,
        lambda w: _json(w, {"changes": [_change(w, note="a\x00b")]}),
    ),
    _case(
        "lone surrogate in a note",
        "insp",
        "POST",
        _answers_url,
        lambda w: _raw_json(
            json.dumps({"changes": [_change(w, note="@")]}).replace('"@"', '"\\ud800"')
        ),
    ),
    _case(
        "JSON nested 100000 deep",
        "insp",
        "POST",
        _answers_url,
        lambda w: _raw_json("[" * 100_000 + "]" * 100_000),
    ),
    _case(
        "JSON nested 500 deep",
        "insp",
        "POST",
        _answers_url,
        lambda w: _raw_json("[" * 500 + "]" * 500),
    ),
    _case(
        "an object as item_id",
        "insp",
        "POST",
        _answers_url,
        lambda w: _json(w, {"changes": [{**_change(w, note="n"), "item_id": {}}]}),
    ),
    _case(
        "a list as item_id",
        "insp",
        "POST",
        _answers_url,
        lambda w: _json(w, {"changes": [{**_change(w, note="n"), "item_id": [1]}]}),
    ),
    _case(
        "an object as change_id",
        "insp",
        "POST",
        _answers_url,
        lambda w: _json(w, {"changes": [{**_change(w, note="n"), "change_id": {}}]}),
    ),
    _case(
        "a multipart part named a\\ (anonymous login)",
        "anon",
        "POST",
        "/auth/login",
        lambda w: _bad_part_name(),
    ),
    _case(
        "a multipart part named a\\ (evidence upload)",
        "insp",
        "POST",
        lambda w: f"/api/v1/inspections/{w.ids['inspection']['A.in_progress']}/evidence",
        lambda w: _bad_part_name(),
    ),
    _case("static ..%00", "anon", "GET", "/static/..%00/config.py"),
    _case("static ../", "anon", "GET", "/static/../config.py"),
    _case("static %2e%2e", "anon", "GET", "/static/%2e%2e/config.py"),
]


@pytest.mark.parametrize(("client", "method", "url", "body"), CASES)
def test_hostile_input_is_refused_without_a_server_error(world_db, client, method, url, body):
    w = world_db.world
    url = url(w) if callable(url) else url
    kw = dict(body(w)) if body else {}
    token = world_db.token(client)
    if isinstance(kw.get("data"), dict):
        kw["data"] = {**kw["data"], "csrf_token": token}
    response = world_db.client(client).open(
        url, method=method, headers={"X-CSRFToken": token}, **kw
    )
    response.close()
    assert response.status_code < 500, f"{method} {url} as {client}: {response.status_code}"


def test_an_upper_case_replay_of_an_applied_change_is_no_server_error(world_db):
    """Review 1-A: the same change_id in upper case, with an innocent change in the batch."""
    w = world_db.world
    client, headers = world_db.client("insp"), {"X-CSRFToken": world_db.token("insp")}
    first = _change(w, note="first")
    assert (
        client.post(_answers_url(w), json={"changes": [first]}, headers=headers).status_code == 200
    )
    replay = {
        **first,
        "change_id": first["change_id"].upper(),
        "base_version": first["base_version"] + 1,
    }
    innocent = {
        **_change(w, note="x"),
        "item_id": w.items["W-03"],
        "base_version": w.versions["A.in_progress"]["W-03"],
    }
    response = client.post(_answers_url(w), json={"changes": [replay, innocent]}, headers=headers)
    assert response.status_code == 200, response.status_code
