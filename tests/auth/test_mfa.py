"""Two-step login (TOTP) end to end: required roles enrol at their first login, codes and
recovery codes, replays refused, failures counted toward the lockout, resets by an admin."""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
import pytest
import sqlalchemy as sa

from inspect_app.auth import services, totp
from inspect_app.extensions import db
from inspect_app.models import AuditEvent, LoginSession, RecoveryCode, User

from ..conftest import TEST_PASSWORD, Browser
from ..directory.test_users import new_account
from .conftest import flashes

pytestmark = pytest.mark.usefixtures("mfa_roles")

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
NEW_PASSWORD = "another-horse-77"


def _password_step(app, username, password=TEST_PASSWORD, **extra) -> tuple[Browser, str]:
    b = Browser(app.test_client())
    response = b.post("/auth/login", {"username": username, "password": password, **extra})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    b._token = None
    return b, response.headers["Location"]


def _enrolled(make, role="admin", **kw) -> User:
    return make.user(role=role, mfa_secret=SECRET, mfa_enabled_at=services.utcnow(), **kw)


def _login_with_code(app, username, code, **extra) -> Browser:
    b, location = _password_step(app, username, **extra)
    assert location == "/auth/login/code"
    response = b.post("/auth/login/code", {"code": code})
    assert response.status_code == 302, flashes(response.get_data(as_text=True))
    return b


def _actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)))


def _secret_on(html: str) -> str:
    match = re.search(r'<code class="secret" id="mfa-secret">([A-Z2-7]+)</code>', html)
    assert match, "no secret on the page"
    return match.group(1)


