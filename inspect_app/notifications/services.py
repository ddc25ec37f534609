"""Storing notifications for the people a rectification step concerns, and reading them.

Commands call notify() inside their own transaction, so a notification exists exactly when the
step it reports was committed. A `dedupe_key` makes a reminder idempotent per recipient. A user
reads, opens and marks read only their own notifications.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from ..errors import NotFound
from ..extensions import db
from ..models import Inspection, InspectionMember, Notification, RectificationItem, User, utcnow

OFFICE_ROLES = ("coordinator",)


def unit_users(unit_id: int) -> list[User]:
    return list(
        db.session.scalars(
            sa.select(User).where(
                User.unit_id == unit_id, User.role == "unit", User.is_active_flag.is_(True)
            )
        )
    )


def office_users() -> list[User]:
    return list(
        db.session.scalars(
            sa.select(User).where(User.role.in_(OFFICE_ROLES), User.is_active_flag.is_(True))
        )
    )


def team_users(inspection: Inspection) -> list[User]:
    """The inspectors of an inspection's team (the lead included)."""
    ids = set(
        db.session.scalars(
            sa.select(InspectionMember.user_id).where(
                InspectionMember.inspection_id == inspection.id
            )
        )
    )
    if inspection.lead_id:
        ids.add(inspection.lead_id)
    if not ids:
        return []
    return list(
        db.session.scalars(sa.select(User).where(User.id.in_(ids), User.is_active_flag.is_(True)))
    )


def notify(
    users: Iterable[User],
    kind: str,
    item: RectificationItem | None = None,
    *,
    data: dict[str, Any] | None = None,
    dedupe_key: str | None = None,
    exclude: User | None = None,
) -> list[Notification]:
    """Add one notification per user (not to `exclude`, the one who acted). With a dedupe_key,
    a user who already has that notification gets none. Adds to the session; no commit."""
    recipients = {u.id: u for u in users if exclude is None or u.id != exclude.id}
    if not recipients:
        return []
    keys = {uid: f"{dedupe_key}:{uid}" if dedupe_key else None for uid in recipients}
    if dedupe_key:
        taken = set(
            db.session.scalars(
                sa.select(Notification.dedupe_key).where(
                    Notification.dedupe_key.in_([k for k in keys.values() if k])
                )
            )
        )
        recipients = {uid: u for uid, u in recipients.items() if keys[uid] not in taken}
    made = [
        Notification(
            user_id=uid,
            kind=kind,
            item_id=item.id if item is not None else None,
            data=data or {},
            dedupe_key=keys[uid],
        )
        for uid in recipients
    ]
    db.session.add_all(made)
    return made


def unread_count(user: User) -> int:
    return (
        db.session.scalar(
            sa.select(sa.func.count(Notification.id)).where(
                Notification.user_id == user.id, Notification.read_at.is_(None)
            )
        )
        or 0
    )


# --- the reader's side: the list, opening one, marking all read ---------------------------------
#
# Marking read writes no audit event: it records what one person has seen in their own inbox,
# not a change to any record of the inspection or rectification (行政执法全过程记录 covers the
# steps that caused the notifications, each audited where it happened).


def list_query(user: User) -> sa.Select:
    """The user's own notifications, newest first, with what their texts need loaded."""
    return (
        sa.select(Notification)
        .where(Notification.user_id == user.id)
        .options(joinedload(Notification.item).joinedload(RectificationItem.unit))
        .order_by(Notification.created_at.desc(), Notification.id.desc())
    )


def open_notification(
    notification_id: int, *, actor: User, now: datetime | None = None
) -> Notification:
    """Mark one of the actor's notifications read (once; the first reading time stays).

    Raises NotFound for a notification that is not the actor's own, so others' do not leak.
    Commits.
    """
    notification = db.session.get(Notification, notification_id)
    if notification is None or notification.user_id != actor.id:
        raise NotFound(_("No such notification."))
    if notification.read_at is None:
        notification.read_at = now or utcnow()
        db.session.commit()
    return notification


def mark_all_read(*, actor: User, now: datetime | None = None) -> int:
    """Mark every unread notification of the actor read. Returns how many. Commits."""
    result = db.session.execute(
        sa.update(Notification)
        .where(Notification.user_id == actor.id, Notification.read_at.is_(None))
        .values(read_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount or 0
