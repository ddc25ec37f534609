"""What the rectification pages, the dashboard, the exports and the reminders read: items in
the viewer's scope, with the overdue and the due-soon first. Overdue and due soon are derived
from the due date, never stored."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import aliased, joinedload, selectinload

from ..auth import permissions
from ..extensions import db
from ..models import (
    Answer,
    Attachment,
    Finding,
    Inspection,
    RectificationEvent,
    RectificationItem,
    Round,
    Unit,
    User,
    Visit,
)
from ..models.rectification import UNIT_TURN_STATUSES


def overdue_clause(today: date):
    return sa.and_(
        RectificationItem.status.in_(UNIT_TURN_STATUSES), RectificationItem.due_date < today
    )


def due_soon_clause(today: date, days: int):
    return sa.and_(
        RectificationItem.status.in_(UNIT_TURN_STATUSES),
        RectificationItem.due_date >= today,
        RectificationItem.due_date <= today + timedelta(days=days),
    )


def extension_waiting_clause():
    """Items with an extension request neither granted nor refused yet (the SQL of
    RectificationItem.pending_extension)."""
    asked, decided = aliased(RectificationEvent), aliased(RectificationEvent)
    later_decision = sa.exists().where(
        decided.item_id == asked.item_id,
        decided.id > asked.id,
        decided.kind.in_(("extension_granted", "extension_refused")),
    )
    return sa.and_(
        # a request the unit's report or the office's close overtook has nothing left to decide
        RectificationItem.status.in_(UNIT_TURN_STATUSES),
        sa.exists().where(
            asked.item_id == RectificationItem.id,
            asked.kind == "extension_requested",
            ~later_decision,
        ),
    )


@dataclass
class ItemFilter:
    """Filters of the item lists; empty values filter nothing."""

    status: str = ""  # a status, or "overdue" / "due_soon" / "extension" (a request waits)
    unit_id: int | None = None
    round_id: int | None = None
    year: int | None = None
    severity: str = ""
    repeat: bool = False
    q: str = ""  # finding code or description
    statuses: tuple[str, ...] = field(default_factory=tuple)


def items_query(actor: User, filters: ItemFilter, *, today: date, soon_days: int) -> sa.Select:
    """Items the actor may see, filtered; the unit's overdue first, then by due date."""
    stmt = (
        permissions.scope(sa.select(RectificationItem), RectificationItem, actor)
        .join(Finding, Finding.id == RectificationItem.finding_id)
        .join(Inspection, Inspection.id == Finding.inspection_id)
        .join(Round, Round.id == Inspection.round_id)
        .options(
            joinedload(RectificationItem.finding).joinedload(Finding.inspection),
            joinedload(RectificationItem.unit),
            selectinload(RectificationItem.events),
        )
    )
    if filters.status == "overdue":
        stmt = stmt.where(overdue_clause(today))
    elif filters.status == "due_soon":
        stmt = stmt.where(due_soon_clause(today, soon_days))
    elif filters.status == "extension":
        stmt = stmt.where(extension_waiting_clause())
    elif filters.status:
        stmt = stmt.where(RectificationItem.status == filters.status)
    if filters.statuses:
        stmt = stmt.where(RectificationItem.status.in_(filters.statuses))
    if filters.unit_id:
        stmt = stmt.where(RectificationItem.unit_id == filters.unit_id)
    if filters.round_id:
        stmt = stmt.where(Inspection.round_id == filters.round_id)
    if filters.year:
        stmt = stmt.where(Round.year == filters.year)
    if filters.severity:
        stmt = stmt.where(Finding.severity == filters.severity)
    if filters.repeat:
        stmt = stmt.where(Finding.repeat_of_id.is_not(None))
    if filters.q:
        like = "%" + filters.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(
            sa.or_(
                Finding.code.ilike(like, escape="\\"), Finding.description.ilike(like, escape="\\")
            )
        )
    overdue_first = sa.case((overdue_clause(today), 0), else_=1)
    return stmt.order_by(
        overdue_first,
        RectificationItem.due_date.is_(None),
        RectificationItem.due_date,
        RectificationItem.id,
    )


def items_for_unit(unit_id: int) -> list[RectificationItem]:
    return list(
        db.session.scalars(
            sa.select(RectificationItem)
            .where(RectificationItem.unit_id == unit_id)
            .options(joinedload(RectificationItem.finding))
            .order_by(RectificationItem.id)
        )
    )


def overdue_items(today: date) -> list[RectificationItem]:
    return list(
        db.session.scalars(
            sa.select(RectificationItem)
            .where(overdue_clause(today))
            .options(joinedload(RectificationItem.finding))
            .order_by(RectificationItem.due_date, RectificationItem.id)
        )
    )


def due_within(today: date, days: int) -> list[RectificationItem]:
    """Items of the unit's turn due from today to today + days."""
    return list(
        db.session.scalars(
            sa.select(RectificationItem)
            .where(due_soon_clause(today, days))
            .options(joinedload(RectificationItem.finding))
            .order_by(RectificationItem.due_date, RectificationItem.id)
        )
    )


UNIT_GROUPS = ("overdue", "due_soon", "open", "returned", "submitted", "closed", "other")


