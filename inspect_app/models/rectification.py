"""Findings and the rectification items (整改事项) that track them to closure."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import in_values, utcnow
from .checklist import ChecklistItem
from .inspection import Inspection
from .org import System, Unit
from .user import User

RECTIFICATION_STATUSES = ("open", "submitted", "returned", "closed", "risk_accepted", "escalated")
SEVERITIES = ("high", "medium", "low")


class Finding(db.Model):
    """A non-compliance found in an inspection."""

    __tablename__ = "findings"
    __table_args__ = (sa.CheckConstraint(in_values("severity", SEVERITIES), name="severity"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    inspection_id: Mapped[int] = mapped_column(sa.ForeignKey("inspections.id"), index=True)
    item_id: Mapped[int | None] = mapped_column(sa.ForeignKey("checklist_items.id"))
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id"), index=True)
    system_id: Mapped[int | None] = mapped_column(sa.ForeignKey("systems.id"))
    description: Mapped[str] = mapped_column(sa.Text)
    category: Mapped[str] = mapped_column(sa.String(40), default="")
    severity: Mapped[str] = mapped_column(sa.String(10))
    major_hazard: Mapped[bool] = mapped_column(default=False)
    legal_basis: Mapped[list[Any]] = mapped_column(sa.JSON, default=list)
    required_action: Mapped[str] = mapped_column(sa.Text, default="")
    repeat_of_id: Mapped[int | None] = mapped_column(sa.ForeignKey("findings.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    inspection: Mapped[Inspection] = relationship(back_populates="findings")
    item: Mapped[ChecklistItem | None] = relationship()
    unit: Mapped[Unit] = relationship()
    system: Mapped[System | None] = relationship()
    repeat_of: Mapped[Finding | None] = relationship(remote_side=[id])
    rectification: Mapped[RectificationItem | None] = relationship(back_populates="finding")


class RectificationItem(db.Model):
    """The unit's duty to fix one finding by a due date; states in rectification/states.py."""

    __tablename__ = "rectification_items"
    __table_args__ = (
        sa.CheckConstraint(in_values("status", RECTIFICATION_STATUSES), name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    finding_id: Mapped[int] = mapped_column(sa.ForeignKey("findings.id"), unique=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id"), index=True)
    # Days from the date the notice is served; due_date follows once it is served.
    deadline_days: Mapped[int] = mapped_column(default=30)
    due_date: Mapped[date | None]
    status: Mapped[str] = mapped_column(sa.String(20), default="open", index=True)
    responsible_person: Mapped[str] = mapped_column(sa.String(100), default="")
    responsible_phone: Mapped[str] = mapped_column(sa.String(50), default="")
    risk_accepted_until: Mapped[date | None]
    escalated_to: Mapped[str] = mapped_column(sa.String(40), default="")
    closed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    finding: Mapped[Finding] = relationship(back_populates="rectification")
    unit: Mapped[Unit] = relationship()
    events: Mapped[list[RectificationEvent]] = relationship(
        back_populates="item", order_by="RectificationEvent.id"
    )


class RectificationEvent(db.Model):
    """One step in a rectification item's history: response, return, verify, extension…"""

    __tablename__ = "rectification_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(sa.ForeignKey("rectification_items.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(30))
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    message: Mapped[str] = mapped_column(sa.Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    item: Mapped[RectificationItem] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()
