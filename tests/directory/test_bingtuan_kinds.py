"""团场, 团镇 and 连队 in the registry: the form, the list filter and the Excel import."""

from __future__ import annotations

from io import BytesIO

import sqlalchemy as sa
from openpyxl import load_workbook

from inspect_app.directory import importer
from inspect_app.directory.importer import import_units
from inspect_app.extensions import db
from inspect_app.models import AuditEvent, Unit


def test_coordinator_registers_a_regiment_town_from_the_form_and_it_is_audited(login_as, app):
    b = login_as("coordinator")
    form = b.get("/directory/units/new").get_data(as_text=True)
    assert "团场" in form and "团镇" in form and "连队" in form
    data = {"code": "TZ01", "name": "示例镇人民政府", "kind": "regiment_town", "active": "y"}
    assert b.post("/directory/units/new", data).status_code == 302
    with app.app_context():
        unit = db.session.scalar(sa.select(Unit).where(Unit.code == "TZ01"))
        assert unit.kind == "regiment_town"
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "unit.create"))
        assert event.after["kind"] == "regiment_town"
    html = b.get(f"/directory/units/{unit.id}").get_data(as_text=True)
    assert "团镇" in html
    html = b.get("/directory/units?kind=regiment_town").get_data(as_text=True)
    assert "示例镇人民政府" in html


def test_the_import_reads_the_bingtuan_kinds_by_their_chinese_names(rctx, make):
    actor = make.user(role="coordinator")
    wb = load_workbook(BytesIO(importer.build_template("units")))
    wb["单位"].append(["TC1", "示例师第一团", "团场", None, "是"])
    wb["单位"].append(["TC2", "示例镇", "团镇", None, "是"])
    wb["单位"].append(["TC3", "第三连", "连队", "TC1", "否"])
    out = BytesIO()
    wb.save(out)
    report = import_units(out.getvalue(), actor=actor)
    assert report.created == 3
    kinds = dict(db.session.execute(sa.select(Unit.code, Unit.kind)).all())
    assert (kinds["TC1"], kinds["TC2"], kinds["TC3"]) == ("regiment", "regiment_town", "company")
    assert db.session.scalar(sa.select(Unit).where(Unit.code == "TC3")).parent.code == "TC1"
