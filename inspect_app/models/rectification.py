"""Findings and the rectification items (整改事项) that track them to closure."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import in_values, utcnow
from .checklist import ChecklistItem
from .inspection import Attachment, Inspection
from .org import System, Unit
from .user import User

RECTIFICATION_STATUSES = ("open", "submitted", "returned", "closed", "risk_accepted", "escalated")
# The unit's turn to act: only these can be overdue or due soon.
UNIT_TURN_STATUSES = ("open", "returned")
SEVERITIES = ("high", "medium", "low")
# Bodies an item can be handed over to (移送): 公安, 保密, a sector regulator, or a case (立案).
ESCALATION_TARGETS = ("police", "secrecy", "regulator", "case")
# The history of an item: what each RectificationEvent records (data holds the details).
EVENT_KINDS = (
    "response",  # 整改报告: cause, measures, completion date, responsible person, files
    "returned",  # 退回: reason, new due date
    "verified",  # 验收通过并销号: note, optional on-site re-check
    "extension_requested",  # 延期申请: reason, proposed date, interim measures
    "extension_granted",  # due date moved: from, to
    "extension_refused",
    "risk_accepted",  # reason, until
    "risk_reopened",  # the acceptance expired
    "escalated",  # 移送: to, body, reason
    "interview",  # 约谈 record: date, place, people, what was said, commitments
    "notification",  # 通报 to the unit's superior department
    "comment",
)


class Finding(db.Model):
    """A non-compliance found in an inspection."""

    __tablename__ = "findings"
    __table_args__ = (
        sa.CheckConstraint(in_values("severity", SEVERITIES), name="severity"),
        # What the dashboard's figures read of a finding, in one index (reports/figures.py).
        sa.Index(
            "ix_findings_inspection_figures",
            "inspection_id",
            "unit_id",
            "severity",
            "item_id",
            "repeat_of_id",
        ),
    )

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
    # How many earlier findings of this unit and item it repeats (0: none), and the severity it
    # had before a repeat raised it.
    repeat_count: Mapped[int] = mapped_column(default=0, server_default="0")
    raised_from: Mapped[str | None] = mapped_column(sa.String(10))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    inspection: Mapped[Inspection] = relationship(back_populates="findings")
    item: Mapped[ChecklistItem | None] = relationship()
    unit: Mapped[Unit] = relationship()
    system: Mapped[System | None] = relationship()
    repeat_of: Mapped[Finding | None] = relationship(remote_side=[id])
    rectification: Mapped[RectificationItem | None] = relationship(back_populates="finding")

    @property
    def is_repeat(self) -> bool:
        return self.repeat_of_id is not None


class RectificationItem(db.Model):
    """The unit's duty to fix one finding by a due date; states in rectification/states.py."""

    __tablename__ = "rectification_items"
    __table_args__ = (
        sa.CheckConstraint(in_values("status", RECTIFICATION_STATUSES), name="status"),
        # What the dashboard's figures read of an item, found by its finding; and the overdue
        # list, longest overdue first (reports/figures.py).
        sa.Index(
            "ix_rectification_items_finding_figures",
            "finding_id",
            "status",
            "due_date",
            "closed_at",
        ),
        sa.Index("ix_rectification_items_due_date", "due_date", "id"),
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
    # Raised by every move: a page or API call acting on an older version gets a 409.
    version: Mapped[int] = mapped_column(default=0, server_default="0")
    responded_at: Mapped[datetime | None]  # the latest response
    closed_at: Mapped[datetime | None]
    closed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    finding: Mapped[Finding] = relationship(back_populates="rectification")
    unit: Mapped[Unit] = relationship()
    events: Mapped[list[RectificationEvent]] = relationship(
        back_populates="item", order_by="RectificationEvent.id"
    )
    closed_by: Mapped[User | None] = relationship()

    def is_overdue(self, today: date) -> bool:
        """Past its due date while it is the unit's turn (open or returned); never stored."""
        return (
            self.due_date is not None
            and self.due_date < today
            and self.status in UNIT_TURN_STATUSES
        )

    def is_due_soon(self, today: date, days: int = 7) -> bool:
        """Due within `days` (today included) while it is the unit's turn; never stored."""
        return (
            self.due_date is not None
            and today <= self.due_date <= today + timedelta(days=days)
            and self.status in UNIT_TURN_STATUSES
        )

    def days_left(self, today: date) -> int | None:
        return (self.due_date - today).days if self.due_date is not None else None

    @property
    def pending_extension(self) -> RectificationEvent | None:
        """The extension request not yet granted or refused, if any."""
        pending = None
        for event in self.events:
            if event.kind == "extension_requested":
                pending = event
            elif event.kind in ("extension_granted", "extension_refused"):
                pending = None
        return pending


class RectificationEvent(db.Model):
    """One step in a rectification item's history: response, return, verify, extension…"""

    __tablename__ = "rectification_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(sa.ForeignKey("rectification_items.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(30))
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    message: Mapped[str] = mapped_column(sa.Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    # Entered by the office on the unit's behalf (代录) from a paper response, with its source.
    on_behalf: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    item: Mapped[RectificationItem] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()
    attachments: Mapped[list[Attachment]] = relationship(order_by="Attachment.id")
