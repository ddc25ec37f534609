"""Odd input gets a 4xx with a clear message, never a 500 (security review 2-D), on both backends."""

import pytest

from inspect_app.extensions import db
from inspect_app.models import AuditEvent

from .conftest import Browser

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
        f"/audit/?before={HUGE}",
        f"/audit/?after={HUGE}",
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
