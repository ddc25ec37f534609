"""Login, logout, sessions, password change and the login rate limit."""

import re

from inspect_app.extensions import db
from inspect_app.models import AuditEvent, User

from ..conftest import TEST_PASSWORD, Browser


def _session_sid(client) -> str | None:
    with client.session_transaction() as sess:
        return sess.get("sid")


def test_login_with_right_password_redirects_home(app, make, web):
    with app.app_context():
        make.user(role="coordinator", username="chen")
    response = web.login("chen")
    assert response.headers["Location"] == "/"
    assert web.get("/").status_code == 200


def test_failed_login_gives_the_same_generic_message_for_unknown_user_and_wrong_password(
    app, make, web
):
    with app.app_context():
        make.user(role="coordinator", username="chen")
    wrong = web.post("/auth/login", {"username": "chen", "password": "nope-nope"})
    unknown = web.post("/auth/login", {"username": "nobody", "password": "nope-nope"})
    for response in (wrong, unknown):
        assert response.status_code == 200
        assert "用户名或密码错误" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(AuditEvent).filter_by(action="auth.login_failed").count() == 2


def test_inactive_user_cannot_log_in(app, make, web):
    with app.app_context():
        make.user(role="viewer", username="gone", is_active_flag=False)
    response = web.post("/auth/login", {"username": "gone", "password": TEST_PASSWORD})
    assert response.status_code == 200
    assert "用户名或密码错误" in response.get_data(as_text=True)


def test_login_without_csrf_token_is_refused(app, make, client):
    with app.app_context():
        make.user(role="viewer", username="v")
    response = client.post("/auth/login", data={"username": "v", "password": TEST_PASSWORD})
    assert response.status_code == 400
    assert _session_sid(client) is None


def test_session_identifier_changes_at_login(app, make, web):
    with app.app_context():
        make.user(role="viewer", username="v")
    with web.client.session_transaction() as sess:
        sess["sid"] = "attacker-fixed"
    web.login("v")
    sid = _session_sid(web.client)
    assert sid and sid != "attacker-fixed"


def test_logout_needs_post(app, make, web):
    with app.app_context():
        make.user(role="viewer", username="v")
    web.login("v")
    assert web.get("/auth/logout").status_code == 405
    assert web.post("/auth/logout").status_code == 302
    assert web.get("/").status_code == 302  # back to the login page


def test_next_parameter_only_redirects_inside_the_site(app, make, web):
    with app.app_context():
        make.user(role="viewer", username="v")
    token = web.token()
    response = web.client.post(
        "/auth/login?next=https://evil.example/",
        data={"username": "v", "password": TEST_PASSWORD, "csrf_token": token},
    )
    assert response.headers["Location"] == "/"


def test_password_change_ends_other_sessions_but_keeps_this_one(app, make):
    with app.app_context():
        make.user(role="coordinator", username="chen")
    laptop, tablet = Browser(app.test_client()), Browser(app.test_client())
    laptop.login("chen")
    tablet.login("chen")
    response = laptop.post(
        "/auth/password",
        {"current": TEST_PASSWORD, "new": "a-brand-new-secret", "confirm": "a-brand-new-secret"},
    )
    assert response.status_code == 302
    assert laptop.get("/").status_code == 200
    assert tablet.get("/").status_code == 302
    with app.app_context():
        assert db.session.query(AuditEvent).filter_by(action="auth.password_changed").count() == 1


def test_password_change_with_wrong_current_password_changes_nothing(app, make, web):
    with app.app_context():
        before = make.user(role="coordinator", username="chen").password_hash
    web.login("chen")
    response = web.post(
        "/auth/password",
        {"current": "wrong-one!", "new": "a-brand-new-secret", "confirm": "a-brand-new-secret"},
    )
    assert response.status_code == 400
    assert "当前密码不正确" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(User).filter_by(username="chen").one().password_hash == before


def test_too_short_new_password_is_refused(app, make, web):
    with app.app_context():
        make.user(role="coordinator", username="chen")
    web.login("chen")
    response = web.post(
        "/auth/password", {"current": TEST_PASSWORD, "new": "short", "confirm": "short"}
    )
    assert response.status_code == 400
    assert "至少需要 12 个字符" in response.get_data(as_text=True)


def test_eleventh_failed_login_in_a_minute_for_one_username_gets_429(app, make, web):
    with app.app_context():
        make.user(role="viewer", username="target")
    codes = [
        web.post("/auth/login", {"username": "target", "password": f"guess-{i}"}).status_code
        for i in range(11)
    ]
    assert codes[:10] == [200] * 10
    assert codes[10] == 429
    page = web.post("/auth/login", {"username": "target", "password": TEST_PASSWORD})
    assert page.status_code == 429
    assert "尝试次数过多" in page.get_data(as_text=True)


def test_eleventh_failed_login_from_one_ip_gets_429_across_usernames(app, web):
    codes = [
        web.post("/auth/login", {"username": f"user{i}", "password": "guess-guess"}).status_code
        for i in range(11)
    ]
    assert codes[10] == 429


def test_successful_logins_do_not_count_against_the_limit(app, make):
    with app.app_context():
        make.user(role="viewer", username="v")
    for _ in range(12):
        b = Browser(app.test_client())
        assert b.login("v").status_code == 302


def test_session_cookie_is_httponly_and_lax(app, make, web):
    with app.app_context():
        make.user(role="viewer", username="v")
    response = web.post("/auth/login", {"username": "v", "password": TEST_PASSWORD})
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))
    assert "HttpOnly" in cookie
    assert re.search(r"SameSite=Lax", cookie)
    assert "Secure" not in cookie


def test_language_setting_is_saved_on_the_user(app, make, web):
    with app.app_context():
        make.user(role="viewer", username="v")
    web.login("v")
    web.post("/auth/language", {"lang": "en"})
    fresh = Browser(app.test_client())
    fresh.login("v")
    assert 'lang="en"' in fresh.get("/").get_data(as_text=True)
    with app.app_context():
        assert db.session.query(User).filter_by(username="v").one().locale == "en"