def test_new_coordinator_is_forced_to_enrol_then_logs_in_with_codes_and_recovery_codes(
    app, make, clock
):
    # An admin (enrolled) creates a coordinator account.
    with app.app_context():
        _enrolled(make, username="root")
    admin = _login_with_code(app, "root", totp.code_at(SECRET, clock.now))
    created = admin.post(
        "/directory/users/new",
        new_account(username="newcoord", role="coordinator", department_code=""),
    )
    assert created.status_code == 302, flashes(created.get_data(as_text=True))

    # Password step: the coordinator is sent to enrolment and is not logged in yet.
    coord, location = _password_step(app, "newcoord", NEW_PASSWORD)
    assert location == "/auth/mfa"
    assert coord.get("/api/v1/me").status_code == 401
    page = coord.get("/directory/users")
    assert page.status_code == 302 and "/auth/login" in page.headers["Location"]
    assert coord.get("/auth/login/code").status_code == 302  # not the step this login is at

    # Enrolment: a secret made on the server, shown as a QR code (data: PNG) and as text.
    intro = coord.get("/auth/mfa").get_data(as_text=True)
    assert "设置两步登录" in intro and "mfa-secret" not in intro
    assert coord.post("/auth/mfa/start").status_code == 302
    html = coord.get("/auth/mfa").get_data(as_text=True)
    secret = _secret_on(html)
    assert 'src="data:image/png;base64,' in html and " style=" not in html
    assert coord.get("/auth/mfa").get_data(as_text=True).count(secret) == 1  # same secret again

    wrong = coord.post("/auth/mfa/confirm", {"code": "000000"}, follow_redirects=True)
    assert "验证码错误" in wrong.get_data(as_text=True)
    assert coord.get("/api/v1/me").status_code == 401

    done = coord.post("/auth/mfa/confirm", {"code": totp.code_at(secret, clock.now)})
    assert done.status_code == 200
    codes = re.findall(
        r"<li><code>([0-9A-Z]{4}(?:-[0-9A-Z]{4}){3})</code></li>", done.get_data(as_text=True)
    )
    assert len(codes) == 10 and len(set(codes)) == 10
    assert coord.get("/api/v1/me").get_json()["username"] == "newcoord"
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.username == "newcoord"))
        stored = db.session.scalars(
            sa.select(RecoveryCode.code_hash).where(RecoveryCode.user_id == user.id)
        ).all()
        assert len(stored) == 10 and not set(codes) & set(stored)
        assert totp.unseal(user.mfa_secret, user.id) == secret
        assert user.mfa_enabled_at == clock.now
    coord.post("/auth/logout")

    # Password + code. The code used for enrolment cannot be used again (replay).
    again, _ = _password_step(app, "newcoord", NEW_PASSWORD)
    replay = again.post("/auth/login/code", {"code": totp.code_at(secret, clock.now)})
    assert replay.status_code == 200 and "验证码错误或已被使用" in replay.get_data(as_text=True)
    clock.advance(seconds=30)
    assert (
        again.post("/auth/login/code", {"code": totp.code_at(secret, clock.now)}).status_code == 302
    )
    assert again.get("/api/v1/me").status_code == 200
    again.post("/auth/logout")

    # A wrong code is refused and counted.
    wrong_code, _ = _password_step(app, "newcoord", NEW_PASSWORD)
    refused = wrong_code.post("/auth/login/code", {"code": "123456"})
    assert refused.status_code == 200
    with app.app_context():
        assert db.session.get(User, user.id).failed_logins == 1

    # A recovery code works once (lower case and without hyphens is fine too).
    recovery = codes[0].replace("-", "").lower()
    assert wrong_code.post("/auth/login/code", {"code": recovery}).status_code == 302
    landing = wrong_code.get("/").get_data(as_text=True)
    assert "还剩 9 个" in landing, flashes(landing)
    with app.app_context():
        assert db.session.get(User, user.id).failed_logins == 0
    wrong_code.post("/auth/logout")
    reused, _ = _password_step(app, "newcoord", NEW_PASSWORD)
    assert reused.post("/auth/login/code", {"code": codes[0]}).status_code == 200
    assert reused.get("/api/v1/me").status_code == 401

    # The admin resets the coordinator's two-step login: sessions end, enrolment comes again.
    clock.advance(seconds=30)
    still_in = _login_with_code(
        app, "newcoord", totp.code_at(secret, clock.now), password=NEW_PASSWORD
    )
    reset = admin.post(f"/directory/users/{user.id}/sign-in", {"action": "reset_mfa"})
    assert reset.status_code == 302
    assert still_in.get("/api/v1/me").status_code == 401
    _, location = _password_step(app, "newcoord", NEW_PASSWORD)
    assert location == "/auth/mfa"
    with app.app_context():
        assert (
            db.session.scalar(
                sa.select(sa.func.count(RecoveryCode.id)).where(RecoveryCode.user_id == user.id)
            )
            == 0
        )

    actions = _actions(app)
    for action in (
        "auth.password_verified",
        "mfa.enrol_started",
        "mfa.enrol",
        "mfa.verify_failed",
        "mfa.recovery_used",
        "mfa.reset",
        "auth.login",
    ):
        assert action in actions, action


def test_login_of_an_enrolled_user_records_how_the_second_step_was_passed(app, make, clock):
    with app.app_context():
        _enrolled(make, username="root")
    _login_with_code(app, "root", totp.code_at(SECRET, clock.now))
    with app.app_context():
        assert db.session.scalar(sa.select(LoginSession.mfa)) == "totp"
        login = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "auth.login"))
        assert login.after["mfa"] == "totp"


def test_codes_from_the_step_before_and_after_are_accepted_but_not_older(app, make, clock):
    with app.app_context():
        _enrolled(make, username="root")
    previous = totp.code_at(SECRET, clock.now - timedelta(seconds=30))
    _login_with_code(app, "root", previous)
    b, _ = _password_step(app, "root")
    too_old = totp.code_at(SECRET, clock.now - timedelta(seconds=60))
    assert b.post("/auth/login/code", {"code": too_old}).status_code == 200
    assert (
        b.post(
            "/auth/login/code", {"code": totp.code_at(SECRET, clock.now + timedelta(seconds=30))}
        ).status_code
        == 302
    )


