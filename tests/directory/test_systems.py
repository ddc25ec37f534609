"""System pages: list with search and filters, detail, create and edit with validation."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from inspect_app.extensions import db
from inspect_app.models import AuditEvent, System


def form_data(unit: str, **kw) -> dict:
    data = {"code": "SYS1", "name": "新系统", "unit_code": unit, "mlps_level": "3", "active": "y"}
    data.update(kw)
    return data


@pytest.fixture
def catalogue(app, make):
    with app.app_context():
        a = make.unit(code="UA", name="甲单位")
        b = make.unit(code="UB", name="乙单位")
        make.system(
            unit=a,
            code="SA1",
            name="甲门户",
            mlps_level=2,
            internet_facing=True,
            filing_number="4401-001",
        )
        make.system(unit=a, code="SA2", name="甲内网办公", mlps_level=3)
        make.system(unit=b, code="SB1", name="乙关基平台", mlps_level=4, is_cii=True)
        return {"a": a.id, "b": b.id}


def test_systems_list_searches_and_filters(login_as, catalogue):
    b = login_as("coordinator")
    html = b.get("/directory/systems?q=4401").get_data(as_text=True)
    assert "甲门户" in html and "甲内网办公" not in html
    html = b.get("/directory/systems?level=4").get_data(as_text=True)
    assert "乙关基平台" in html and "甲门户" not in html
    html = b.get("/directory/systems?cii=yes").get_data(as_text=True)
    assert "乙关基平台" in html and "甲门户" not in html
    html = b.get("/directory/systems?internet=yes").get_data(as_text=True)
    assert "甲门户" in html and "甲内网办公" not in html
    html = b.get("/directory/systems?unit=UA").get_data(as_text=True)
    assert "甲门户" in html and "甲内网办公" in html and "乙关基平台" not in html


def test_system_detail_shows_its_unit_and_level(login_as, app, catalogue):
    with app.app_context():
        system_id = db.session.scalar(sa.select(System.id).where(System.code == "SB1"))
    html = login_as("viewer").get(f"/directory/systems/{system_id}").get_data(as_text=True)
    assert "乙单位" in html and "第四级" in html


def test_coordinator_adds_a_system_to_a_unit_with_an_audit_event(login_as, app, catalogue):
    b = login_as("coordinator")
    assert "UA" in b.get("/directory/systems/new?unit=UA").get_data(as_text=True)
    response = b.post(
        "/directory/systems/new", form_data("UA", filing_number="44010099001-00002", is_cii="y")
    )
    assert response.status_code == 302
    with app.app_context():
        system = db.session.scalar(sa.select(System).where(System.code == "SYS1"))
        assert system.unit_id == catalogue["a"] and system.mlps_level == 3 and system.is_cii
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "system.create"))
        assert event.unit_id == catalogue["a"] and event.after["unit_code"] == "UA"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"mlps_level": "7"}, ""),
        ({"mlps_level": ""}, ""),
        ({"unit_code": "NOPE"}, "NOPE"),
        ({"code": "SA1"}, "SA1"),
        ({"name": ""}, ""),
    ],
)
def test_bad_system_input_is_refused_and_nothing_is_saved(
    login_as, app, catalogue, overrides, message
):
    b = login_as("coordinator")
    response = b.post("/directory/systems/new", form_data("UA", **overrides))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "has-error" in html and message in html
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(System.id))) == 3


def test_editing_a_system_can_move_it_to_another_unit(login_as, app, catalogue):
    with app.app_context():
        system_id = db.session.scalar(sa.select(System.id).where(System.code == "SA2"))
    b = login_as("coordinator")
    assert 'value="UA"' in b.get(f"/directory/systems/{system_id}/edit").get_data(as_text=True)
    response = b.post(
        f"/directory/systems/{system_id}/edit", form_data("UB", code="SA2", name="甲内网办公")
    )
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(System, system_id).unit_id == catalogue["b"]
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "system.update"))
        assert event.before == {"unit_code": "UA"} and event.after == {"unit_code": "UB"}
