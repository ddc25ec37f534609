"""Logins live on the server: logout ends this login on every cookie, idle timeout, absolute
lifetime, "log out my other devices", and what password changes and deactivation end."""

from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa

from inspect_app import create_app
from inspect_app.auth import services
from inspect_app.extensions import db
from inspect_app.models import AuditEvent, LoginSession, User

from ..conftest import TEST_PASSWORD, Browser, make_test_config
from .conftest import cookie


def _login(app, username, *, remember=False) -> Browser:
    b = Browser(app.test_client())
    data = {"username": username, "password": TEST_PASSWORD}
    if remember:
        data["remember"] = "y"
    response = b.post("/auth/login", data)
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    b._token = None
    return b


def _with_cookie(app, name: str, value: str):
    client = app.test_client()
    client.set_cookie(name, value)
    return client


def _events(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)))


# --- review 4-A, exactly ------------------------------------------------------------------------


def test_session_cookie_saved_before_logout_no_longer_works_after_logout(app, make):
    with app.app_context():
        make.user(role="coordinator", username="coordinator")
    b = _login(app, "coordinator")
    saved = cookie(b.client, "session")
    assert _with_cookie(app, "session", saved).get("/api/v1/me").status_code == 200
    assert b.post("/auth/logout").status_code == 302

    replay = _with_cookie(app, "session", saved)
    api = replay.get("/api/v1/me")
    assert api.status_code == 401
    assert api.get_json()["error"]["code"] == "unauthorized"
    page = _with_cookie(app, "session", saved).get("/directory/users")
    assert page.status_code == 302 and "/auth/login" in page.headers["Location"]


def test_remember_cookie_saved_before_logout_is_refused_after_logout(app, make):
    with app.app_context():
        make.user(role="inspector", username="inspector3")
    b = _login(app, "inspector3", remember=True)
    remember = cookie(b.client, "remember_token")
    assert remember
    # Before logout the remember cookie alone logs in (a new browser session).
    assert _with_cookie(app, "remember_token", remember).get("/api/v1/me").status_code == 200
    b.post("/auth/logout")
    assert _with_cookie(app, "remember_token", remember).get("/api/v1/me").status_code == 401
    assert _with_cookie(app, "remember_token", remember).get("/").status_code == 302


def test_logout_on_one_device_leaves_the_others_logged_in(app, make):
    with app.app_context():
        make.user(role="viewer", username="v")
    laptop, tablet = _login(app, "v"), _login(app, "v")
    laptop.post("/auth/logout")
    assert laptop.get("/api/v1/me").status_code == 401
    assert tablet.get("/api/v1/me").status_code == 200
    with app.app_context():
        rows = db.session.scalars(sa.select(LoginSession).order_by(LoginSession.id)).all()
        assert [r.end_reason for r in rows] == ["logout", ""]
    assert len(_events(app, "auth.logout")) == 1


def test_login_session_stores_only_a_hash_of_its_token(app, make):
    with app.app_context():
        make.user(role="viewer", username="v")
    b = _login(app, "v", remember=True)
    with app.app_context():
        row = db.session.scalar(sa.select(LoginSession))
        assert row.remember and len(row.token_hash) == 64
    with b.client.session_transaction() as sess:
        user_id = sess["_user_id"]
    token = user_id.split(":")[2]
    assert token not in row.token_hash and row.token_hash != token


def test_a_cookie_of_the_old_id_format_loads_nobody(app, make):
    with app.app_context():
        user = make.user(role="viewer", username="v")
        assert services.session_user(f"{user.id}:{user.session_token}") == (None, None)
        assert services.session_user("nonsense") == (None, None)


# --- idle timeout and absolute lifetime ---------------------------------------------------------


def test_session_ends_after_the_idle_timeout(app, make, clock):
    with app.app_context():
        make.user(role="inspector", username="field")
    b = _login(app, "field")
    clock.advance(minutes=59)
    assert b.get("/api/v1/me").status_code == 200  # activity resets the idle clock
    clock.advance(minutes=59)
    assert b.get("/api/v1/me").status_code == 200
    clock.advance(minutes=60, seconds=1)
    api = b.get("/api/v1/me")
    assert api.status_code == 401 and api.get_json()["error"]["code"] == "unauthorized"
    page = b.get("/inspections/")
    assert page.status_code == 302 and "/auth/login" in page.headers["Location"]
    [event] = _events(app, "auth.session_ended")
    assert event.after["reason"] == "idle"
    with app.app_context():
        assert db.session.scalar(sa.select(LoginSession)).end_reason == "idle"


def test_idle_logout_says_why_on_the_login_page(app, make, clock):
    with app.app_context():
        make.user(role="inspector", username="field")
    b = _login(app, "field")
    clock.advance(hours=2)
    html = b.get("/inspections/", follow_redirects=True).get_data(as_text=True)
    assert "分钟无操作" in html


