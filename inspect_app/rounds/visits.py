"""Visits before they happen: the plan's approval (行政检查审批) and the 检查通知书 sent to the unit.

Commands check first, then change, write their audit event and commit once.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from .. import audit, inputs
from ..auth import permissions
from ..clock import local_today
from ..errors import InvalidTransition, NotFound, ValidationFailed
from ..extensions import db
from ..models import Round, User, Visit, utcnow

PREPARATION_MAX = 3000


def load_visit(visit_id: int, *, actor: User, action: str = "rounds.view", lock: bool = False):
    """The visit, or NotFound; NotAllowed unless the actor may do `action`."""
    stmt = sa.select(Visit).where(Visit.id == visit_id)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    visit = db.session.scalar(stmt)
    if visit is None:
        raise NotFound(_("No such visit."))
    permissions.require(actor, action, visit)
    return visit


def _next_advance_number(year: int) -> tuple[int, str]:
    from ..inspections.notices import lock_counter

    lock_counter(year)  # the year's documents are numbered one at a time
    last = db.session.scalar(
        sa.select(sa.func.max(Visit.advance_notice_seq))
        .join(Round, Round.id == Visit.round_id)
        .where(Round.year == year)
    )
    seq = (last or 0) + 1
    return seq, current_app.config["ADVANCE_NOTICE_NUMBER_PATTERN"].format(year=year, seq=seq)


def approve_plan(
    visit_id: int,
    *,
    actor: User,
    preparation: str,
    today: date | None = None,
    now: datetime | None = None,
) -> Visit:
    """Approve the plan of a visit before the team goes (行政检查审批) and issue its 检查通知书
    (basis, scope, date, team, what to prepare), numbered in the year.

    Raises NotAllowed unless a coordinator, InvalidTransition once approved or once the visit
    has started, ValidationFailed without a date or with too long a preparation text. Commits.
    """
    visit = load_visit(visit_id, actor=actor, action="rounds.edit", lock=True)
    if visit.plan_approved_at is not None:
        raise InvalidTransition(_("The plan of this visit is approved already."))
    if visit.arrived_at is not None or any(i.status != "planned" for i in visit.inspections):
        raise InvalidTransition(_("The visit has started: its plan can no longer be approved."))
    if visit.scheduled_on is None:
        raise ValidationFailed(_("The visit has no date yet."))
    text = (preparation or "").strip()
    if len(text) > PREPARATION_MAX or not inputs.storable(text):
        raise ValidationFailed(
            _("The text is too long or contains characters that cannot be stored.")
        )
    today = today or local_today()
    seq, number = _next_advance_number(visit.round.year)
    visit.plan_approved_at = now or utcnow()
    visit.plan_approved_by_id = actor.id
    visit.advance_notice_seq, visit.advance_notice_number = seq, number
    visit.advance_notice_issued_on = today
    visit.preparation = text
    audit.record(
        actor,
        "visit.plan_approve",
        visit,
        after={"advance_notice_number": number, "issued_on": today, "preparation": text},
        hidden_from_unit=True,
    )
    db.session.commit()
    return visit


def record_advance_served(
    visit_id: int, *, actor: User, served_on: date, today: date | None = None
) -> Visit:
    """Record the date the 检查通知书 was served. Raises InvalidTransition before it is issued,
    ValidationFailed for a date before its issue or in the future. Commits."""
    visit = load_visit(visit_id, actor=actor, action="rounds.edit", lock=True)
    if visit.advance_notice_number is None:
        raise InvalidTransition(_("The inspection notice has not been issued yet."))
    if served_on < visit.advance_notice_issued_on or served_on > (today or local_today()):
        raise ValidationFailed(_("The date must be between the issue date and today."))
    before = visit.advance_notice_served_on
    visit.advance_notice_served_on = served_on
    audit.record(
        actor,
        "visit.advance_notice_served",
        visit,
        before={"served_on": before},
        after={"served_on": served_on},
    )
    db.session.commit()
    return visit
