"""Account administration: who may manage whom, memberships, password resets that end sessions."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from inspect_app.directory import services
from inspect_app.errors import NotAllowed, ValidationFailed
from inspect_app.extensions import db
from inspect_app.models import AuditEvent, User
from tests.conftest import TEST_PASSWORD, Browser

NEW_PASSWORD = "another-horse-77"


def new_account(**kw) -> dict:
    data = {
        "username": "newbie",
        "display_name": "新同事",
        "role": "viewer",
        "department_code": "",
        "unit_code": "",
        "certificate_no": "",
        "password": NEW_PASSWORD,
        "confirm": NEW_PASSWORD,
    }
    data.update(kw)
    return data


def edit_values(user: User, **kw) -> dict:
    data = {
        "display_name": user.display_name,
        "role": user.role,
        "department_code": user.department.code if user.department else "",
        "unit_code": user.unit.code if user.unit else "",
        "certificate_no": user.certificate_no,
        "active": user.is_active_flag,
    }
    data.update(kw)
    return data


def test_users_list_filters_by_role(login_as, app, make):
    with app.app_context():
        make.user(role="inspector", username="insp-a")
        make.user(role="viewer", username="view-b")
    b = login_as("admin")
    html = b.get("/directory/users?role=inspector").get_data(as_text=True)
    assert "insp-a" in html and "view-b" not in html


def test_coordinator_creates_an_inspector_with_department_and_certificate(login_as, app, make):
    with app.app_context():
        make.department(code="PSB")
    b = login_as("coordinator")
    data = new_account(role="inspector", department_code="PSB", certificate_no="粤执字0001")
    response = b.post("/directory/users/new", data)
    assert response.status_code == 302
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.username == "newbie"))
        assert user.department.code == "PSB" and user.certificate_no == "粤执字0001"
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "user.create"))
        assert event.actor_id == b.user_id
    Browser(app.test_client()).login("newbie", NEW_PASSWORD)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"role": "inspector"}, "department_code"),
        ({"role": "unit"}, "unit_code"),
        ({"role": "viewer", "unit_code": "U1"}, "unit_code"),
        ({"password": "short", "confirm": "short"}, "password"),
        ({"confirm": "different-horse-1"}, "confirm"),
    ],
)
def test_account_input_that_does_not_fit_the_role_is_refused(login_as, app, make, overrides, field):
    with app.app_context():
        make.unit(code="U1")
    response = login_as("admin").post("/directory/users/new", new_account(**overrides))
    assert response.status_code == 400
    assert f'id="{field}-error"' in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(User).where(User.username == "newbie")) is None


def test_a_taken_username_is_refused(login_as, app, make):
    with app.app_context():
        make.user(role="viewer", username="newbie")
    response = login_as("admin").post("/directory/users/new", new_account())
    assert response.status_code == 400
    assert 'id="username-error"' in response.get_data(as_text=True)


def test_coordinator_may_not_create_admins_or_coordinators(rctx, make):
    coordinator = make.user(role="coordinator")
    for role in ("admin", "coordinator"):
        with pytest.raises(NotAllowed):
            services.create_account(new_account(role=role, username=f"x-{role}"), actor=coordinator)


def test_coordinator_is_not_offered_office_roles_and_cannot_post_them(login_as):
    b = login_as("coordinator")
    html = b.get("/directory/users/new").get_data(as_text=True)
    assert 'value="admin"' not in html and 'value="coordinator"' not in html
    assert b.post("/directory/users/new", new_account(role="admin")).status_code == 400


def test_coordinator_gets_403_on_an_admin_account(login_as, app, make):
    with app.app_context():
        admin_id = make.user(role="admin").id
    b = login_as("coordinator")
    assert b.get(f"/directory/users/{admin_id}/edit").status_code == 403
    assert (
        b.post(
            f"/directory/users/{admin_id}/password",
            {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        ).status_code
        == 403
    )


def test_admin_may_create_a_coordinator(rctx, make):
    admin = make.user(role="admin")
    user = services.create_account(new_account(role="coordinator"), actor=admin)
    assert user.role == "coordinator"


def test_admin_moves_a_unit_liaison_to_another_unit(rctx, make):
    admin = make.user(role="admin")
    make.unit(code="NEWU")
    liaison = make.user(role="unit")
    services.update_account(liaison.id, edit_values(liaison, unit_code="NEWU"), actor=admin)
    assert liaison.unit.code == "NEWU"
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "user.update"))
    assert event.after == {"unit_code": "NEWU"}


def test_admin_cannot_demote_or_deactivate_themselves(rctx, make):
    admin = make.user(role="admin")
    with pytest.raises(ValidationFailed) as info:
        services.update_account(
            admin.id, edit_values(admin, role="viewer", active=False), actor=admin
        )
    assert set(info.value.details) == {"role", "active"}


def test_resetting_a_password_ends_that_users_sessions(login_as, app):
    victim = login_as("inspector")
    assert victim.get("/directory/my-unit").status_code == 403  # logged in: a page answers
    admin = login_as("admin")
    response = admin.post(
        f"/directory/users/{victim.user_id}/password",
        {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert response.status_code == 302
    after = victim.get("/directory/my-unit")
    assert after.status_code == 302 and "/auth/login" in after.headers["Location"]
    Browser(app.test_client()).login(victim.username, NEW_PASSWORD)
    with app.app_context():
        event = db.session.scalar(
            sa.select(AuditEvent).where(AuditEvent.action == "user.password_reset")
        )
        assert event.object_id == str(victim.user_id) and event.after is None


def test_a_weak_reset_password_is_refused(login_as, app):
    victim = login_as("viewer")
    response = login_as("admin").post(
        f"/directory/users/{victim.user_id}/password", {"password": "abc", "confirm": "abc"}
    )
    assert response.status_code == 400
    Browser(app.test_client()).login(victim.username, TEST_PASSWORD)


def test_deactivating_an_account_ends_its_sessions(login_as, app):
    victim = login_as("viewer")
    coordinator = login_as("coordinator")
    with app.app_context():
        values = edit_values(db.session.get(User, victim.user_id), active="")
    values.pop("active")
    response = coordinator.post(f"/directory/users/{victim.user_id}/edit", values)
    assert response.status_code == 302
    assert victim.get("/directory/units").status_code == 302
    with app.app_context():
        assert db.session.get(User, victim.user_id).is_active_flag is False


def test_an_account_gets_an_email_address_for_reminders_and_it_can_be_changed(login_as, app, make):
    b = login_as("coordinator")
    response = b.post("/directory/users/new", new_account(email=" li.si@example.cn "))
    assert response.status_code == 302
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.username == "newbie"))
        assert user.email == "li.si@example.cn"
        values = edit_values(user, email="lisi@unit.example.cn")
        user_id = user.id
    assert 'value="li.si@example.cn"' in b.get(f"/directory/users/{user_id}/edit").get_data(
        as_text=True
    )
    assert "li.si@example.cn" in b.get("/directory/users").get_data(as_text=True)
    assert b.post(f"/directory/users/{user_id}/edit", values).status_code == 302
    with app.app_context():
        assert db.session.get(User, user_id).email == "lisi@unit.example.cn"
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "user.update"))
        assert event.before == {"email": "li.si@example.cn"}
        assert event.after == {"email": "lisi@unit.example.cn"}
    with app.app_context():
        values = edit_values(db.session.get(User, user_id), email="")
    assert b.post(f"/directory/users/{user_id}/edit", values).status_code == 302
    with app.app_context():
        assert db.session.get(User, user_id).email == ""


@pytest.mark.parametrize("address", ["not-an-address", "a b@example.cn", "x@" + "e" * 120 + ".cn"])
def test_a_malformed_email_address_is_refused_beside_its_field(login_as, app, make, address):
    b = login_as("admin")
    response = b.post("/directory/users/new", new_account(email=address))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'id="email-error"' in html
    with app.app_context():
        assert db.session.scalar(sa.select(User).where(User.username == "newbie")) is None
        liaison = make.user(role="viewer", email="ok@example.cn")
        values, user_id = edit_values(liaison, email=address), liaison.id
    assert b.post(f"/directory/users/{user_id}/edit", values).status_code == 400
    with app.app_context():
        assert db.session.get(User, user_id).email == "ok@example.cn"
