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