def test_half_logged_in_session_gets_401_on_the_api_and_nothing_else(app, make, clock):
    with app.app_context():
        _enrolled(make, username="root")
    b, _ = _password_step(app, "root")
    assert b.get("/api/v1/me").status_code == 401
    for url in ("/", "/directory/users", "/audit/", "/auth/password"):
        response = b.get(url)
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"], url
    assert b.post("/auth/sessions/end-others").status_code == 302  # to the login page
    # An enrolled user may not re-enrol from a half-way login (that would bypass the code).
    assert b.get("/auth/mfa").headers["Location"] == "/auth/login/code"
    assert b.post("/auth/mfa/start").headers["Location"] == "/auth/login/code"
    assert b.post("/auth/mfa/confirm", {"code": "123456"}).status_code == 302
    with app.app_context():
        root = db.session.scalar(sa.select(User).where(User.username == "root"))
        assert totp.unseal(root.mfa_secret, root.id) == SECRET


def test_the_second_step_expires(app, make, clock):
    with app.app_context():
        _enrolled(make, username="root")
    b, _ = _password_step(app, "root")
    clock.advance(minutes=11)
    response = b.post("/auth/login/code", {"code": totp.code_at(SECRET, clock.now)})
    assert response.status_code == 302 and response.headers["Location"] == "/auth/login"


def test_five_wrong_codes_lock_the_account(app, make, clock):
    with app.app_context():
        _enrolled(make, username="root")
    b, _ = _password_step(app, "root")
    for _ in range(5):
        b.post("/auth/login/code", {"code": "000000"})
    after = b.post("/auth/login/code", {"code": totp.code_at(SECRET, clock.now)})
    assert after.status_code == 302 and after.headers["Location"] == "/auth/login"
    fresh = Browser(app.test_client())
    assert (
        fresh.post("/auth/login", {"username": "root", "password": TEST_PASSWORD}).status_code
        == 200
    )
    actions = _actions(app)
    assert actions.count("mfa.verify_failed") == 5 and "auth.locked" in actions


