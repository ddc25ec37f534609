"""Account lockout: after 5 failed logins in a row the account is locked for a growing time,
kept in the database (so it holds across workers), with the same message as a wrong password;
an administrator (or a coordinator for the accounts they manage) unlocks it."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from inspect_app.auth import services
from inspect_app.extensions import db, limiter
from inspect_app.models import AuditEvent, User

from ..conftest import TEST_PASSWORD, Browser

GENERIC = "用户名或密码错误"


def _attempt(app, username, password):
    return Browser(app.test_client()).post(
        "/auth/login", {"username": username, "password": password}
    )


def _fail(app, username, times):
    for i in range(times):
        response = _attempt(app, username, f"wrong-guess-{i}")
        assert response.status_code == 200 and GENERIC in response.get_data(as_text=True)


def _user(app, username) -> User:
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.username == username))
        db.session.expunge(user)
        return user


def _actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)))


def test_five_failures_lock_the_account_with_the_same_message_as_a_wrong_password(app, make, clock):
    with app.app_context():
        make.user(role="inspector", username="target")
    _fail(app, "target", 5)
    b = Browser(app.test_client())
    locked = b.post("/auth/login", {"username": "target", "password": TEST_PASSWORD})
    assert locked.status_code == 200 and GENERIC in locked.get_data(as_text=True)
    assert b.get("/api/v1/me").status_code == 401
    wrong_unknown = _attempt(app, "nobody-here", "wrong-guess").get_data(as_text=True)
    assert GENERIC in wrong_unknown
    user = _user(app, "target")
    assert user.failed_logins == 5 and user.locked_until == clock.now + timedelta(minutes=1)


def test_the_lock_ends_by_itself_and_a_right_password_clears_the_count(app, make, clock):
    with app.app_context():
        make.user(role="inspector", username="target")
    _fail(app, "target", 5)
    clock.advance(seconds=61)
    assert _attempt(app, "target", TEST_PASSWORD).status_code == 302
    user = _user(app, "target")
    assert user.failed_logins == 0 and user.locked_until is None


def test_the_lock_grows_with_every_failure_after_the_threshold(app, make, clock):
    with app.app_context():
        make.user(role="inspector", username="target")
    _fail(app, "target", 5)
    expected = [2, 4, 8, 15, 15]  # minutes; LOGIN_LOCKOUT_MAX is 15
    for minutes in expected:
        clock.advance(minutes=16)
        _fail(app, "target", 1)
        assert _user(app, "target").locked_until == clock.now + timedelta(minutes=minutes)


def test_attempts_during_the_lock_do_not_extend_it(app, make, clock):
    with app.app_context():
        make.user(role="inspector", username="target")
    _fail(app, "target", 5)
    until = _user(app, "target").locked_until
    clock.advance(seconds=30)
    _fail(app, "target", 3)
    assert _user(app, "target").locked_until == until


def test_the_lock_is_in_the_database_not_in_the_rate_limiter(app, make, clock):
    with app.app_context():
        make.user(role="inspector", username="target")
    _fail(app, "target", 5)
    limiter.reset()  # another worker, or a restart: the rate limiter's counters are gone
    assert _attempt(app, "target", TEST_PASSWORD).status_code == 200


def test_failures_and_the_lock_are_audited(app, make, clock):
    with app.app_context():
        make.user(role="inspector", username="target")
    _fail(app, "target", 5)
    _attempt(app, "target", TEST_PASSWORD)
    actions = _actions(app)
    assert actions.count("auth.login_failed") == 6
    assert actions.count("auth.locked") == 1
    with app.app_context():
        locked = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "auth.locked"))
        assert locked.after["failures"] == 5
        last = db.session.scalar(
            sa.select(AuditEvent)
            .where(AuditEvent.action == "auth.login_failed")
            .order_by(AuditEvent.id.desc())
        )
        assert last.after == {"reason": "locked"}


def test_an_inactive_users_wrong_password_counts_like_any_other(app, make, clock):
    with app.app_context():
        make.user(role="viewer", username="gone", is_active_flag=False)
    _fail(app, "gone", 1)
    assert _user(app, "gone").failed_logins == 1


def test_admin_unlocks_an_account_and_it_is_audited(app, make, clock, login_as):
    with app.app_context():
        target = make.user(role="coordinator", username="target").id
    _fail(app, "target", 5)
    admin = login_as("admin")
    page = admin.get(f"/directory/users/{target}/sign-in").get_data(as_text=True)
    assert "解锁并清除失败次数" in page
    response = admin.post(f"/directory/users/{target}/sign-in", {"action": "unlock"})
    assert response.status_code == 302
    assert _attempt(app, "target", TEST_PASSWORD).status_code == 302
    with app.app_context():
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "user.unlock"))
        assert event.actor_id == admin.user_id and event.before["failures"] == 5


def test_coordinator_unlocks_an_inspector_but_not_an_admin(app, make, clock, login_as):
    with app.app_context():
        inspector = make.user(role="inspector", username="insp").id
        admin = make.user(role="admin", username="boss").id
    _fail(app, "insp", 5)
    _fail(app, "boss", 5)
    limiter.reset()  # ten failures from this test client's address: the per-IP limit is full
    coordinator = login_as("coordinator")
    assert (
        coordinator.post(f"/directory/users/{inspector}/sign-in", {"action": "unlock"}).status_code
        == 302
    )
    assert _user(app, "insp").locked_until is None
    assert (
        coordinator.post(f"/directory/users/{admin}/sign-in", {"action": "unlock"}).status_code
        == 403
    )
    assert _user(app, "boss").locked_until is not None


def test_unlock_needs_a_csrf_token(app, make, clock, login_as):
    with app.app_context():
        target = make.user(role="inspector", username="insp").id
    _fail(app, "insp", 5)
    admin = login_as("admin")
    response = admin.client.post(f"/directory/users/{target}/sign-in", data={"action": "unlock"})
    assert response.status_code == 400
    assert _user(app, "insp").locked_until is not None


def test_users_unlock_on_the_command_line(app, make, clock):
    with app.app_context():
        make.user(role="admin", username="root")
    _fail(app, "root", 5)
    result = app.test_cli_runner().invoke(args=["users", "unlock", "root"])
    assert result.exit_code == 0, result.output
    assert _user(app, "root").locked_until is None
    bad = app.test_cli_runner().invoke(args=["users", "unlock", "nobody"])
    assert bad.exit_code == 1


def test_lockout_threshold_and_times_come_from_config(app, make, clock, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_LOCKOUT_THRESHOLD", 2)
    monkeypatch.setitem(app.config, "LOGIN_LOCKOUT_BASE", timedelta(minutes=5))
    with app.app_context():
        make.user(role="viewer", username="v")
    _fail(app, "v", 2)
    assert _user(app, "v").locked_until == clock.now + timedelta(minutes=5)


def test_the_login_page_tells_about_the_lock_without_naming_an_account(client):
    html = client.get("/auth/login").get_data(as_text=True)
    assert "连续 5 次输错后，账号将被锁定几分钟" in html


def test_services_lock_even_when_called_directly(app, make, clock):
    with app.app_context():
        make.user(role="viewer", username="v")
        for _ in range(5):
            assert services.log_in_with_password("v", "nope-nope-nope") is None
        assert services.log_in_with_password("v", TEST_PASSWORD) is None