def group_for_unit(items: list[RectificationItem], today: date, soon_days: int):
    """The unit's home: 已逾期 / 即将到期 / 待整改 / 已退回 / 待验收 / 已销号 (and the rest)."""
    groups: dict[str, list[RectificationItem]] = {name: [] for name in UNIT_GROUPS}
    for item in items:
        if item.is_overdue(today):
            groups["overdue"].append(item)
        elif item.is_due_soon(today, soon_days):
            groups["due_soon"].append(item)
        elif item.status in ("open", "returned", "submitted", "closed"):
            groups[item.status].append(item)
        else:
            groups["other"].append(item)
    return groups


# --- what the pages read besides the lists ----------------------------------------------------


def items_by_ids(actor: User, ids: list[int], *, today: date, soon_days: int):
    """The given items the actor may see (a bulk form shown again with its refusals)."""
    if not ids:
        return []
    stmt = items_query(actor, ItemFilter(), today=today, soon_days=soon_days)
    return list(db.session.scalars(stmt.where(RectificationItem.id.in_(ids))))


def notices_for(actor: User) -> list[Inspection]:
    """The rectification notices the actor may see, newest first (a unit: its own, on record)."""
    # One notice per visit, reached through the visit's first inspection.
    firsts = sa.select(sa.func.min(Inspection.id)).group_by(Inspection.visit_id)
    stmt = (
        permissions.scope(sa.select(Inspection), Inspection, actor)
        .join(Visit, Visit.id == Inspection.visit_id)
        .where(
            Visit.notice_number.is_not(None),
            Visit.notice_status == "approved",
            Inspection.id.in_(firsts),
        )
        .options(joinedload(Inspection.round), joinedload(Inspection.system))
        .order_by(Visit.notice_issued_on.desc(), Inspection.id.desc())
    )
    return list(db.session.scalars(stmt))


def notice_findings(inspection: Inspection) -> list[Finding]:
    """The findings of one notice (every inspection of the visit) with their items and
    histories (the printed 整改报告)."""
    visit_inspections = sa.select(Inspection.id).where(Inspection.visit_id == inspection.visit_id)
    return list(
        db.session.scalars(
            sa.select(Finding)
            .where(Finding.inspection_id.in_(visit_inspections))
            .options(
                selectinload(Finding.rectification)
                .selectinload(RectificationItem.events)
                .selectinload(RectificationEvent.attachments)
            )
            .order_by(Finding.code)
        )
    )


def inspection_evidence(finding: Finding) -> list[Attachment]:
    """The inspectors' photos and documents for the answer that made the finding."""
    answer_ids = sa.select(Answer.id).where(
        Answer.inspection_id == finding.inspection_id, Answer.item_id == finding.item_id
    )
    return list(
        db.session.scalars(
            sa.select(Attachment)
            .where(
                Attachment.inspection_id == finding.inspection_id,
                Attachment.answer_id.in_(answer_ids),
            )
            .order_by(Attachment.id)
        )
    )


def unit_findings(actor: User, unit_id: int, *, limit: int = 20) -> list[Finding]:
    """A unit's findings across rounds, latest round first (its page's short history)."""
    stmt = (
        permissions.scope(sa.select(Finding), Finding, actor)
        .join(Inspection, Inspection.id == Finding.inspection_id)
        .join(Round, Round.id == Inspection.round_id)
        .where(Finding.unit_id == unit_id)
        .options(
            joinedload(Finding.inspection).joinedload(Inspection.round),
            joinedload(Finding.item),
            joinedload(Finding.rectification),
        )
        .order_by(Round.year.desc(), Round.seq.desc(), Finding.code)
        .limit(limit)
    )
    return list(db.session.scalars(stmt))


def filter_choices(actor: User) -> tuple[list[Unit], list[Round]]:
    """The units and rounds that have items the actor may see (the ledger's filters)."""
    items = permissions.scope(
        sa.select(RectificationItem.id), RectificationItem, actor
    ).scalar_subquery()
    units = db.session.scalars(
        sa.select(Unit)
        .where(
            Unit.id.in_(sa.select(RectificationItem.unit_id).where(RectificationItem.id.in_(items)))
        )
        .order_by(Unit.code)
    )
    rounds = db.session.scalars(
        sa.select(Round)
        .where(
            Round.id.in_(
                sa.select(Inspection.round_id)
                .join(Finding, Finding.inspection_id == Inspection.id)
                .join(RectificationItem, RectificationItem.finding_id == Finding.id)
                .where(RectificationItem.id.in_(items))
            )
        )
        .order_by(Round.year.desc(), Round.seq.desc())
    )
    return list(units), list(rounds)


def counts(actor: User, *, today: date, soon_days: int) -> dict[str, int]:
    """Overdue, due soon, awaiting verification and waiting for an extension decision, among
    the items the actor may see."""
    base = permissions.scope(
        sa.select(sa.func.count(RectificationItem.id)), RectificationItem, actor
    )
    return {
        "overdue": db.session.scalar(base.where(overdue_clause(today))) or 0,
        "due_soon": db.session.scalar(base.where(due_soon_clause(today, soon_days))) or 0,
        "submitted": db.session.scalar(base.where(RectificationItem.status == "submitted")) or 0,
        "extension": db.session.scalar(base.where(extension_waiting_clause())) or 0,
    }
