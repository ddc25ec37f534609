"""Odd input gets a 4xx with a clear message, never a 500 (security review 2-D), on both backends."""

import pytest

from inspect_app.extensions import db
from inspect_app.models import Answer, AuditEvent

from .conftest import Browser
from .inspections.conftest import change, setup  # noqa: F401  (a fixture)

HUGE = "99999999999999999999"


@pytest.fixture
def office(login_as):
    return login_as("coordinator")


@pytest.mark.parametrize(
    "url",
    [
        f"/directory/units?page={HUGE}",
        f"/directory/systems?page={HUGE}",
        f"/directory/users?page={HUGE}",
        f"/audit/?page={HUGE}",
        f"/rounds/?year={HUGE}",
        f"/api/v1/inspections?year={HUGE}",
        f"/inspections/?year={HUGE}",
        "/directory/units?page=-3",
        "/rounds/?year=abc",
    ],
)
def test_out_of_range_numbers_in_the_query_are_a_400_with_a_message(office, url):
    response = office.get(url)
    assert response.status_code == 400
    body = response.get_json()["error"]["message"] if response.is_json else response.text
    assert "整数" in body


@pytest.mark.parametrize(
    "url",
    [
        f"/directory/units/{HUGE}",
        f"/inspections/{HUGE}",
        f"/api/v1/inspections/{HUGE}",
        "/inspections/4294967296/record",
    ],
)
def test_ids_beyond_the_database_range_are_not_found(office, url):
    assert office.get(url).status_code == 404


def test_nul_byte_in_a_static_path_is_refused_for_anyone(client):
    assert client.get("/static/..%00/config.py").status_code in (400, 404)


def test_nul_byte_in_a_login_name_is_a_400_and_no_event(app, client):
    b = Browser(client)
    with app.app_context():
        before = db.session.query(AuditEvent).count()
    response = b.post("/auth/login", {"username": "ad\x00min", "password": "x" * 12})
    assert response.status_code == 400
    assert "NUL" in response.get_data(as_text=True) or "空字符" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(AuditEvent).count() == before


@pytest.mark.parametrize("url", ["/directory/units?q=a%00b", "/audit/?actor=a%00b"])
def test_nul_byte_in_a_search_field_is_a_400(office, url):
    assert office.get(url).status_code == 400


@pytest.mark.parametrize("bad", ["a\x00b", "\ud800", "x\udfffy"])
def test_unstorable_text_in_one_change_is_rejected_and_the_rest_of_the_batch_applied(
    app, setup, bad
):
    b = Browser(app.test_client())
    b.login(setup["lead"])
    good, odd = setup["items"]["T-01"], setup["items"]["T-02"]
    response = b.post_json(
        f"/api/v1/inspections/{setup['inspection']}/answers",
        {
            "changes": [
                change(odd, note=bad),
                change(good, result="compliant", note="innocent change in the same batch"),
            ]
        },
    )
    assert response.status_code == 200
    first, second = response.get_json()["results"]
    assert first["status"] == "rejected" and first["message"]
    assert second["status"] == "applied"
    with app.app_context():
        assert db.session.query(Answer).filter_by(item_id=good).one().result == "compliant"


def test_json_nested_100000_deep_is_a_400(app, setup):
    b = Browser(app.test_client())
    b.login(setup["lead"])
    response = b.client.post(
        f"/api/v1/inspections/{setup['inspection']}/answers",
        data="[" * 100_000 + "]" * 100_000,
        content_type="application/json",
        headers={"X-CSRFToken": b.token()},
    )
    assert response.status_code == 400
    assert response.get_json()["error"]["message"]


def test_json_nested_more_than_the_limit_is_a_400_naming_the_nesting(app, setup):
    b = Browser(app.test_client())
    b.login(setup["lead"])
    deep = {"changes": []}
    node = deep
    for _ in range(60):
        node["x"] = {}
        node = node["x"]
    response = b.post_json(f"/api/v1/inspections/{setup['inspection']}/answers", deep)
    assert response.status_code == 400
    assert (
        "nest" in response.get_json()["error"]["message"]
        or "嵌套" in (response.get_json()["error"]["message"])
    )


def test_huge_integer_in_a_number_answer_is_rejected_not_a_500(app, setup):
    b = Browser(app.test_client())
    b.login(setup["lead"])
    response = b.client.post(
        f"/api/v1/inspections/{setup['inspection']}/answers",
        data='{"changes": [{"change_id": "%s", "item_id": %d, "base_version": 0, "value": 1%s}]}'
        % (change(0)["change_id"], setup["items"]["T-06"], "0" * 400),
        content_type="application/json",
        headers={"X-CSRFToken": b.token()},
    )
    assert response.status_code == 200
    assert response.get_json()["results"][0]["status"] == "rejected"


def test_nul_byte_in_an_uploaded_file_name_is_a_400(app, setup):
    import io

    from .inspections.helpers import jpeg_bytes

    b = Browser(app.test_client())
    b.login(setup["lead"])
    response = b.client.post(
        f"/api/v1/inspections/{setup['inspection']}/evidence",
        data={"file": (io.BytesIO(jpeg_bytes()), "a\x00b.jpg")},
        headers={"X-CSRFToken": b.token()},
    )
    assert response.status_code == 400
