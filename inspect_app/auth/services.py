"""Accounts: authentication, password changes and user creation."""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from werkzeug.security import check_password_hash, generate_password_hash

from .. import audit
from ..errors import ValidationFailed
from ..extensions import db
from ..models import ROLES, Department, Unit, User, utcnow
from ..models.user import new_session_token

# Verified against when the username is unknown, so timing does not reveal which usernames exist.
_DUMMY_HASH = None


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def check_password_strength(password: str) -> None:
    """Raise ValidationFailed unless the password meets the length rules (ASVS 6.2)."""
    min_len = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(password) < min_len:
        raise ValidationFailed(_("The password must have at least %(n)d characters.", n=min_len))
    if len(password) > 128:
        raise ValidationFailed(_("The password may have at most 128 characters."))


def authenticate(username: str, password: str, *, ip: str = "") -> User | None:
    """Return the active user whose password matches, else None. Audits the attempt; commits."""
    global _DUMMY_HASH
    user = db.session.scalar(sa.select(User).where(User.username == username.strip()))
    if user is None:
        _DUMMY_HASH = _DUMMY_HASH or hash_password("not-a-real-password")
        check_password_hash(_DUMMY_HASH, password)
        audit.record(
            None, "auth.login_failed", object_type="User", after={"username": username[:80]}
        )
        db.session.commit()
        return None
    ok = check_password_hash(user.password_hash, password) and user.is_active
    if not ok:
        audit.record(user, "auth.login_failed", user, unit_id=user.unit_id)
        db.session.commit()
        return None
    user.last_login_at = utcnow()
    audit.record(user, "auth.login", user, unit_id=user.unit_id)
    db.session.commit()
    return user


def record_logout(user: User) -> None:
    """Audit a logout. Commits."""
    audit.record(user, "auth.logout", user, unit_id=user.unit_id)
    db.session.commit()


def change_password(user: User, *, current: str, new: str) -> None:
    """Set a new password and rotate the session token so every other session ends.

    Raises ValidationFailed if the current password is wrong or the new one too weak. Commits.
    """
    if not check_password_hash(user.password_hash, current):
        raise ValidationFailed(_("The current password is wrong."))
    check_password_strength(new)
    user.password_hash = hash_password(new)
    user.session_token = new_session_token()
    user.password_changed_at = utcnow()
    audit.record(user, "auth.password_changed", user, unit_id=user.unit_id)
    db.session.commit()


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
) -> User:
    """Create an account. Raises ValidationFailed on a bad role, unknown unit/department,
    a taken username or a weak password. Commits."""
    username = username.strip()
    if not username or len(username) > 80:
        raise ValidationFailed(_("The username must have 1 to 80 characters."))
    if role not in ROLES:
        raise ValidationFailed(_("Unknown role %(role)s.", role=role))
    if db.session.scalar(sa.select(User.id).where(User.username == username)):
        raise ValidationFailed(_("The username %(name)s is already taken.", name=username))
    check_password_strength(password)
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
        },
        unit_id=unit.id if unit else None,
    )
    db.session.commit()
    return user