def test_session_ends_at_the_absolute_lifetime_even_when_active(app, make, clock):
    with app.app_context():
        make.user(role="inspector", username="busy")
    b = _login(app, "busy", remember=True)
    for _ in range(14):  # active every 50 minutes: 11 h 40 min
        clock.advance(minutes=50)
        assert b.get("/api/v1/me").status_code == 200
    clock.advance(minutes=20)  # 12 h after the login
    assert b.get("/api/v1/me").status_code == 401
    [event] = _events(app, "auth.session_ended")
    assert event.after["reason"] == "expired"


def test_remember_cookie_stops_working_at_the_absolute_lifetime(app, make, clock):
    with app.app_context():
        make.user(role="inspector", username="keeper")
    b = _login(app, "keeper", remember=True)
    remember = cookie(b.client, "remember_token")
    clock.advance(minutes=50)
    assert _with_cookie(app, "remember_token", remember).get("/api/v1/me").status_code == 200
    clock.advance(hours=12)
    assert _with_cookie(app, "remember_token", remember).get("/api/v1/me").status_code == 401


def test_last_seen_is_written_at_most_once_a_minute(app, make, clock):
    with app.app_context():
        make.user(role="viewer", username="v")
    b = _login(app, "v")
    start = clock.now

    def last_seen():
        with app.app_context():
            return db.session.scalar(sa.select(LoginSession.last_seen_at))

    clock.advance(seconds=30)
    b.get("/api/v1/me")
    b.get("/")
    assert last_seen() == start
    clock.advance(seconds=31)
    b.get("/api/v1/me")
    assert last_seen() == start + timedelta(seconds=61)


def test_idle_timeout_and_lifetime_come_from_config(app, make, clock, monkeypatch):
    monkeypatch.setitem(app.config, "SESSION_IDLE_TIMEOUT", timedelta(minutes=5))
    with app.app_context():
        make.user(role="viewer", username="v")
    b = _login(app, "v")
    clock.advance(minutes=5)
    assert b.get("/api/v1/me").status_code == 401


# --- cookies ------------------------------------------------------------------------------------


def test_remember_cookie_is_httponly_lax_and_lasts_no_longer_than_a_login(app, make):
    with app.app_context():
        make.user(role="viewer", username="v")
    response = Browser(app.test_client()).post(
        "/auth/login", {"username": "v", "password": TEST_PASSWORD, "remember": "y"}
    )
    header = next(
        h for h in response.headers.getlist("Set-Cookie") if h.startswith("remember_token=")
    )
    assert "HttpOnly" in header and "SameSite=Lax" in header and "Secure" not in header
    assert app.config["REMEMBER_COOKIE_DURATION"] <= app.config["SESSION_ABSOLUTE_LIFETIME"]


def test_remember_cookie_is_secure_with_secure_session_cookies_and_clamped_to_the_lifetime(
    database_url, tmp_path
):
    config = {
        **make_test_config(database_url, tmp_path),
        "SESSION_COOKIE_SECURE": True,
        "REMEMBER_COOKIE_DURATION": timedelta(days=30),
        "SESSION_ABSOLUTE_LIFETIME": 8 * 3600,  # seconds, as an environment variable gives it
    }
    app = create_app(config)
    assert app.config["REMEMBER_COOKIE_SECURE"] is True
    assert app.config["SESSION_ABSOLUTE_LIFETIME"] == timedelta(hours=8)
    assert app.config["REMEMBER_COOKIE_DURATION"] == timedelta(hours=8)
    with app.app_context():
        db.engine.dispose()


# --- ending other logins ------------------------------------------------------------------------


def test_log_out_my_other_devices_keeps_this_one_and_ends_the_rest(app, make):
    with app.app_context():
        make.user(role="coordinator", username="chen")
    office, tablet, phone = (
        _login(app, "chen"),
        _login(app, "chen", remember=True),
        _login(app, "chen"),
    )
    remember = cookie(tablet.client, "remember_token")
    page = office.get("/auth/password").get_data(as_text=True)
    assert "退出我的其他设备" in page and "本设备" in page
    response = office.post("/auth/sessions/end-others", follow_redirects=True)
    assert "2 个其他登录已结束" in response.get_data(as_text=True)
    assert office.get("/api/v1/me").status_code == 200
    assert tablet.get("/api/v1/me").status_code == 401
    assert phone.get("/api/v1/me").status_code == 401
    assert _with_cookie(app, "remember_token", remember).get("/api/v1/me").status_code == 401
    [event] = _events(app, "auth.sessions_ended")
    assert event.after == {"ended": 2, "kept_this_one": True}


def test_log_out_other_devices_needs_a_csrf_token(app, make):
    with app.app_context():
        make.user(role="viewer", username="v")
    b, other = _login(app, "v"), _login(app, "v")
    assert b.client.post("/auth/sessions/end-others").status_code == 400
    assert other.get("/api/v1/me").status_code == 200


def test_account_page_lists_open_logins_only(app, make):
    with app.app_context():
        make.user(role="viewer", username="v")
    gone, here = _login(app, "v"), _login(app, "v")
    gone.post("/auth/logout")
    html = here.get("/auth/password").get_data(as_text=True)
    assert len(re.findall(r"<li>\s*<strong>", html)) == 1


