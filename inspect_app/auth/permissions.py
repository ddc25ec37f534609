"""The one place that answers "may this user do that to this object", and scopes every list.

Rules of thumb: admin may do everything; coordinators run the office; viewers read; inspectors
see what they are assigned to; a unit user sees only rows of its own unit, and anything else is
reported as not found (404) so the existence of other units' records never leaks.
"""

from __future__ import annotations

from functools import wraps
from typing import Any

import sqlalchemy as sa
from flask import abort
from flask_babel import gettext as _
from flask_login import current_user

from ..errors import NotAllowed, NotFound
from ..extensions import db
from ..models import (
    AuditEvent,
    Finding,
    Inspection,
    InspectionMember,
    Job,
    RectificationItem,
    System,
    Unit,
    User,
    Visit,
    unit_of,
)
from ..models.inspection import ON_RECORD_STATUSES

OFFICE = ("admin", "coordinator")
READERS = ("admin", "coordinator", "viewer")

# action -> roles allowed before any object check.
ROLE_ACTIONS: dict[str, tuple[str, ...]] = {
    "directory.view": READERS + ("unit",),
    "directory.edit": OFFICE,
    "directory.import": OFFICE,
    "users.view": OFFICE,
    "users.edit": ("admin",),
    "audit.view": READERS + ("unit",),
    "audit.view_all": READERS,
    "checklists.view": READERS + ("inspector",),
    "checklists.edit": OFFICE,
    "rounds.view": READERS,
    "rounds.edit": OFFICE,
    "inspection.view": READERS + ("inspector", "unit"),
    "inspection.fill": ("admin", "coordinator", "inspector"),
    # An inspector submits only as the team's lead (checked in can()).
    "inspection.submit": ("admin", "coordinator", "inspector"),
    "inspection.reopen": OFFICE,
    # Review before issue: a coordinator (office head) approves the draft notice and numbers it.
    "notice.approve": OFFICE,
    # Evidence as taken, EXIF (time, device, GPS) included; others get a copy without it.
    "evidence.original": ("admin", "coordinator", "inspector"),
    "rectification.view": READERS + ("inspector", "unit"),
    # The unit's self-assessment (自查) of an announced visit (object checks in selfcheck).
    "selfcheck.fill": ("unit",),
    # The unit answers its own items and asks for more time.
    "rectification.respond": ("unit",),
    # The office enters a paper response or request for a unit without an account (代录).
    "rectification.record_for_unit": OFFICE,
    # Verify (销号) or return: the office, and the inspectors of the original team.
    "rectification.verify": OFFICE + ("inspector",),
    "rectification.extend": OFFICE,
    # Accept a risk, escalate (移送), record an interview (约谈) or a notification (通报).
    "rectification.manage": OFFICE,
    "exports.download": READERS,
    # A background job and its file: its owner's (checked in is_visible) and administrators'.
    "jobs.view": ("admin", "coordinator", "inspector", "unit", "viewer"),
    # The dashboard, its charts and the annual report (年度通报).
    "reports.view": READERS,
}

# Models whose rows belong to a unit, and the column that says which.
_UNIT_COLUMN = {
    Unit: Unit.id,
    System: System.unit_id,
    AuditEvent: AuditEvent.unit_id,
    Inspection: Inspection.unit_id,
    Finding: Finding.unit_id,
    RectificationItem: RectificationItem.unit_id,
}


# Accounts a coordinator may create and change; admin and coordinator accounts are for admins.
COORDINATOR_MANAGED_ROLES = ("inspector", "unit", "viewer")


def may_manage_account(actor: User | None, role: str) -> bool:
    """Whether actor may create or change an account with this role."""
    if can(actor, "users.edit"):
        return True
    return (
        can(actor, "users.view")
        and actor.role == "coordinator"
        and role in COORDINATOR_MANAGED_ROLES
    )


# The unit's own statements: its rectification report and request for more time, its
# self-assessment and its rating of the team's conduct (selfcheck.fill). Nobody makes them for
# it, an administrator neither; the office enters a paper one as such
# (rectification.record_for_unit, 代录), marked as entered for the unit.
UNIT_OWN_ACTIONS = frozenset({"rectification.respond", "selfcheck.fill"})


