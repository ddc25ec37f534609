"""What the rectification pages, the dashboard, the exports and the reminders read: items in
the viewer's scope, with the overdue and the due-soon first. Overdue and due soon are derived
from the due date, never stored."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from ..auth import permissions
from ..extensions import db
from ..models import Finding, Inspection, RectificationItem, Round, User
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


@dataclass
class ItemFilter:
    """Filters of the item lists; empty values filter nothing."""

    status: str = ""  # a status, or "overdue" / "due_soon"
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
