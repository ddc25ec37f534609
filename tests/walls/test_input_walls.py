"""Hostile input never gives a 500: exact requests, each a case of its own.

The ones the app gets wrong today are strict xfails naming the cause, so each fails loudly once
fixed (then delete its mark, and the matching line in tests/api/test_schemathesis.py's
_steer_clear_of_known_bugs when there is one). The `versions=` range DoS on the no-JS save form
is deliberately NOT sent here: one such request eats gigabytes.
"""

from __future__ import annotations

import json
import os
import uuid

import pytest

HUGE = "99999999999999999999"  # 20 digits: past a 64-bit integer
ON_POSTGRES = (os.environ.get("TEST_DATABASE_URL") or "").startswith("postgresql")


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


OVERFLOW = "OverflowError (SQLite) / NumericValueOutOfRange (PostgreSQL): a 20-digit {} is bound as an integer"
NUL_ON_POSTGRES = "PostgreSQL text cannot contain NUL: psycopg DataError on a NUL byte in {}"
BUGS = {
    "page": OVERFLOW.format("page="),
    "year": OVERFLOW.format("year="),
    "nul": NUL_ON_POSTGRES,
    "surrogate": "UnicodeEncodeError: a lone surrogate in a note cannot be stored",
    "deep": "RecursionError: request.get_json on JSON nested 100,000 deep",
    "upper_replay": "IntegrityError on applied_changes.change_id: the replay lookup uses the raw "
    "change_id but _apply_one stores it lower-cased",
    "unhashable_item": "TypeError: unhashable type: 'dict' / 'list' (items.get(change['item_id'])) in "
    "inspections.services._apply_one",
    "part_name": "AttributeError: 'NoneType' object has no attribute 'endswith' in Flask-WTF "
    "CSRFProtect._get_csrf_token: werkzeug parses the part name `a\\` as None",
    "static_nul": "ValueError: embedded null byte in the static route's path check (assets.py)",
}


def _case(name, client, method, url, body=None, *, bug=None, postgres_only=False):
    marks = ()
    if bug is not None:
        reason = BUGS[bug] if bug != "nul" else BUGS["nul"].format(name)
        marks = pytest.mark.xfail(
            condition=ON_POSTGRES or not postgres_only, strict=True, reason=reason
        )
    return pytest.param(client, method, url, body, id=name, marks=marks)


CASES = [
    *[
        _case(f"page {path}", "admin", "GET", f"{path}?page={HUGE}", bug="page")
        for path in ("/directory/units", "/directory/systems", "/directory/users", "/audit/")
    ],
    _case("page /directory/units small", "admin", "GET", "/directory/units?page=99999"),
    _case("year /rounds/", "admin", "GET", f"/rounds/?year={HUGE}", bug="year"),
    _case("year /inspections/", "insp", "GET", f"/inspections/?year={HUGE}", bug="year"),
    _case(
        "year /api/v1/inspections", "insp", "GET", f"/api/v1/inspections?year={HUGE}", bug="year"
    ),
    _case("year /rounds/ negative", "admin", "GET", "/rounds/?year=-5"),
    _case(
        "a login name",
        "anon",
        "POST",
        "/auth/login",
        lambda w: {"data": {"username": "wall_ad\x00min", "password": "x"}},
        bug="nul",
        postgres_only=True,
    ),
    _case(
        "a unit search", "admin", "GET", "/directory/units?q=a%00b", bug="nul", postgres_only=True
    ),
    _case("an audit filter", "admin", "GET", "/audit/?actor=a%00b", bug="nul", postgres_only=True),
    _case(
        "an answer note",
        "insp",
        "POST",
        _answers_url,
        lambda w: _json(w, {"changes": [_change(w, note="a\x00b")]}),
        bug="nul",
        postgres_only=True,
    ),
    _case(
        "lone surrogate in a note",
        "insp",
        "POST",
        _answers_url,
        lambda w: _raw_json(
            json.dumps({"changes": [_change(w, note="@")]}).replace('"@"', '"\\ud800"')
        ),
        bug="surrogate",
    ),
    _case(
        "JSON nested 100000 deep",
        "insp",
        "POST",
        _answers_url,
        lambda w: _raw_json("[" * 100_000 + "]" * 100_000),
        bug="deep",
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
        bug="unhashable_item",
    ),
    _case(
        "a list as item_id",
        "insp",
        "POST",
        _answers_url,
        lambda w: _json(w, {"changes": [{**_change(w, note="n"), "item_id": [1]}]}),
        bug="unhashable_item",
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
        bug="part_name",
    ),
    _case(
        "a multipart part named a\\ (evidence upload)",
        "insp",
        "POST",
        lambda w: f"/api/v1/inspections/{w.ids['inspection']['A.in_progress']}/evidence",
        lambda w: _bad_part_name(),
        bug="part_name",
    ),
    _case("static ..%00", "anon", "GET", "/static/..%00/config.py", bug="static_nul"),
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


@pytest.mark.xfail(strict=True, reason=BUGS["upper_replay"])
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
