"""The append-only, hash-chained audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import utcnow
from .user import User


class AuditEvent(db.Model):
    """Who did what to which object, when and from where; `hash` chains every row to the last.

    Rows are never updated or deleted: database triggers refuse it (migration d09db7b7a8ef).
    """

    __tablename__ = "audit_events"
    # The audit page's filter by object (type and id): without it, a page of one object's few
    # events scanned the whole log (13 s at 2 million events on PostgreSQL).
    __table_args__ = (sa.Index("ix_audit_events_object", "object_type", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    actor_name: Mapped[str] = mapped_column(sa.String(100), default="")
    action: Mapped[str] = mapped_column(sa.String(60), index=True)
    object_type: Mapped[str] = mapped_column(sa.String(40), default="")
    object_id: Mapped[str] = mapped_column(sa.String(40), default="")
    # The unit the object belongs to, so unit users can be scoped and 404 on others.
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("units.id"), index=True)
    # None is SQL NULL on both databases (PostgreSQL's one-statement write makes it so too).
    before: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON(none_as_null=True))
    after: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON(none_as_null=True))
    ip: Mapped[str] = mapped_column(sa.String(45), default="")
    # The chain it is in: the id of its head (AuditHead). prev_hash is the hash of the chain's
    # event before it. Not covered by the hash: moving an event breaks both chains' links.
    chain: Mapped[int] = mapped_column(default=1, server_default="1")
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    # How `hash` was made: "hmac-v1" (HMAC-SHA256 with the key named by key_id, kept outside the
    # database) or "sha256" (plain SHA-256: events written before the chain was keyed).
    hash_scheme: Mapped[str] = mapped_column(sa.String(16))
    key_id: Mapped[str | None] = mapped_column(sa.String(16))

    actor: Mapped[User | None] = relationship()


class AuditHead(db.Model):
    """The newest event of one chain (its id is the chain's number; chain 1 always exists).

    Every append locks and moves one head, so concurrent appends to one chain queue up instead of
    forking it, and `flask audit verify` notices when a chain's newest events were deleted.
    Writers committing at the same time take different chains (AUDIT_CHAINS).
    """

    __tablename__ = "audit_heads"

    id: Mapped[int] = mapped_column(primary_key=True)
    last_event_id: Mapped[int] = mapped_column(default=0)
    hash: Mapped[str] = mapped_column(sa.String(64), default="0" * 64)
    count: Mapped[int] = mapped_column(default=0)
    # The chain's events that may change a summary figure (audit.services.may_change_figures):
    # the dashboard's cache key. Not a guarantee of the chain: verify does not read it.
    figure_events: Mapped[int] = mapped_column(default=0, server_default="0")
