"""Department pages: list, create and edit, with a unique code."""

import sqlalchemy as sa

from inspect_app.extensions import db
from inspect_app.models import AuditEvent, Department


def test_coordinator_adds_and_renames_a_department(login_as, app):
    b = login_as("coordinator")
    response = b.post(
        "/directory/departments/new", {"code": "CAC", "name": "网信办", "name_en": "CAC"}
    )
    assert response.status_code == 302
    assert "网信办" in b.get("/directory/departments").get_data(as_text=True)
    with app.app_context():
        dept_id = db.session.scalar(sa.select(Department.id).where(Department.code == "CAC"))
    response = b.post(
        f"/directory/departments/{dept_id}/edit",
        {"code": "CAC", "name": "市委网信办", "name_en": "CAC"},
    )
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Department, dept_id).name == "市委网信办"
        actions = db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)).all()
        assert [a for a in actions if a.startswith("department.")] == [
            "department.create",
            "department.update",
        ]


def test_a_department_code_must_be_unique_and_present(login_as, app, make):
    with app.app_context():
        make.department(code="PSB", name="公安局")
    b = login_as("coordinator")
    response = b.post("/directory/departments/new", {"code": "PSB", "name": "另一个"})
    assert response.status_code == 400
    assert "has-error" in response.get_data(as_text=True)
    assert b.post("/directory/departments/new", {"code": "", "name": "无编号"}).status_code == 400
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Department.id))) == 1


def test_viewer_reads_departments_but_cannot_add_one(login_as):
    b = login_as("viewer")
    html = b.get("/directory/departments").get_data(as_text=True)
    assert "/directory/departments/new" not in html
    assert b.get("/directory/departments/new").status_code == 403


def test_a_sector_regulator_is_a_department_kind_with_its_sector(login_as, app):
    b = login_as("coordinator")
    response = b.post(
        "/directory/departments/new",
        {"code": "NEA", "name": "国家能源局新疆监管办", "kind": "regulator", "sector": "电力"},
    )
    assert response.status_code == 302
    html = b.get("/directory/departments").get_data(as_text=True)
    assert "行业主管监管部门" in html and "（电力）" in html
    with app.app_context():
        department = db.session.scalar(sa.select(Department).where(Department.code == "NEA"))
        assert (department.kind, department.sector) == ("regulator", "电力")


def test_a_regulator_needs_its_sector_and_a_kind_must_be_known(login_as, app):
    b = login_as("coordinator")
    response = b.post(
        "/directory/departments/new", {"code": "REG", "name": "某监管部门", "kind": "regulator"}
    )
    assert response.status_code == 400
    assert "请填写该部门监管的行业" in response.get_data(as_text=True)
    response = b.post(
        "/directory/departments/new", {"code": "REG", "name": "某监管部门", "kind": "boss"}
    )
    assert response.status_code == 400
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Department.id))) == 0


def test_a_visit_to_a_unit_in_a_regulated_sector_lacks_its_regulator(ctx, make):
    from inspect_app.directory.services import missing_regulators

    cac = make.department(code="CAC", name="网信办")
    nea = make.department(code="NEA", name="能源监管办", kind="regulator", sector="电力")
    make.department(code="HEA", name="卫健委", kind="regulator", sector="医疗卫生")
    power = make.unit(kind="soe", sector="电力")
    office = make.unit(kind="party_gov", sector="")
    assert missing_regulators(power, [cac]) == [nea]
    assert missing_regulators(power, [cac, nea]) == []
    assert missing_regulators(office, [cac]) == []
