"""Accounts: logins and their server-side sessions, lockout, two-step login (TOTP), passwords
and user creation.

A login is complete only after every factor: the password step alone opens nothing (the routes
keep a "pending" marker in the cookie session until the code is given). Every complete login is a
LoginSession row whose random token is part of the user id in the session and remember-me
cookies, so ending the row ends exactly that login on every cookie that carries it.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta
from typing import NamedTuple

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value
from werkzeug.security import check_password_hash, generate_password_hash

from .. import audit
from ..errors import NotAllowed, NotFound, ValidationFailed
from ..extensions import db
from ..models import ROLES, Department, LoginSession, RecoveryCode, Unit, User, utcnow
from ..models.user import new_session_token
from . import passwords, permissions, totp

# Verified against when the username is unknown, so timing does not reveal which usernames exist.
_DUMMY_HASH = None
# last_seen_at is written at most this often: an idle timeout needs minutes, not every request.
SESSION_TOUCH_INTERVAL = timedelta(minutes=1)
# An account's e-mail address (for reminders): optional, one plausible address.
MAX_EMAIL = 120
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# The daily task that deletes old login records (prune_sessions), on the job queue.
PRUNE_TASK = "auth.prune_sessions"
# Any six calendar months (the network logs 网络安全法 asks to keep at least six months).
MIN_RETENTION_DAYS = 184


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def check_password_strength(password: str, *, username: str = "") -> None:
    """Raise ValidationFailed unless the password is acceptable (see auth/passwords.py)."""
    passwords.check_password_strength(password, username=username)


def mfa_required(user: User) -> bool:
    return user.role in current_app.config["MFA_REQUIRED_ROLES"]


# --- the password step ---------------------------------------------------------------------------


class LoginResult(NamedTuple):
    """The outcome of a right password: `token` when the login is complete, else the second
    step the user must pass first: "code" (enrolled) or "enrol" (required but not enrolled)."""

    user: User
    token: str | None
    next_step: str | None


def _check_dummy(password: str) -> None:
    global _DUMMY_HASH
    _DUMMY_HASH = _DUMMY_HASH or hash_password("not-a-real-password")
    check_password_hash(_DUMMY_HASH, password)


def _lock_user_row(user: User) -> None:
    """Re-read the user row under a lock, so counting failures from two workers loses none."""
    db.session.refresh(user, with_for_update=True)


def _count_failure(user: User, action: str, now: datetime, **details) -> None:
    """One more consecutive failure; at the threshold the account is locked for a time that
    doubles with every further failure. Audited; the caller commits."""
    cfg = current_app.config
    _lock_user_row(user)
    user.failed_logins = (user.failed_logins or 0) + 1
    audit.record(
        user, action, user, after={"failures": user.failed_logins, **details}, unit_id=user.unit_id
    )
    over = user.failed_logins - cfg["LOGIN_LOCKOUT_THRESHOLD"]
    if over >= 0:
        delay = min(cfg["LOGIN_LOCKOUT_BASE"] * 2 ** min(over, 20), cfg["LOGIN_LOCKOUT_MAX"])
        user.locked_until = now + delay
        audit.record(
            None,
            "auth.locked",
            user,
            after={"until": user.locked_until, "failures": user.failed_logins},
            unit_id=user.unit_id,
        )


def log_in_with_password(
    username: str,
    password: str,
    *,
    remember: bool = False,
    ip: str = "",
    user_agent: str = "",
    now: datetime | None = None,
) -> LoginResult | None:
    """Check a username and password. None for an unknown user, a wrong password, an inactive or
    a locked account alike (the caller shows one generic message); a wrong password counts
    toward the lockout. A right one either completes the login (no second step needed) or says
    which second step comes next. Audits every attempt; commits."""
    now = now or utcnow()
    user = db.session.scalar(sa.select(User).where(User.username == username.strip()))
    if user is None:
        _check_dummy(password)
        audit.record(
            None, "auth.login_failed", object_type="User", after={"username": username[:80]}
        )
        db.session.commit()
        return None
    if user.is_locked(now):
        _check_dummy(password)  # the same work as a real check: a lock is not visible by timing
        audit.record(
            user, "auth.login_failed", user, after={"reason": "locked"}, unit_id=user.unit_id
        )
        db.session.commit()
        return None
    if not (check_password_hash(user.password_hash, password) and user.is_active):
        _count_failure(user, "auth.login_failed", now)
        db.session.commit()
        return None
    if user.mfa_enabled:
        step = "code"
    elif mfa_required(user):
        step = "enrol"
    else:
        token = _open_session(user, remember, ip, user_agent, "", now)
        db.session.commit()
        return LoginResult(user, token, None)
    audit.record(user, "auth.password_verified", user, after={"next": step}, unit_id=user.unit_id)
    db.session.commit()
    return LoginResult(user, None, step)


def _open_session(
    user: User, remember: bool, ip: str, user_agent: str, mfa: str, now: datetime
) -> str:
    """Record a complete login: a new LoginSession, the failure count cleared. Audited; the
    caller commits. Returns the token that goes into the cookies (through user.get_id())."""
    token = secrets.token_urlsafe(32)
    row = LoginSession(
        user=user,
        token_hash=totp.digest(token),
        created_at=now,
        last_seen_at=now,
        remember=bool(remember),
        mfa=mfa,
        ip=(ip or "")[:64],
        user_agent=(user_agent or "")[:255],
    )
    db.session.add(row)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    audit.record(
        user,
        "auth.login",
        user,
        after={"remember": bool(remember), "mfa": mfa or None},
        unit_id=user.unit_id,
    )
    user.login_token, user.login_session = token, row
    return token


# --- the second step -----------------------------------------------------------------------------


def pending_marker(
    user: User, *, remember: bool, next_step: str, now: datetime | None = None
) -> dict:
    """What the cookie session keeps between the password and the second step: who, which step,
    since when, and the user's session token (rotated when all of its logins end). It logs
    nobody in: the app sees an anonymous visitor until the second step completes."""
    now = now or utcnow()
    return {
        "uid": user.id,
        "tok": user.session_token,
        "step": next_step,
        "remember": bool(remember),
        "at": now.isoformat(),
    }


def pending_user(marker: dict | None, *, now: datetime | None = None) -> User | None:
    """The user of a pending marker, half-way through logging in, or None once
    MFA_PENDING_TIMEOUT has passed, the account was locked or deactivated, or its sessions were
    ended meanwhile."""
    if not isinstance(marker, dict) or not isinstance(marker.get("uid"), int):
        return None
    now = now or utcnow()
    try:
        started = datetime.fromisoformat(str(marker.get("at")))
    except ValueError:
        return None
    if not now - current_app.config["MFA_PENDING_TIMEOUT"] <= started <= now:
        return None
    user = db.session.get(User, marker["uid"])
    if user is None or not user.is_active or user.is_locked(now):
        return None
    if not secrets.compare_digest(user.session_token, str(marker.get("tok") or "")):
        return None
    if marker.get("step") == "code" and not user.mfa_enabled:
        return None  # reset meanwhile: start again from the password
    return user


def verify_second_step(
    user: User,
    code: str,
    *,
    remember: bool = False,
    ip: str = "",
    user_agent: str = "",
    now: datetime | None = None,
) -> tuple[str, int | None]:
    """Complete a login with a 6-digit code from the authenticator or a recovery code (each
    recovery code works once). Returns the session token and, after a recovery code, how many
    are left. A wrong, reused or replayed code raises ValidationFailed and counts toward the
    lockout (audited mfa.verify_failed). Commits."""
    now = now or utcnow()
    if not user.mfa_enabled or user.is_locked(now) or not user.is_active:
        raise ValidationFailed(_("The code is wrong or has already been used."))
    if totp.looks_like_totp(code):
        _lock_user_row(user)  # two workers must not both accept the same code
        secret = _open_mfa_secret(user)
        step = totp.matching_step(secret, code.replace(" ", ""), now, user.mfa_last_step)
        if step is not None:
            user.mfa_last_step = step
            token = _open_session(user, remember, ip, user_agent, "totp", now)
            db.session.commit()
            return token, None
    else:
        row = db.session.scalar(
            sa.select(RecoveryCode)
            .where(
                RecoveryCode.user_id == user.id,
                RecoveryCode.code_hash == totp.digest(totp.normalise_recovery_code(code)),
                RecoveryCode.used_at.is_(None),
            )
            .with_for_update()
        )
        if row is not None:
            row.used_at = now
            left = _recovery_codes_left(user)  # autoflush: this one counts as used
            audit.record(
                user, "mfa.recovery_used", user, after={"left": left}, unit_id=user.unit_id
            )
            token = _open_session(user, remember, ip, user_agent, "recovery", now)
            db.session.commit()
            return token, left
    kind = "totp" if totp.looks_like_totp(code) else "recovery"
    _count_failure(user, "mfa.verify_failed", now, kind=kind)
    db.session.commit()
    raise ValidationFailed(_("The code is wrong or has already been used."))


def _recovery_codes_left(user: User) -> int:
    return db.session.scalar(
        sa.select(sa.func.count(RecoveryCode.id)).where(
            RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
        )
    )


def recovery_codes_left(user: User) -> int:
    """How many unused recovery codes the user has."""
    return _recovery_codes_left(user)


# --- enrolment -----------------------------------------------------------------------------------


def begin_mfa_enrolment(user: User, *, now: datetime | None = None) -> str:
    """Make the TOTP secret the user will scan (kept until confirmed; an unconfirmed one is
    reused, so a QR code already scanned stays valid). Raises ValidationFailed when two-step
    login is already on. Audited mfa.enrol_started; commits. Returns the secret."""
    if user.mfa_enabled:
        raise ValidationFailed(_("Two-step login is already on for this account."))
    secret = pending_mfa_secret(user)
    if secret is not None:
        return secret
    secret = totp.new_secret()
    user.mfa_secret = totp.seal(secret, user.id)
    user.mfa_last_step = None
    audit.record(user, "mfa.enrol_started", user, unit_id=user.unit_id)
    db.session.commit()
    return secret


def pending_mfa_secret(user: User) -> str | None:
    """The secret of an enrolment begun and not confirmed, to show again; None when there is none
    or it no longer opens (SECRET_KEY changed: a new one is made at the next start)."""
    if user.mfa_enabled or not user.mfa_secret:
        return None
    try:
        return totp.unseal(user.mfa_secret, user.id)
    except totp.SecretUnreadable:
        return None


def _open_mfa_secret(user: User) -> str:
    """The user's TOTP secret, opened. A secret that no configured key opens is logged, and the
    user is told to use a recovery code: a ValidationFailed that does not count as a failure."""
    try:
        return totp.unseal(user.mfa_secret or "", user.id)
    except totp.SecretUnreadable as exc:
        current_app.logger.error("two-step secret of user %s unreadable: %s", user.id, exc)
        raise ValidationFailed(
            _(
                "Codes from the authenticator cannot be checked for this account: the server's "
                "key has changed. Use a recovery code, or ask an administrator to reset two-step "
                "login."
            )
        ) from exc


def _replace_recovery_codes(user: User, now: datetime) -> list[str]:
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = totp.new_recovery_codes()
    for code in codes:
        db.session.add(
            RecoveryCode(
                user_id=user.id,
                code_hash=totp.digest(totp.normalise_recovery_code(code)),
                created_at=now,
            )
        )
    return codes


def confirm_mfa_enrolment(
    user: User,
    code: str,
    *,
    log_in: bool = False,
    remember: bool = False,
    ip: str = "",
    user_agent: str = "",
    now: datetime | None = None,
) -> tuple[list[str], str | None]:
    """Turn two-step login on once the user types a first code from the scanned secret, and make
    ten recovery codes (returned to be shown once; only their hashes are kept). With log_in (the
    user is half-way through logging in) the login completes in the same transaction and its
    token is returned too. Raises ValidationFailed for a wrong code or when there is nothing to
    confirm. Audited mfa.enrol; commits."""
    now = now or utcnow()
    secret = pending_mfa_secret(user)
    if secret is None:
        raise ValidationFailed(_("Start the set-up again: there is no code to confirm."))
    step = totp.matching_step(secret, code.replace(" ", ""), now, user.mfa_last_step)
    if step is None:
        raise ValidationFailed(
            _("The code is wrong. Check that the phone's clock is right and type the newest code.")
        )
    user.mfa_enabled_at = now
    user.mfa_last_step = step
    codes = _replace_recovery_codes(user, now)
    audit.record(user, "mfa.enrol", user, unit_id=user.unit_id)
    token = _open_session(user, remember, ip, user_agent, "totp", now) if log_in else None
    db.session.commit()
    return codes, token


def renew_recovery_codes(user: User, code: str, *, now: datetime | None = None) -> list[str]:
    """Replace the user's recovery codes after checking a current code from the authenticator.
    Raises ValidationFailed for a wrong code. Audited mfa.recovery_codes_renewed; commits."""
    now = now or utcnow()
    if not user.mfa_enabled:
        raise ValidationFailed(_("Two-step login is not on for this account."))
    _lock_user_row(user)
    secret = _open_mfa_secret(user)
    step = totp.matching_step(secret, code.replace(" ", ""), now, user.mfa_last_step)
    if step is None:
        raise ValidationFailed(_("The code is wrong or has already been used."))
    user.mfa_last_step = step
    codes = _replace_recovery_codes(user, now)
    audit.record(user, "mfa.recovery_codes_renewed", user, unit_id=user.unit_id)
    db.session.commit()
    return codes


# --- sessions ------------------------------------------------------------------------------------


def _parse_ident(ident: str) -> tuple[int, str, str] | None:
    parts = (ident or "").split(":")
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1] or not parts[2]:
        return None
    return int(parts[0]), parts[1], parts[2]


def session_user(ident: str, *, now: datetime | None = None) -> tuple[User | None, str | None]:
    """The user of a session or remember-me cookie's user id, and why there is none: None when
    the id is malformed or the login was ended, "idle" or "expired" when it ends now (the login
    is then ended on the server, audited, committed). Writes last_seen_at at most once a minute
    (commits)."""
    parsed = _parse_ident(ident)
    if parsed is None:
        return None, None
    user_id, user_token, login_token = parsed
    row = db.session.scalar(  # with its user: one statement per request for the login
        sa.select(LoginSession)
        .where(LoginSession.token_hash == totp.digest(login_token))
        .options(joinedload(LoginSession.user))
    )
    if row is None or row.user_id != user_id or row.ended_at is not None:
        return None, None
    user = row.user
    if not user.is_active or not secrets.compare_digest(user.session_token, user_token):
        return None, None
    now = now or utcnow()
    cfg = current_app.config
    if now - row.created_at >= cfg["SESSION_ABSOLUTE_LIFETIME"]:
        reason = "expired"
    elif now - row.last_seen_at >= cfg["SESSION_IDLE_TIMEOUT"]:
        reason = "idle"
    else:
        if now - row.last_seen_at >= SESSION_TOUCH_INTERVAL:
            _touch(row, now)
        user.login_token, user.login_session = login_token, row
        return user, None
    if _end(sa.and_(LoginSession.id == row.id), reason, now):
        audit.record(
            None,
            "auth.session_ended",
            user,
            after={"reason": reason, "session": row.id},
            unit_id=user.unit_id,
        )
    db.session.commit()
    return None, reason


def _touch(row: LoginSession, now: datetime) -> None:
    """Write the login's last-seen time and commit, keeping the login and its user as loaded
    (this request's): the commit expiring them made the request load its user again, one
    statement more once a minute on every page (the dashboard's budget of 10). The user is then
    as read by the login lookup a moment before, as on every request that does not touch;
    commands that must see it current lock and refresh it (_lock_user_row)."""
    db.session.execute(
        sa.update(LoginSession)
        .where(LoginSession.id == row.id)
        .values(last_seen_at=now)
        .execution_options(synchronize_session=False)
    )
    set_committed_value(row, "last_seen_at", now)
    session = db.session()
    expire, session.expire_on_commit = session.expire_on_commit, False
    try:
        session.commit()
    finally:
        session.expire_on_commit = expire


def _end(condition, reason: str, now: datetime) -> int:
    """End the open logins matching condition; how many were open (a login that another
    request ended meanwhile is not counted twice)."""
    result = db.session.execute(
        sa.update(LoginSession)
        .where(condition, LoginSession.ended_at.is_(None))
        .values(ended_at=now, end_reason=reason)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def end_sessions(
    user: User, *, reason: str, keep: LoginSession | None = None, now: datetime | None = None
) -> int:
    """End every open login of user except `keep`. Without `keep` the user's session token
    rotates too, so no cookie issued so far loads. Part of a caller's command: neither audits
    nor commits. Returns how many logins ended."""
    now = now or utcnow()
    condition = LoginSession.user_id == user.id
    if keep is not None:
        condition = sa.and_(condition, LoginSession.id != keep.id)
    else:
        user.session_token = new_session_token()
    return _end(condition, reason, now)


def log_out(user: User, *, now: datetime | None = None) -> None:
    """End this login (the one the request came with) on the server: its session and
    remember-me cookies stop working; the user's other devices stay logged in. Audited
    auth.logout; commits."""
    now = now or utcnow()
    row = user.login_session
    if row is not None:
        _end(LoginSession.id == row.id, "logout", now)
    audit.record(
        user,
        "auth.logout",
        user,
        after={"session": row.id if row is not None else None},
        unit_id=user.unit_id,
    )
    db.session.commit()


def log_out_other_devices(user: User, *, now: datetime | None = None) -> int:
    """End every other login of the user; this one stays. Audited auth.sessions_ended; commits.
    Returns how many ended."""
    count = end_sessions(user, reason="logout_others", keep=user.login_session, now=now)
    audit.record(
        user,
        "auth.sessions_ended",
        user,
        after={"ended": count, "kept_this_one": True},
        unit_id=user.unit_id,
    )
    db.session.commit()
    return count


def open_sessions(user: User) -> list[LoginSession]:
    """The user's logins that have not ended, newest first (expired ones end when next used)."""
    return list(
        db.session.scalars(
            sa.select(LoginSession)
            .where(LoginSession.user_id == user.id, LoginSession.ended_at.is_(None))
            .order_by(LoginSession.last_seen_at.desc(), LoginSession.id.desc())
        )
    )


# --- passwords -----------------------------------------------------------------------------------


def change_password(user: User, *, current: str, new: str, now: datetime | None = None) -> int:
    """Set a new password and end every other login of the user (this one stays).

    Raises ValidationFailed if the current password is wrong or the new one is refused (see
    auth/passwords.py). Audited auth.password_changed; commits. Returns how many logins ended.
    """
    now = now or utcnow()
    if not check_password_hash(user.password_hash, current):
        raise ValidationFailed(_("The current password is wrong."))
    check_password_strength(new, username=user.username)
    user.password_hash = hash_password(new)
    user.password_changed_at = now
    ended = end_sessions(user, reason="password_changed", keep=user.login_session, now=now)
    audit.record(user, "auth.password_changed", user, after={"ended": ended}, unit_id=user.unit_id)
    db.session.commit()
    return ended


# --- what administrators do ----------------------------------------------------------------------


def _managed_user(user_id: int, actor: User) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(_("No such account."))
    if not permissions.may_manage_account(actor, user.role):
        raise NotAllowed(_("You may not change this account."))
    return user


def unlock_account(user_id: int, *, actor: User | None) -> User:
    """Clear an account's failed logins and lock. An admin, or a coordinator for the accounts
    they manage (None = the command line). Raises NotFound or NotAllowed. Audited user.unlock;
    commits."""
    user = _cli_user(user_id) if actor is None else _managed_user(user_id, actor)
    before = {"failures": user.failed_logins, "locked_until": user.locked_until}
    user.failed_logins = 0
    user.locked_until = None
    audit.record(actor, "user.unlock", user, before=before, unit_id=user.unit_id)
    db.session.commit()
    return user


def reset_mfa(user_id: int, *, actor: User | None, now: datetime | None = None) -> User:
    """Turn two-step login off for an account (lost phone): secret and recovery codes go, every
    login of the account ends, and the user enrols again (at the next login when the role
    requires it). Administrators only (None = the command line); not on one's own account, so a
    second person is involved. Raises NotFound or NotAllowed. Audited mfa.reset; commits."""
    now = now or utcnow()
    if actor is None:
        user = _cli_user(user_id)
    else:
        if not permissions.can(actor, "users.edit"):
            raise NotAllowed(_("Only an administrator may reset two-step login."))
        user = _managed_user(user_id, actor)
        if user.id == actor.id:
            raise NotAllowed(_("Ask another administrator to reset your own two-step login."))
    before = {"enabled_at": user.mfa_enabled_at, "recovery_codes_left": _recovery_codes_left(user)}
    user.mfa_secret = None
    user.mfa_enabled_at = None
    user.mfa_last_step = None
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    ended = end_sessions(user, reason="mfa_reset", now=now)
    audit.record(
        actor, "mfa.reset", user, before=before, after={"ended": ended}, unit_id=user.unit_id
    )
    db.session.commit()
    return user


class Resealed(NamedTuple):
    resealed: int  # sealed again under the current SECRET_KEY
    current: int  # already under it
    unreadable: list[str]  # usernames whose secret no configured key opens


def reseal_mfa_secrets() -> Resealed:
    """Seal every stored TOTP secret under the current SECRET_KEY (after a rotation, while the old
    key is still in SECRET_KEY_FALLBACKS). A secret no key opens is left as it is and named: its
    user resets two-step login. One audit event when any was resealed; one transaction."""
    from ..transaction import unit_of_work

    resealed, current, unreadable = 0, 0, []
    with unit_of_work():
        users = db.session.scalars(
            sa.select(User).where(User.mfa_secret.is_not(None)).order_by(User.id).with_for_update()
        ).all()
        for user in users:
            try:
                secret = totp.unseal(user.mfa_secret, user.id)
            except totp.SecretUnreadable:
                unreadable.append(user.username)
                continue
            if totp.sealed_with_current_key(user.mfa_secret):
                current += 1
                continue
            user.mfa_secret = totp.seal(secret, user.id)
            resealed += 1
        if resealed:
            audit.record(
                None,
                "mfa.secrets_resealed",
                object_type="User",
                object_id="",
                after={"resealed": resealed, "unreadable": len(unreadable)},
            )
    return Resealed(resealed, current, unreadable)


def sign_in_status(user: User, *, actor: User, now: datetime | None = None) -> dict:
    """What an account page shows an administrator about a user's sign-in: failures, the lock,
    two-step login, and which of unlock / reset the actor may do."""
    now = now or utcnow()
    return {
        "failures": user.failed_logins or 0,
        "locked_until": user.locked_until if user.is_locked(now) else None,
        "mfa_enabled_at": user.mfa_enabled_at,
        "mfa_pending": bool(user.mfa_secret) and not user.mfa_enabled,
        "mfa_required": mfa_required(user),
        "may_unlock": permissions.may_manage_account(actor, user.role),
        "may_reset_mfa": permissions.can(actor, "users.edit") and user.id != actor.id,
    }


def _cli_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(_("No such account."))
    return user


def user_by_username(username: str) -> User:
    """The account with this username. Raises NotFound."""
    user = db.session.scalar(sa.select(User).where(User.username == username.strip()))
    if user is None:
        raise NotFound(_("No account has the username %(name)s.", name=username))
    return user


def set_locale(user: User, locale: str | None) -> None:
    """Remember the user's language. Commits."""
    before = {"locale": user.locale}
    user.locale = locale
    audit.record(
        user, "user.locale", user, before=before, after={"locale": locale}, unit_id=user.unit_id
    )
    db.session.commit()


def resolve_membership(
    role: str, unit_code: str | None, department_code: str | None
) -> tuple[Department | None, Unit | None, dict[str, str]]:
    """The department and unit an account of `role` belongs to, from their codes, and every
    problem by field ("unit_code", "department_code"): inspectors need a department, unit
    liaisons a unit and no department, and only unit liaisons belong to a unit. The one place
    for these rules, used by the account pages and `flask users create`."""
    errors: dict[str, str] = {}
    department = unit = None
    if department_code:
        department = db.session.scalar(
            sa.select(Department).where(Department.code == department_code)
        )
        if department is None:
            errors["department_code"] = _(
                "No department has the code %(code)s.", code=department_code
            )
    if unit_code:
        unit = db.session.scalar(sa.select(Unit).where(Unit.code == unit_code))
        if unit is None:
            errors["unit_code"] = _("No unit has the code %(code)s.", code=unit_code)
    if role == "inspector" and not department_code:
        errors["department_code"] = _("An inspector must belong to a department.")
    if role == "unit" and not unit_code:
        errors["unit_code"] = _("A unit liaison must belong to a unit.")
    if role != "unit" and unit_code:
        errors["unit_code"] = _("Only unit liaisons belong to a unit; leave this empty.")
    if role == "unit" and department_code:
        errors["department_code"] = _(
            "Unit liaisons do not belong to a department; leave this empty."
        )
    return department, unit, errors


def email_problem(address: str) -> str | None:
    """What is wrong with an account's e-mail address, or None (empty is fine: no e-mail)."""
    if len(address) > MAX_EMAIL:
        return _("At most %(n)d characters.", n=MAX_EMAIL)
    if address and not _EMAIL.match(address):
        return _("Enter an e-mail address such as name@example.cn.")
    return None


def create_user(
    username: str,
    password: str,
    role: str,
    *,
    actor: User | None = None,
    unit_code: str | None = None,
    department_code: str | None = None,
    display_name: str = "",
    certificate_no: str = "",
    email: str = "",
) -> User:
    """Create an account. Raises ValidationFailed on a bad role, unknown unit/department,
    a taken username, a malformed e-mail address or a weak password. Commits."""
    username = username.strip()
    if not username or len(username) > 80:
        raise ValidationFailed(_("The username must have 1 to 80 characters."))
    if role not in ROLES:
        raise ValidationFailed(_("Unknown role %(role)s.", role=role))
    if db.session.scalar(sa.select(User.id).where(User.username == username)):
        raise ValidationFailed(_("The username %(name)s is already taken.", name=username))
    email = (email or "").strip()
    if problem := email_problem(email):
        raise ValidationFailed(problem, details={"email": problem})
    check_password_strength(password, username=username)
    department, unit, errors = resolve_membership(role, unit_code, department_code)
    if errors:
        raise ValidationFailed(" ".join(errors.values()), details=errors)
    user = User(
        username=username,
        display_name=display_name,
        password_hash=hash_password(password),
        role=role,
        unit=unit,
        department=department,
        certificate_no=certificate_no,
        email=email,
    )
    db.session.add(user)
    audit.record(
        actor,
        "user.create",
        user,
        after={
            "username": username,
            "role": role,
            "unit": unit_code,
            "department": department_code,
            "email": email,
        },
        unit_id=unit.id if unit else None,
    )
    db.session.commit()
    return user


def prune_sessions(*, now: datetime | None = None) -> int:
    """Delete the login records ended, or silent, longer ago than LOGIN_SESSION_RETENTION_DAYS
    (an open one silent that long ended long before: logins last hours, remember-me days); one
    audit event says how many. Returns how many. Commits."""
    from ..transaction import unit_of_work

    now = now or utcnow()
    days = int(current_app.config["LOGIN_SESSION_RETENTION_DAYS"])
    before = now - timedelta(days=days)
    with unit_of_work():
        deleted = (
            db.session.execute(
                sa.delete(LoginSession)
                .where(sa.func.coalesce(LoginSession.ended_at, LoginSession.last_seen_at) < before)
                .execution_options(synchronize_session=False)
            ).rowcount
            or 0
        )
        if deleted:
            audit.record(
                None,
                "auth.sessions_pruned",
                object_type="LoginSession",
                object_id="",
                after={"deleted": deleted, "retention_days": days},
            )
    return deleted


def init_app(app) -> None:
    """The daily pruning of old login records, on the app's job queue (after jobs.init_app);
    run by the consumer that runs periodic tasks, at 03:17 UTC."""
    from huey import crontab

    days = app.config.get("LOGIN_SESSION_RETENTION_DAYS")
    if type(days) is not int or days < MIN_RETENTION_DAYS:
        from .. import ConfigurationError

        raise ConfigurationError(
            f"LOGIN_SESSION_RETENTION_DAYS must be a whole number of days, at least "
            f"{MIN_RETENTION_DAYS} (six months of network logs, 网络安全法)."
        )
    app.extensions["jobs"].add_task(PRUNE_TASK, _prune, periodic=crontab(minute="17", hour="3"))


def _prune() -> None:
    prune_sessions()