def can(user: User | None, action: str, obj: Any = None) -> bool:
    """True when user may perform action (on obj, when given)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if user.role == "admin":
        return action not in UNIT_OWN_ACTIONS
    roles = ROLE_ACTIONS.get(action)
    if roles is None or user.role not in roles:
        return False
    if obj is None:
        return True
    if not is_visible(user, obj):
        return False
    if action == "inspection.submit" and user.role == "inspector":
        return obj.lead_id == user.id
    return True


def _inspection_of(obj: Any) -> Inspection | None:
    """The inspection an object belongs to (itself, a finding's, a rectification item's…)."""
    if isinstance(obj, Inspection):
        return obj
    if getattr(obj, "inspection", None) is not None:
        return obj.inspection
    finding = getattr(obj, "finding", None)
    return finding.inspection if finding is not None else None


def on_team(user: User, inspection: Inspection) -> bool:
    return inspection.lead_id == user.id or any(m.user_id == user.id for m in inspection.members)


def is_visible(user: User, obj: Any) -> bool:
    """Object-level visibility: the same rule the list scopes apply. Unknown means no."""
    if isinstance(obj, Job):  # exports carry whole years of data: only their owner's
        return obj.owner_id == user.id or user.role == "admin"
    if user.role in READERS:
        return True
    if isinstance(obj, Visit):  # as its inspections: the team's, and the unit's once on record
        if user.role == "unit":
            return obj.unit_id == user.unit_id and obj.is_on_record
        return user.role == "inspector" and any(on_team(user, i) for i in obj.inspections)
    if user.role == "unit":
        if isinstance(obj, Inspection) and not obj.is_on_record:
            return False
        return unit_of(obj) is not None and unit_of(obj) == user.unit_id
    if user.role == "inspector":
        inspection = _inspection_of(obj)
        return inspection is not None and on_team(user, inspection)
    return False


def require(user: User | None, action: str, obj: Any = None) -> None:
    """Raise NotFound when obj is hidden from the user, NotAllowed when the action is refused."""
    if can(user, action, obj):
        return
    if obj is not None and user is not None and user.is_authenticated and not is_visible(user, obj):
        raise NotFound(_("The page or record does not exist, or you may not see it."))
    raise NotAllowed(_("You do not have permission to do this."))


def scope(stmt: sa.Select, model: type, user: User) -> sa.Select:
    """Restrict a SELECT over model to the rows user may see."""
    if user.role in READERS:
        return stmt
    if user.role == "unit":
        column = _UNIT_COLUMN.get(model)
        if column is None:
            return stmt.where(sa.false())
        stmt = stmt.where(column == user.unit_id)
        if model is Inspection:
            stmt = stmt.where(Inspection.status.in_(ON_RECORD_STATUSES))
        return stmt
    if user.role == "inspector":
        # Default deny: an inspector sees the inspections of their teams and what hangs on them.
        teams = sa.select(InspectionMember.inspection_id).where(InspectionMember.user_id == user.id)
        led = sa.select(Inspection.id).where(Inspection.lead_id == user.id)
        mine = sa.union(teams, led)
        if model is Inspection:
            return stmt.where(Inspection.id.in_(mine))
        if model is Finding:
            return stmt.where(Finding.inspection_id.in_(mine))
        if model is RectificationItem:
            found = sa.select(Finding.id).where(Finding.inspection_id.in_(mine))
            return stmt.where(RectificationItem.finding_id.in_(found))
        return stmt.where(sa.false())
    return stmt.where(sa.false())


def get_visible_or_404(model: type, ident: Any, user: User | None = None):
    """Load one row the user may see, or abort 404 (also for rows of other units)."""
    user = user or current_user
    obj = db.session.get(model, ident)
    if obj is None or not is_visible(user, obj):
        abort(404)
    return obj


def action_required(action: str):
    """View decorator: 403 unless can(current_user, action)."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                from ..extensions import login_manager

                return login_manager.unauthorized()
            if not can(current_user, action):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


__all__ = [
    "action_required",
    "can",
    "get_visible_or_404",
    "is_visible",
    "require",
    "scope",
]
