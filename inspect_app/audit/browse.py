"""Browsing the audit log at any size. The log grows with every answer batch (a city's year is
about half a million events, a region's many times that), so a page reads only what it shows:

- pages are keyed by event id (`before`: older than; `after`: newer than), never an OFFSET that
  reads every row before it;
- the count stops at COUNT_CAP ("more than 10,000"), never a count of the whole log at each page;
- every filter can use an index: an action or a family of actions chosen from the labelled list
  (exact values), an actor found by name in the users table first (a handful of ids), an object
  (type and id), a date range.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from ..auth.permissions import scope
from ..clock import day_end_utc, day_start_utc
from ..extensions import db
from ..labels import AUDIT_ACTION_LABELS
from ..models import AuditEvent, User

COUNT_CAP = 10_000
SYSTEM_ACTOR = "system"  # the actor_name of an event no account made (audit.record)
# An actor's name matching more accounts than this is looked for in the events' own names.
_MAX_ACTOR_IDS = 200


@dataclass(frozen=True)
class Filters:
    action: str = ""  # action_choice(): an action, a family ("inspection"), or a prefix
    actor: str = ""  # part of a username or display name
    object_type: str = ""
    object_id: str = ""
    since: date | None = None
    until: date | None = None


@dataclass
class LogPage:
    events: list[AuditEvent]
    newer: int | None  # pass as `after` for the page of newer events; None on the newest page
    older: int | None  # pass as `before` for the page of older events; None on the oldest
    total: int  # events matching the filters, counted up to COUNT_CAP
    more: bool  # more than COUNT_CAP (= total) match


@functools.cache
def families() -> dict[str, list[str]]:
    """The labelled actions by family (the part before the first dot), in the labels' order."""
    grouped: dict[str, list[str]] = {}
    for code in AUDIT_ACTION_LABELS:
        grouped.setdefault(code.split(".", 1)[0], []).append(code)
    return grouped


def action_choice(value: str) -> str:
    """The action filter as the list names it: a family written with its dot (`round.`, the
    old prefix filter's way) is the family."""
    family = value.rstrip(".")
    return family if family in families() else value


def is_listed(choice: str) -> bool:
    """Whether the action list offers `choice` (a family or a labelled action)."""
    return choice in families() or choice in AUDIT_ACTION_LABELS


def _action_clause(choice: str):
    if choice in families():
        return AuditEvent.action.in_(families()[choice])
    if choice in AUDIT_ACTION_LABELS:
        return AuditEvent.action == choice
    # An action the labels do not name (typed into the address): its prefix, as before.
    return AuditEvent.action.startswith(choice, autoescape=True)


def _actor_clause(text: str):
    ids = db.session.scalars(
        sa.select(User.id)
        .where(
            sa.or_(
                User.username.contains(text, autoescape=True),
                User.display_name.contains(text, autoescape=True),
            )
        )
        .limit(_MAX_ACTOR_IDS + 1)
    ).all()
    if len(ids) > _MAX_ACTOR_IDS:
        return AuditEvent.actor_name.contains(text, autoescape=True)
    by_account = AuditEvent.actor_id.in_(ids)
    # An event with no account (jobs, the command line) carries the name "system" (record()):
    # asked for only when the text is part of it, since the OR costs the ordered index walk.
    if text.casefold() in SYSTEM_ACTOR:
        return sa.or_(by_account, AuditEvent.actor_id.is_(None))
    return by_account


def filtered(user: User, filters: Filters) -> sa.Select:
    """The events `user` may see that match `filters`, unordered."""
    stmt = scope(sa.select(AuditEvent), AuditEvent, user)
    if filters.action:
        stmt = stmt.where(_action_clause(filters.action))
    if filters.actor:
        stmt = stmt.where(_actor_clause(filters.actor))
    if filters.object_type:
        stmt = stmt.where(AuditEvent.object_type == filters.object_type)
    if filters.object_id:
        stmt = stmt.where(AuditEvent.object_id == filters.object_id)
    if filters.since:
        stmt = stmt.where(AuditEvent.created_at >= day_start_utc(filters.since))
    if filters.until:
        stmt = stmt.where(AuditEvent.created_at < day_end_utc(filters.until))
    return stmt


def browse(
    user: User,
    filters: Filters,
    *,
    per_page: int,
    before: int | None = None,
    after: int | None = None,
) -> LogPage:
    """One page of the log, newest first: the newest events, or those older than `before`, or
    those just newer than `after` (`before` wins if both are given)."""
    matching = filtered(user, filters)

    def any_where(condition) -> bool:
        found = matching.with_only_columns(AuditEvent.id).where(condition).limit(1)
        return db.session.scalar(found) is not None

    stmt = matching
    if before is not None or after is None:
        if before is not None:
            stmt = stmt.where(AuditEvent.id < before)
        rows = db.session.scalars(stmt.order_by(AuditEvent.id.desc()).limit(per_page + 1)).all()
        events = list(rows[:per_page])
        older = events[-1].id if len(rows) > per_page else None
        # Newer ones, if any, start after the first shown (or at `before` on an empty page).
        edge = events[0].id if events else before - 1 if before is not None else None
        newer = edge if edge is not None and any_where(AuditEvent.id > edge) else None
    else:
        stmt = stmt.where(AuditEvent.id > after)
        rows = db.session.scalars(stmt.order_by(AuditEvent.id.asc()).limit(per_page + 1)).all()
        events = list(reversed(rows[:per_page]))
        newer = events[0].id if len(rows) > per_page else None
        edge = events[-1].id if events else after + 1
        older = edge if any_where(AuditEvent.id < edge) else None
    counted = matching.with_only_columns(AuditEvent.id).limit(COUNT_CAP + 1)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(counted.subquery()))
    return LogPage(events, newer, older, min(total, COUNT_CAP), total > COUNT_CAP)