def test_the_second_step_is_rate_limited(app, make, clock, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_LOCKOUT_THRESHOLD", 100)
    with app.app_context():
        _enrolled(make, username="root")
    b, _ = _password_step(app, "root")
    codes = [b.post("/auth/login/code", {"code": f"{i:06d}"}).status_code for i in range(11)]
    assert codes[:10] == [200] * 10 and codes[10] == 429


def test_optional_role_enrols_from_the_account_page(app, make, clock):
    with app.app_context():
        make.user(role="inspector", username="insp")
    b = Browser(app.test_client())
    b.login("insp")  # no second step for an inspector without two-step login
    account = b.get("/auth/password").get_data(as_text=True)
    assert "设置两步登录" in account
    b.post("/auth/mfa/start")
    secret = _secret_on(b.get("/auth/mfa").get_data(as_text=True))
    done = b.post("/auth/mfa/confirm", {"code": totp.code_at(secret, clock.now)})
    assert done.status_code == 200 and done.get_data(as_text=True).count("<li><code>") == 10
    assert b.get("/api/v1/me").status_code == 200  # the same login goes on
    b.post("/auth/logout")
    _, location = _password_step(app, "insp")
    assert location == "/auth/login/code"


def test_new_recovery_codes_replace_the_old_ones(app, make, clock):
    with app.app_context():
        user = _enrolled(make, username="root")
        old = totp.new_recovery_codes()
        for code in old:
            db.session.add(
                RecoveryCode(
                    user_id=user.id, code_hash=totp.digest(totp.normalise_recovery_code(code))
                )
            )
        db.session.commit()
    b = _login_with_code(app, "root", totp.code_at(SECRET, clock.now))
    clock.advance(seconds=30)
    response = b.post("/auth/mfa/recovery-codes", {"code": totp.code_at(SECRET, clock.now)})
    assert response.status_code == 200
    new = re.findall(r"<li><code>([0-9A-Z-]+)</code></li>", response.get_data(as_text=True))
    assert len(new) == 10
    b.post("/auth/logout")
    c, _ = _password_step(app, "root")
    assert c.post("/auth/login/code", {"code": old[0]}).status_code == 200
    assert c.post("/auth/login/code", {"code": new[0]}).status_code == 302
    assert "mfa.recovery_codes_renewed" in _actions(app)


def test_only_an_admin_resets_two_step_login_and_not_their_own(
    app, make, clock, login_as, monkeypatch
):
    monkeypatch.setitem(app.config, "MFA_REQUIRED_ROLES", ())  # this coordinator has no app
    with app.app_context():
        inspector = _enrolled(make, role="inspector", username="insp").id
    coordinator = login_as("coordinator")
    page = coordinator.get(f"/directory/users/{inspector}/sign-in").get_data(as_text=True)
    assert "重置两步登录" not in page
    assert (
        coordinator.post(
            f"/directory/users/{inspector}/sign-in", {"action": "reset_mfa"}
        ).status_code
        == 403
    )
    with app.app_context():
        assert db.session.get(User, inspector).mfa_enabled
        admin = _enrolled(make, username="root")
        with pytest.raises(Exception, match="另一位管理员"):
            services.reset_mfa(admin.id, actor=admin)


def test_users_reset_mfa_on_the_command_line(app, make, clock):
    with app.app_context():
        _enrolled(make, username="root")
    result = app.test_cli_runner().invoke(args=["users", "reset-mfa", "root"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.username == "root"))
        assert user.mfa_secret is None and not user.mfa_enabled
    _, location = _password_step(app, "root")
    assert location == "/auth/mfa"


def test_a_required_role_cannot_skip_enrolment_by_going_elsewhere(app, make, clock):
    with app.app_context():
        make.user(role="coordinator", username="chen")
    b, location = _password_step(app, "chen")
    assert location == "/auth/mfa"
    assert b.get("/").status_code == 302
    assert b.get("/api/v1/inspections").status_code in (401, 404)


def test_mfa_required_roles_come_from_config(app, make, monkeypatch):
    monkeypatch.setitem(app.config, "MFA_REQUIRED_ROLES", ("viewer",))
    with app.app_context():
        make.user(role="coordinator", username="chen")
        make.user(role="viewer", username="boss")
    assert _password_step(app, "chen")[1] == "/"
    assert _password_step(app, "boss")[1] == "/auth/mfa"


def test_totp_codes_match_an_authenticator_app(clock):
    # pyotp's own TOTP (what authenticator apps compute) agrees with ours.
    now = clock.now
    assert totp.code_at(SECRET, now) == pyotp.TOTP(SECRET).at(
        now.replace(tzinfo=__import__("datetime").UTC)
    )
    step = totp.step_at(now)
    assert totp.matching_step(SECRET, totp.code_at(SECRET, now), now, None) == step
    assert totp.matching_step(SECRET, totp.code_at(SECRET, now), now, step) is None
    assert totp.matching_step(SECRET, "12345", now, None) is None


# --- the secret sealed for the database -----------------------------------------------------------

NEW_KEY = "a-new-secret-key-after-rotation-0123456789"


def test_the_secret_is_stored_sealed_and_opens_only_for_its_own_account(app, make, clock):
    with app.app_context():
        user = make.user(role="inspector", username="insp")
        other = make.user(role="inspector", username="other")
        secret = services.begin_mfa_enrolment(user)
        stored = db.session.scalar(sa.select(User.mfa_secret).where(User.id == user.id))
        assert stored.startswith("s1:") and secret not in stored
        assert totp.unseal(stored, user.id) == secret
        with pytest.raises(totp.SecretUnreadable):
            totp.unseal(stored, other.id)
        # Sealed twice, the same secret is stored differently (a fresh nonce each time).
        assert totp.seal(secret, user.id) != totp.seal(secret, user.id)


def test_a_sealed_secret_copied_onto_another_account_does_not_give_its_codes(app, make, clock):
    """Someone who can write the database copies the secret they know onto an admin's row."""
    with app.app_context():
        mine = _enrolled(make, role="inspector", username="insp")
        root = make.user(role="admin", username="root", mfa_enabled_at=services.utcnow())
        root.mfa_secret = mine.mfa_secret
        db.session.commit()
    b, _ = _password_step(app, "root")
    response = b.post("/auth/login/code", {"code": totp.code_at(SECRET, clock.now)})
    assert response.status_code == 200  # still on the code step
    assert b.get("/api/v1/me").status_code == 401


def test_after_rotating_secret_key_codes_still_work_and_reseal_moves_them_to_the_new_key(
    app, make, clock, monkeypatch
):
    with app.app_context():
        _enrolled(make, username="root")
    old_key = app.config["SECRET_KEY"]
    monkeypatch.setitem(app.config, "SECRET_KEY", NEW_KEY)
    monkeypatch.setitem(app.config, "SECRET_KEY_FALLBACKS", [old_key])
    _login_with_code(app, "root", totp.code_at(SECRET, clock.now))

    result = app.test_cli_runner().invoke(args=["users", "reseal-mfa"])
    assert result.exit_code == 0, result.output
    assert "1 个已改用当前密钥加密，0 个原已使用当前密钥" in result.output
    assert _actions(app).count("mfa.secrets_resealed") == 1
    again = app.test_cli_runner().invoke(args=["users", "reseal-mfa"])
    assert again.exit_code == 0 and _actions(app).count("mfa.secrets_resealed") == 1

    monkeypatch.setitem(app.config, "SECRET_KEY_FALLBACKS", [])  # the old key dropped
    clock.advance(seconds=30)
    _login_with_code(app, "root", totp.code_at(SECRET, clock.now))


def test_a_secret_no_key_opens_is_explained_not_counted_and_a_recovery_code_still_works(
    app, make, clock, monkeypatch
):
    with app.app_context():
        user = _enrolled(make, username="root")
        recovery = totp.new_recovery_codes()[0]
        db.session.add(
            RecoveryCode(
                user_id=user.id, code_hash=totp.digest(totp.normalise_recovery_code(recovery))
            )
        )
        db.session.commit()
    monkeypatch.setitem(app.config, "SECRET_KEY", NEW_KEY)  # changed, the old one not kept
    b, _ = _password_step(app, "root")
    response = b.post("/auth/login/code", {"code": totp.code_at(SECRET, clock.now)})
    assert response.status_code == 200
    assert "恢复码" in " ".join(flashes(response.get_data(as_text=True)))
    assert "mfa.verify_failed" not in _actions(app)
    assert b.post("/auth/login/code", {"code": recovery}).status_code == 302
    assert b.get("/api/v1/me").status_code == 200

    result = app.test_cli_runner().invoke(args=["users", "reseal-mfa"])
    assert result.exit_code == 1 and "root" in result.output
    assert "mfa.secrets_resealed" not in _actions(app)


def test_an_unconfirmed_enrolment_whose_secret_no_longer_opens_starts_again(
    app, make, clock, monkeypatch
):
    with app.app_context():
        user = make.user(role="inspector", username="insp")
        first = services.begin_mfa_enrolment(user)
        monkeypatch.setitem(app.config, "SECRET_KEY", NEW_KEY)
        assert services.pending_mfa_secret(user) is None
        second = services.begin_mfa_enrolment(user)
        assert second != first and services.pending_mfa_secret(user) == second


def test_reseal_names_a_secret_under_the_current_key_that_does_not_open_for_its_account(
    app, make, clock
):
    with app.app_context():
        mine = _enrolled(make, role="inspector", username="insp")
        other = make.user(role="inspector", username="other", mfa_enabled_at=services.utcnow())
        other.mfa_secret = mine.mfa_secret  # copied: sealed under the current key, not for it
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["users", "reseal-mfa"])
    assert result.exit_code == 1 and "other" in result.output and "insp," not in result.output
    assert "0 个已改用当前密钥加密，1 个原已使用当前密钥" in result.output


def test_the_authenticator_app_shows_a_chinese_issuer_by_default(app, make, clock):
    from urllib.parse import quote

    with app.app_context():
        user = make.user(role="inspector", username="insp")
        secret = services.begin_mfa_enrolment(user)
    b = Browser(app.test_client())
    b.login("insp")
    page = b.get("/auth/mfa").get_data(as_text=True)
    assert secret in page
    uri = totp.provisioning_uri(secret, account="insp", issuer=app.config["MFA_ISSUER"])
    assert app.config["MFA_ISSUER"] == "网络安全联合检查"
    assert f"issuer={quote('网络安全联合检查')}" in uri
