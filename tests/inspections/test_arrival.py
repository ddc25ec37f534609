"""扫码入企: the unit's code registers the visit's arrival and starts its record."""

from datetime import datetime

import pytest

from inspect_app.clock import local_today
from inspect_app.errors import InvalidTransition, NotFound, ValidationFailed
from inspect_app.extensions import db
from inspect_app.inspections import arrival, services
from inspect_app.models import AuditEvent, Inspection, Unit, User

from ..conftest import Browser
from .helpers import png_bytes


def test_scanning_the_units_code_registers_the_arrival_of_todays_visit(ctx, make):
    unit = make.unit(address="示例市塔里木大道9号")
    lead, member = make.user(role="inspector"), make.user(role="inspector")
    inspection = make.inspection(unit=unit, members=[lead, member], scheduled_on=local_today())
    code = arrival.arrival_code(unit)
    assert len(code) == 8 and arrival.unit_for_code(code.lower()).id == unit.id
    with pytest.raises(NotFound):
        arrival.register_arrival("ZZZZZZZZ", actor=lead)
    with pytest.raises(InvalidTransition):  # the member does not lead the visit
        arrival.register_arrival(code, actor=member)
    visit = arrival.register_arrival(code, actor=lead, now=datetime(2026, 5, 10, 1, 2, 33))
    assert visit.id == inspection.visit_id
    assert visit.arrived_at == visit.started_at == datetime(2026, 5, 10, 1, 2)
    assert visit.place == "示例市塔里木大道9号"
    event = db.session.query(AuditEvent).filter_by(action="visit.arrive").one()
    assert sorted(event.after["team"]) == sorted([lead.id, member.id])
    with pytest.raises(InvalidTransition):
        arrival.register_arrival(code, actor=lead)


def test_a_units_printed_code_still_opens_while_the_old_key_is_a_fallback(app, ctx, make):
    """Rotating SECRET_KEY changed every code at once: the printed ones stopped working before
    the new ones could be printed. They work until the old key leaves SECRET_KEY_FALLBACKS."""
    unit = make.unit()
    printed = arrival.arrival_code(unit)
    old, fallbacks = app.config["SECRET_KEY"], app.config["SECRET_KEY_FALLBACKS"]
    try:
        app.config["SECRET_KEY"] = "a-new-secret-key-after-rotation-0123456789"
        app.config["SECRET_KEY_FALLBACKS"] = [old]
        new = arrival.arrival_code(unit)
        assert new != printed  # the unit's page shows the new code to print
        assert arrival.unit_for_code(printed).id == unit.id
        assert arrival.unit_for_code(new).id == unit.id
        app.config["SECRET_KEY_FALLBACKS"] = []  # the rotation is over
        assert arrival.unit_for_code(printed) is None
        assert arrival.unit_for_code(new).id == unit.id
    finally:
        app.config["SECRET_KEY"], app.config["SECRET_KEY_FALLBACKS"] = old, fallbacks


def test_with_the_scan_required_an_unregistered_visit_cannot_be_submitted(
    app, ctx, make, monkeypatch
):
    monkeypatch.setitem(app.config, "REQUIRE_ARRIVAL_SCAN", True)
    lead = make.user(role="inspector")
    inspection = make.inspection(members=[lead, make.user(role="inspector")])
    with pytest.raises(ValidationFailed) as err:
        services.submit_inspection(
            inspection.id, actor=lead, signatory_name="张三", signature_png=png_bytes()
        )
    assert any("code" in d["message"] or "扫" in d["message"] for d in err.value.details)


def test_the_qr_code_and_the_arrival_page(app, make):
    with app.app_context():
        unit = make.unit()
        lead = make.user(role="inspector")
        make.inspection(unit=unit, members=[lead, make.user(role="inspector")])
        office = make.user(role="coordinator")
        unit_id, code = unit.id, arrival.arrival_code(unit)
        names = lead.username, office.username
    b = Browser(app.test_client())
    b.login(names[1])
    svg = b.get(f"/directory/units/{unit_id}/arrival-code.svg")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    assert b"<svg" in svg.get_data()
    assert code in b.get(f"/directory/units/{unit_id}").get_data(as_text=True)
    inspector = Browser(app.test_client())
    inspector.login(names[0])
    page = inspector.get(f"/inspections/arrive?code={code}").get_data(as_text=True)
    assert f'value="{code}"' in page
    assert inspector.post("/inspections/arrive", {"code": code}).status_code == 409  # not today
    with app.app_context():
        assert db.session.query(Inspection).one().visit.arrived_at is None
        assert db.session.get(Unit, unit_id) and db.session.query(User).count() >= 3