def test_password_change_ends_the_remember_cookie_of_other_devices(app, make):
    with app.app_context():
        make.user(role="coordinator", username="chen")
    laptop, tablet = _login(app, "chen"), _login(app, "chen", remember=True)
    remember = cookie(tablet.client, "remember_token")
    new = "plum-kettle-harbour-9"
    laptop.post("/auth/password", {"current": TEST_PASSWORD, "new": new, "confirm": new})
    assert laptop.get("/api/v1/me").status_code == 200
    assert _with_cookie(app, "remember_token", remember).get("/api/v1/me").status_code == 401
    with app.app_context():
        reasons = db.session.scalars(sa.select(LoginSession.end_reason)).all()
        assert sorted(reasons) == ["", "password_changed"]


def test_admin_password_reset_ends_every_login_of_the_account(app, make):
    with app.app_context():
        victim = make.user(role="inspector", username="lost")
        victim_id = victim.id
        make.user(role="admin", username="root")
    device = _login(app, "lost", remember=True)
    admin = _login(app, "root")
    new = "plum-kettle-harbour-9"
    response = admin.post(
        f"/directory/users/{victim_id}/password", {"password": new, "confirm": new}
    )
    assert response.status_code == 302
    assert device.get("/api/v1/me").status_code == 401
    with app.app_context():
        row = db.session.scalar(sa.select(LoginSession).where(LoginSession.user_id == victim_id))
        assert row.end_reason == "password_reset"


def test_ending_all_sessions_rotates_the_user_token(app, make):
    with app.app_context():
        user = make.user(role="viewer", username="v")
        before = user.session_token
        services.end_sessions(user, reason="deactivated")
        db.session.commit()
        assert db.session.get(User, user.id).session_token != before


def test_logins_ended_or_silent_longer_than_the_retention_are_pruned_daily(app, make):
    """Login records are kept for LOGIN_SESSION_RETENTION_DAYS (184: any six calendar months,
    the network logs 网络安全法 asks for), then deleted by a daily task, on record as one event."""
    from inspect_app.models import utcnow

    now = utcnow()
    with app.app_context():
        user = make.user()
        rows = {
            "ended long ago": dict(ended_at=now - timedelta(days=185), end_reason="logout"),
            "ended lately": dict(ended_at=now - timedelta(days=183), end_reason="logout"),
            "silent long ago": dict(last_seen_at=now - timedelta(days=185)),
            "open": dict(),
        }
        ids = {}
        for name, values in rows.items():
            row = LoginSession(user_id=user.id, token_hash=f"{name:x<64}"[:64], **values)
            db.session.add(row)
            db.session.flush()
            ids[name] = row.id
        db.session.commit()
        assert services.prune_sessions(now=now) == 2
        left = set(
            db.session.scalars(sa.select(LoginSession.id).where(LoginSession.user_id == user.id))
        )
        assert left == {ids["ended lately"], ids["open"]}
        [event] = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "auth.sessions_pruned")
        ).all()
        assert event.after == {"deleted": 2, "retention_days": 184}
        assert services.prune_sessions(now=now) == 0  # nothing left to prune: no event
        assert (
            db.session.scalar(
                sa.select(sa.func.count()).where(AuditEvent.action == "auth.sessions_pruned")
            )
            == 1
        )
    runtime = app.extensions["jobs"]
    periodic = {task.name: task for task in runtime.huey._registry.periodic_tasks}
    from datetime import datetime

    task = periodic[services.PRUNE_TASK]
    assert task.validate_datetime(datetime(2026, 12, 7, 3, 17))
    assert not task.validate_datetime(datetime(2026, 12, 7, 4, 17))


def test_a_retention_that_is_not_a_number_of_days_stops_the_start():
    import pytest

    from inspect_app import ConfigurationError

    for bad in (0, "184", 184.5, 183):  # 183 days: shorter than some six months
        with pytest.raises(ConfigurationError, match="LOGIN_SESSION_RETENTION_DAYS"):
            create_app(
                {
                    "TESTING": True,
                    "SQLALCHEMY_DATABASE_URI": "sqlite://",
                    "LOGIN_SESSION_RETENTION_DAYS": bad,
                }
            )


def test_a_login_survives_rotating_secret_key_while_the_old_one_is_a_fallback(
    app, login_as, monkeypatch
):
    b = login_as("coordinator")
    old_key = app.config["SECRET_KEY"]
    monkeypatch.setitem(app.config, "SECRET_KEY", "a-new-secret-key-after-rotation-0123456789")
    monkeypatch.setitem(app.config, "SECRET_KEY_FALLBACKS", [old_key])
    assert b.get("/api/v1/me").status_code == 200
    monkeypatch.setitem(app.config, "SECRET_KEY_FALLBACKS", [])
    assert b.get("/api/v1/me").status_code == 401


def test_one_string_as_secret_key_fallbacks_is_one_key(tmp_path, new_database_url):
    config = make_test_config(new_database_url(), tmp_path)
    app = create_app({**config, "SECRET_KEY_FALLBACKS": "an-old-secret-key-0123456789"})
    assert app.config["SECRET_KEY_FALLBACKS"] == ["an-old-secret-key-0123456789"]
