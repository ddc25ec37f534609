"""Directory rules: departments, units, systems and accounts, shared by pages, importer and API.

Values arrive as plain dicts (from a form, an Excel row or JSON). `clean_*` functions check their
shape without the database and return per-field messages; the public commands add the checks that
need the database, write an audit event in the same transaction and commit once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from .. import audit
from ..audit.services import snapshot
from ..auth import permissions
from ..auth import services as auth_services
from ..errors import NotAllowed, NotFound, ValidationFailed
from ..extensions import db
from ..models import ROLES, UNIT_KINDS, Department, System, Unit, User, utcnow
from ..models.org import DEPARTMENT_KINDS
from . import creditcode

DEPARTMENT_FIELDS = ("code", "name", "name_en", "kind", "sector")
UNIT_FLAGS = (
    "is_key_unit",
    "is_cii",
    "has_website",
    "has_new_media",
    "handles_pi",
    "important_data",
    "classified",
    "active",
)
UNIT_FIELDS = (
    "code",
    "name",
    "kind",
    "parent_code",
    "credit_code",
    "sector",
    "address",
    "contact_name",
    "contact_phone",
    "contact_email",
    "inspection_cap",
    *UNIT_FLAGS,
)
SYSTEM_FLAGS = ("is_cii", "internet_facing", "is_cloud", "is_ics", "active")
SYSTEM_FIELDS = (
    "code",
    "unit_code",
    "name",
    "mlps_level",
    "filing_number",
    "address",
    "description",
    *SYSTEM_FLAGS,
)
MLPS_LEVELS = (1, 2, 3, 4, 5)
MAX_INSPECTION_CAP = 99

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_LENGTHS = {
    "code": 40,
    "name": 200,
    "parent_code": 40,
    "unit_code": 40,
    "sector": 100,
    "address": 300,
    "contact_name": 100,
    "contact_phone": 50,
    "contact_email": 200,
    "filing_number": 60,
    "description": 5000,
}


# --- shape checks (no database) -----------------------------------------------------------------


# A code of the directory: typed in imports, addresses and commands.
CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]*")


def _text(values: Mapping[str, Any], key: str) -> str:
    value = values.get(key)
    return "" if value is None else str(value).strip()


def _check_text(clean, errors, key, *, required=False, max_len=None, code=False) -> None:
    value = clean[key]
    if required and not value:
        errors[key] = _("This field is required.")
    elif max_len is not None and len(value) > max_len:
        errors[key] = _("At most %(n)d characters.", n=max_len)
    elif code and value and not CODE.fullmatch(value):
        errors[key] = _("A code may be made of letters, digits and - _ . / only.")


def credit_code_error(value: str) -> str | None:
    """The user-facing reason a 统一社会信用代码 is invalid, or None."""
    reason = creditcode.problem(value)
    if reason == "length":
        return _(
            "A unified social credit code has 18 characters (this one has %(n)d).", n=len(value)
        )
    if reason == "characters":
        return _(
            "A unified social credit code uses only digits and capital letters other than I, O, Z, S and V."
        )
    if reason == "check_digit":
        return _("The check digit (last character) is wrong: check the code for typos.")
    return None


def clean_department(values: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Normalise department values; returns (clean values, messages by field)."""
    clean = {key: _text(values, key) for key in DEPARTMENT_FIELDS}
    errors: dict[str, str] = {}
    _check_text(clean, errors, "code", required=True, max_len=20, code=True)
    _check_text(clean, errors, "name", required=True, max_len=100)
    _check_text(clean, errors, "name_en", max_len=100)
    clean["kind"] = clean["kind"] or "joint"
    if clean["kind"] not in DEPARTMENT_KINDS:
        errors["kind"] = _("Choose a kind from the list.")
    _check_text(clean, errors, "sector", max_len=100)
    if clean["kind"] == "regulator" and not clean["sector"] and "sector" not in errors:
        errors["sector"] = _(
            "Name the sector this regulator oversees, as units' sector is written."
        )
    if clean["kind"] == "joint":
        clean["sector"] = ""
    return clean, errors


