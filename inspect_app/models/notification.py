"""In-app notifications (the bell), optionally also sent by e-mail."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import utcnow
from .rectification import RectificationItem
from .user import User


class Notification(db.Model):
    """Something a user should know: a new item, a response to verify, a due date.

    The text is made from `kind` and `data` when shown, in the reader's language. `dedupe_key`
    makes a reminder idempotent: the same reminder is never stored (or mailed) twice.
    """

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(40))
    item_id: Mapped[int | None] = mapped_column(sa.ForeignKey("rectification_items.id"), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    dedupe_key: Mapped[str | None] = mapped_column(sa.String(120), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    read_at: Mapped[datetime | None]
    emailed_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()
    item: Mapped[RectificationItem | None] = relationship()