def missing_regulators(unit: Unit, departments: list[Department]) -> list[Department]:
    """The sector regulators registered for the unit's sector that are not among `departments`
    (a visit's team): 责任制办法第4条 — an inspection of a unit in an important sector is made
    together with its competent regulator. The directory's regulators say which sectors count."""
    sector = (unit.sector or "").strip()
    if not sector:
        return []
    present = {d.id for d in departments if d is not None}
    return list(
        db.session.scalars(
            sa.select(Department)
            .where(Department.kind == "regulator", Department.sector == sector)
            .where(Department.id.not_in(present) if present else sa.true())
            .order_by(Department.code)
        )
    )


def clean_unit(values: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Normalise unit values and check their shape; returns (clean values, messages by field)."""
    clean: dict[str, Any] = {
        key: _text(values, key)
        for key in UNIT_FIELDS
        if key not in UNIT_FLAGS and key != "inspection_cap"
    }
    for flag in UNIT_FLAGS:
        clean[flag] = bool(values.get(flag, flag == "active"))
    errors: dict[str, str] = {}
    _check_text(clean, errors, "code", required=True, max_len=_LENGTHS["code"], code=True)
    _check_text(clean, errors, "name", required=True, max_len=_LENGTHS["name"])
    for key in (
        "parent_code",
        "sector",
        "address",
        "contact_name",
        "contact_phone",
        "contact_email",
    ):
        _check_text(clean, errors, key, max_len=_LENGTHS[key])
    if not clean["kind"]:
        errors["kind"] = _("This field is required.")
    elif clean["kind"] not in UNIT_KINDS:
        errors["kind"] = _("Choose a kind of unit from the list.")
    if clean["parent_code"] and clean["parent_code"] == clean["code"]:
        errors["parent_code"] = _("A unit cannot be its own parent.")
    credit = creditcode.normalise(clean["credit_code"])
    clean["credit_code"] = credit or None
    if credit and (message := credit_code_error(credit)):
        errors["credit_code"] = message
    if (
        clean["contact_email"]
        and "contact_email" not in errors
        and not _EMAIL.match(clean["contact_email"])
    ):
        errors["contact_email"] = _("Enter an e-mail address such as name@example.cn.")
    cap = values.get("inspection_cap")
    if cap in (None, ""):
        clean["inspection_cap"] = None
    elif isinstance(cap, bool) or not isinstance(cap, int) or not 0 <= cap <= MAX_INSPECTION_CAP:
        clean["inspection_cap"] = None
        errors["inspection_cap"] = _(
            "The yearly inspection cap is a whole number from 0 to %(max)d, or empty for the default.",
            max=MAX_INSPECTION_CAP,
        )
    else:
        clean["inspection_cap"] = cap
    return clean, errors


def clean_system(values: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Normalise system values and check their shape; returns (clean values, messages by field)."""
    clean: dict[str, Any] = {
        key: _text(values, key)
        for key in SYSTEM_FIELDS
        if key not in SYSTEM_FLAGS and key != "mlps_level"
    }
    for flag in SYSTEM_FLAGS:
        clean[flag] = bool(values.get(flag, flag == "active"))
    errors: dict[str, str] = {}
    _check_text(clean, errors, "code", required=True, max_len=_LENGTHS["code"], code=True)
    _check_text(clean, errors, "name", required=True, max_len=_LENGTHS["name"])
    _check_text(clean, errors, "unit_code", required=True, max_len=_LENGTHS["unit_code"])
    for key in ("filing_number", "address", "description"):
        _check_text(clean, errors, key, max_len=_LENGTHS[key])
    level = values.get("mlps_level")
    if level in (None, ""):
        errors["mlps_level"] = _("This field is required.")
        clean["mlps_level"] = None
    elif isinstance(level, bool) or level not in MLPS_LEVELS:
        errors["mlps_level"] = _("The MLPS level must be a whole number from 1 to 5.")
        clean["mlps_level"] = None
    else:
        clean["mlps_level"] = int(level)
    return clean, errors


def _raise_if(errors: dict[str, str]) -> None:
    if errors:
        raise ValidationFailed(_("Please correct the marked fields."), details=errors)


# --- snapshots for the audit log --------------------------------------------------------------


def department_snapshot(department: Department) -> dict[str, Any]:
    return snapshot(department, DEPARTMENT_FIELDS)


def unit_snapshot(unit: Unit) -> dict[str, Any]:
    data = snapshot(unit, [f for f in UNIT_FIELDS if f != "parent_code"])
    data["parent_code"] = unit.parent.code if unit.parent is not None else ""
    return data


def system_snapshot(system: System) -> dict[str, Any]:
    data = snapshot(system, [f for f in SYSTEM_FIELDS if f != "unit_code"])
    data["unit_code"] = system.unit.code if system.unit is not None else ""
    return data


def changed(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict, dict]:
    """Only the fields whose value differs, as (before, after)."""
    keys = [k for k in after if before.get(k) != after[k]]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


def assign(obj: Any, values: Mapping[str, Any]) -> None:
    """Set attributes that differ, so an unchanged row issues no UPDATE and keeps updated_at."""
    for key, value in values.items():
        if getattr(obj, key) != value:
            setattr(obj, key, value)


# --- departments ------------------------------------------------------------------------------


def department_query(user: User) -> sa.Select:
    return permissions.scope(sa.select(Department), Department, user).order_by(Department.code)


def folded_code(code: str) -> str:
    """A code whatever the case of its letters: to people U001 and u001 are one code."""
    return code.upper()


def code_folded_in(column, codes: list[str]) -> sa.ColumnElement[bool]:
    """The column's code is one of these folded codes (folded_code), whatever its case."""
    return sa.func.upper(column).in_(codes)


def same_code(column, code: str) -> sa.ColumnElement[bool]:
    """The column holds this code, whatever the case of its letters (folded_code)."""
    return sa.func.upper(column) == folded_code(code)


def _department_code_taken(code: str, exclude_id: int | None) -> bool:
    stmt = sa.select(Department.id).where(same_code(Department.code, code))
    if exclude_id is not None:
        stmt = stmt.where(Department.id != exclude_id)
    return db.session.scalar(stmt) is not None


def create_department(values: Mapping[str, Any], *, actor: User) -> Department:
    """Add a department. Raises NotAllowed, or ValidationFailed with messages by field. Commits."""
    permissions.require(actor, "directory.edit")
    clean, errors = clean_department(values)
    if "code" not in errors and _department_code_taken(clean["code"], None):
        errors["code"] = _("Another department already has this code.")
    _raise_if(errors)
    department = Department(**clean)
    db.session.add(department)
    audit.record(actor, "department.create", department, after=department_snapshot(department))
    db.session.commit()
    return department


def update_department(department_id: int, values: Mapping[str, Any], *, actor: User) -> Department:
    """Change a department. Raises NotFound, NotAllowed or ValidationFailed. Commits."""
    permissions.require(actor, "directory.edit")
    department = db.session.get(Department, department_id)
    if department is None:
        raise NotFound(_("No such department."))
    clean, errors = clean_department(values)
    if "code" not in errors and _department_code_taken(clean["code"], department.id):
        errors["code"] = _("Another department already has this code.")
    _raise_if(errors)
    before = department_snapshot(department)
    assign(department, clean)
    old, new = changed(before, department_snapshot(department))
    if new:
        audit.record(actor, "department.update", department, before=old, after=new)
    db.session.commit()
    return department


# --- units ------------------------------------------------------------------------------------


def _flag_filter(stmt: sa.Select, column, value: str) -> sa.Select:
    if value == "yes":
        return stmt.where(column.is_(True))
    if value == "no":
        return stmt.where(column.is_(False))
    return stmt


def unit_query(
    user: User, *, q: str = "", kind: str = "", key: str = "", cii: str = "", active: str = ""
) -> sa.Select:
    """Units the user may see, filtered: q searches name, code and credit code."""
    stmt = permissions.scope(sa.select(Unit), Unit, user).options(selectinload(Unit.parent))
    if q:
        stmt = stmt.where(
            sa.or_(
                Unit.name.icontains(q, autoescape=True),
                Unit.code.icontains(q, autoescape=True),
                Unit.credit_code.icontains(q, autoescape=True),
            )
        )
    if kind in UNIT_KINDS:
        stmt = stmt.where(Unit.kind == kind)
    stmt = _flag_filter(stmt, Unit.is_key_unit, key)
    stmt = _flag_filter(stmt, Unit.is_cii, cii)
    stmt = _flag_filter(stmt, Unit.active, active)
    return stmt.order_by(Unit.code)


def unit_choices(user: User) -> list[tuple[str, str]]:
    """(code, name) of the units the user may see, for pickers."""
    stmt = permissions.scope(sa.select(Unit.code, Unit.name), Unit, user).order_by(Unit.code)
    return [(code, name) for code, name in db.session.execute(stmt)]


def department_choices() -> list[tuple[str, str]]:
    """(code, name) of every department, for pickers (departments are not secret)."""
    stmt = sa.select(Department.code, Department.name).order_by(Department.code)
    return [(code, name) for code, name in db.session.execute(stmt)]


def _unit_by_code(code: str) -> Unit | None:
    return db.session.scalar(sa.select(Unit).where(Unit.code == code))


def _unit_db_errors(clean: dict[str, Any], unit: Unit | None) -> tuple[Unit | None, dict[str, str]]:
    errors: dict[str, str] = {}
    own_id = unit.id if unit is not None else None
    other = db.session.scalar(
        sa.select(Unit).where(same_code(Unit.code, clean["code"]), Unit.id != (own_id or 0))
    )
    if other is not None:
        errors["code"] = _("Another unit already has the code %(code)s.", code=other.code)
    if clean["credit_code"]:
        holder = db.session.scalar(sa.select(Unit).where(Unit.credit_code == clean["credit_code"]))
        if holder is not None and holder.id != own_id:
            errors["credit_code"] = _(
                "The unit %(name)s already has this credit code.", name=holder.name
            )
    parent = None
    if clean["parent_code"]:
        parent = _unit_by_code(clean["parent_code"])
        if parent is None:
            errors["parent_code"] = _("No unit has the code %(code)s.", code=clean["parent_code"])
        elif unit is not None and _is_descendant(parent, unit):
            errors["parent_code"] = _("A unit cannot be placed under one of its own subunits.")
    return parent, errors


def _is_descendant(candidate: Unit, ancestor: Unit) -> bool:
    seen = set()
    node: Unit | None = candidate
    while node is not None and node.id not in seen:
        if node.id == ancestor.id:
            return True
        seen.add(node.id)
        node = node.parent
    return False


def _unit_attrs(clean: dict[str, Any], parent: Unit | None) -> dict[str, Any]:
    attrs = {k: v for k, v in clean.items() if k != "parent_code"}
    attrs["parent"] = parent
    return attrs


def create_unit(values: Mapping[str, Any], *, actor: User) -> Unit:
    """Add a unit. Raises NotAllowed, or ValidationFailed with messages by field. Commits."""
    permissions.require(actor, "directory.edit")
    clean, errors = clean_unit(values)
    _raise_if(errors)
    parent, errors = _unit_db_errors(clean, None)
    _raise_if(errors)
    unit = Unit(**_unit_attrs(clean, parent))
    db.session.add(unit)
    audit.record(actor, "unit.create", unit, after=unit_snapshot(unit))
    db.session.commit()
    return unit


def update_unit(unit_id: int, values: Mapping[str, Any], *, actor: User) -> Unit:
    """Change a unit's record. Raises NotFound, NotAllowed or ValidationFailed. Commits."""
    unit = db.session.get(Unit, unit_id)
    if unit is None:
        raise NotFound(_("No such unit."))
    permissions.require(actor, "directory.edit", unit)
    clean, errors = clean_unit(values)
    _raise_if(errors)
    parent, errors = _unit_db_errors(clean, unit)
    _raise_if(errors)
    before = unit_snapshot(unit)
    assign(unit, _unit_attrs(clean, parent))
    old, new = changed(before, unit_snapshot(unit))
    if new:
        audit.record(actor, "unit.update", unit, before=old, after=new)
    db.session.commit()
    return unit


# --- systems ----------------------------------------------------------------------------------


def system_query(
    user: User,
    *,
    q: str = "",
    level: int | None = None,
    cii: str = "",
    internet: str = "",
    unit_code: str = "",
) -> sa.Select:
    """Systems the user may see, filtered: q searches name, code and filing number."""
    stmt = permissions.scope(sa.select(System), System, user).options(selectinload(System.unit))
    if q:
        stmt = stmt.where(
            sa.or_(
                System.name.icontains(q, autoescape=True),
                System.code.icontains(q, autoescape=True),
                System.filing_number.icontains(q, autoescape=True),
            )
        )
    if level in MLPS_LEVELS:
        stmt = stmt.where(System.mlps_level == level)
    stmt = _flag_filter(stmt, System.is_cii, cii)
    stmt = _flag_filter(stmt, System.internet_facing, internet)
    if unit_code:
        stmt = stmt.where(System.unit.has(Unit.code == unit_code))
    return stmt.order_by(System.code)


def _system_db_errors(clean: dict[str, Any], system: System | None) -> tuple[Unit | None, dict]:
    errors: dict[str, str] = {}
    other = db.session.scalar(
        sa.select(System).where(
            same_code(System.code, clean["code"]), System.id != (system.id if system else 0)
        )
    )
    if other is not None:
        errors["code"] = _("Another system already has the code %(code)s.", code=other.code)
    unit = _unit_by_code(clean["unit_code"])
    if unit is None:
        errors["unit_code"] = _("No unit has the code %(code)s.", code=clean["unit_code"])
    return unit, errors


def _system_attrs(clean: dict[str, Any], unit: Unit) -> dict[str, Any]:
    attrs = {k: v for k, v in clean.items() if k != "unit_code"}
    attrs["unit"] = unit
    return attrs


def create_system(values: Mapping[str, Any], *, actor: User) -> System:
    """Add an important system to a unit. Raises NotAllowed or ValidationFailed. Commits."""
    permissions.require(actor, "directory.edit")
    clean, errors = clean_system(values)
    _raise_if(errors)
    unit, errors = _system_db_errors(clean, None)
    _raise_if(errors)
    permissions.require(actor, "directory.edit", unit)
    system = System(**_system_attrs(clean, unit))
    db.session.add(system)
    audit.record(actor, "system.create", system, after=system_snapshot(system))
    db.session.commit()
    return system


def update_system(system_id: int, values: Mapping[str, Any], *, actor: User) -> System:
    """Change a system's record. Raises NotFound, NotAllowed or ValidationFailed. Commits."""
    system = db.session.get(System, system_id)
    if system is None:
        raise NotFound(_("No such system."))
    permissions.require(actor, "directory.edit", system)
    clean, errors = clean_system(values)
    _raise_if(errors)
    unit, errors = _system_db_errors(clean, system)
    _raise_if(errors)
    before = system_snapshot(system)
    assign(system, _system_attrs(clean, unit))
    old, new = changed(before, system_snapshot(system))
    if new:
        audit.record(actor, "system.update", system, before=old, after=new)
    db.session.commit()
    return system


# --- accounts ---------------------------------------------------------------------------------

USER_AUDIT_FIELDS = ("display_name", "role", "certificate_no", "email", "is_active_flag")


def may_manage_role(actor: User, role: str) -> bool:
    """Admins manage every account; coordinators only inspector, unit and viewer accounts."""
    return permissions.may_manage_account(actor, role)


def assignable_roles(actor: User) -> tuple[str, ...]:
    return tuple(role for role in ROLES if may_manage_role(actor, role))


def _require_manage(actor: User, *roles: str) -> None:
    for role in roles:
        if not may_manage_role(actor, role):
            raise NotAllowed(
                _(
                    "Only an administrator may create or change administrator and coordinator accounts."
                )
            )


def user_query(user: User, *, role: str = "", q: str = "") -> sa.Select:
    """Accounts the user may see, filtered by role and by a name search."""
    stmt = permissions.scope(sa.select(User), User, user).options(
        selectinload(User.unit), selectinload(User.department)
    )
    if role in ROLES:
        stmt = stmt.where(User.role == role)
    if q:
        stmt = stmt.where(
            sa.or_(
                User.username.icontains(q, autoescape=True),
                User.display_name.icontains(q, autoescape=True),
            )
        )
    return stmt.order_by(User.username)


def _membership(values: Mapping[str, Any], role: str, errors: dict[str, str]):
    """Resolve department and unit codes for role, adding messages for wrong combinations."""
    department, unit, problems = auth_services.resolve_membership(
        role, _text(values, "unit_code"), _text(values, "department_code")
    )
    errors.update(problems)
    return department, unit


def _role_of(values: Mapping[str, Any], errors: dict[str, str]) -> str:
    role = _text(values, "role")
    if role not in ROLES:
        errors["role"] = _("Choose a role from the list.")
    return role


def _check_certificate(values: Mapping[str, Any], errors: dict[str, str]) -> str:
    certificate = _text(values, "certificate_no")
    if len(certificate) > 60:
        errors["certificate_no"] = _("At most %(n)d characters.", n=60)
    return certificate


def _check_email(values: Mapping[str, Any], errors: dict[str, str]) -> str:
    """The account's e-mail address for reminders: optional, one address."""
    address = _text(values, "email")
    if problem := auth_services.email_problem(address):
        errors["email"] = problem
    return address


def create_account(values: Mapping[str, Any], *, actor: User) -> User:
    """Create a login for someone (values: username, display_name, role, department_code,
    unit_code, certificate_no, email, password).

    Raises NotAllowed when a coordinator tries to create an admin or coordinator, ValidationFailed
    with messages by field otherwise. Commits (through auth.services.create_user).
    """
    permissions.require(actor, "users.view")
    errors: dict[str, str] = {}
    role = _role_of(values, errors)
    if role in ROLES:
        _require_manage(actor, role)
    username = _text(values, "username")
    if not username or len(username) > 80:
        errors["username"] = _("The username must have 1 to 80 characters.")
    elif db.session.scalar(sa.select(User.id).where(User.username == username)):
        errors["username"] = _("The username %(name)s is already taken.", name=username)
    display_name = _text(values, "display_name")
    if len(display_name) > 100:
        errors["display_name"] = _("At most %(n)d characters.", n=100)
    certificate = _check_certificate(values, errors)
    email = _check_email(values, errors)
    department, unit = _membership(values, role, errors)
    password = values.get("password") or ""
    try:
        # The one password rule, kept in auth.
        auth_services.check_password_strength(password, username=username)
    except ValidationFailed as err:
        errors["password"] = err.message
    _raise_if(errors)
    return auth_services.create_user(
        username,
        password,
        role,
        actor=actor,
        unit_code=unit.code if unit else None,
        department_code=department.code if department else None,
        display_name=display_name,
        certificate_no=certificate,
        email=email,
    )


def _account_snapshot(user: User) -> dict[str, Any]:
    data = snapshot(user, USER_AUDIT_FIELDS)
    data["department_code"] = user.department.code if user.department else ""
    data["unit_code"] = user.unit.code if user.unit else ""
    return data


def update_account(user_id: int, values: Mapping[str, Any], *, actor: User) -> User:
    """Change an account's name, role, department or unit, certificate number, e-mail address or
    active flag.

    Deactivating ends the user's sessions. Raises NotFound, NotAllowed (coordinators and
    admin/coordinator accounts) or ValidationFailed (also when people demote or deactivate
    themselves, which would lock them out). Commits.
    """
    permissions.require(actor, "users.view")
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(_("No such account."))
    errors: dict[str, str] = {}
    role = _role_of(values, errors)
    _require_manage(actor, user.role, *([role] if role in ROLES else []))
    active = bool(values.get("active"))
    if user.id == actor.id and role != user.role:
        errors["role"] = _("You cannot change your own role.")
    if user.id == actor.id and not active:
        errors["active"] = _("You cannot deactivate your own account.")
    display_name = _text(values, "display_name")
    if len(display_name) > 100:
        errors["display_name"] = _("At most %(n)d characters.", n=100)
    certificate = _check_certificate(values, errors)
    email = _check_email(values, errors)
    department, unit = _membership(values, role, errors)
    _raise_if(errors)
    before = _account_snapshot(user)
    assign(
        user,
        {
            "display_name": display_name,
            "role": role,
            "department": department,
            "unit": unit,
            "certificate_no": certificate,
            "email": email,
            "is_active_flag": active,
        },
    )
    if before["is_active_flag"] and not active:
        auth_services.end_sessions(user, reason="deactivated")
    old, new = changed(before, _account_snapshot(user))
    if new:
        audit.record(actor, "user.update", user, before=old, after=new, unit_id=user.unit_id)
    db.session.commit()
    return user


def reset_password(user_id: int, new_password: str, *, actor: User) -> User:
    """Give an account a new password and end all its sessions (the session token rotates).

    Raises NotFound, NotAllowed (see may_manage_role) or ValidationFailed for a weak password.
    Commits.
    """
    permissions.require(actor, "users.view")
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(_("No such account."))
    _require_manage(actor, user.role)
    try:
        auth_services.check_password_strength(new_password, username=user.username)
    except ValidationFailed as err:
        raise ValidationFailed(err.message, details={"password": err.message}) from None
    user.password_hash = auth_services.hash_password(new_password)
    auth_services.end_sessions(user, reason="password_reset")
    user.password_changed_at = utcnow()
    audit.record(actor, "user.password_reset", user, unit_id=user.unit_id)
    db.session.commit()
    return user
