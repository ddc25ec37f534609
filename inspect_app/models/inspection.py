"""Rounds of the year, inspections with their teams, answers, attachments and applied changes."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import in_values, utcnow
from .checklist import ChecklistItem, ChecklistTemplate
from .org import Department, System, Unit
from .user import User

if TYPE_CHECKING:
    from .rectification import Finding

ROUND_STATUSES = ("planned", "active", "closed")
ROUND_NATURES = ("enterprise_inspection", "party_gov_supervision", "special_review")
INSPECTION_STATUSES = ("planned", "in_progress", "submitted", "closed")
# Filled (answers, evidence, team changes) before submission; on record after it.
EDITABLE_STATUSES = ("planned", "in_progress")
ON_RECORD_STATUSES = ("submitted", "closed")
ANSWER_RESULTS = ("compliant", "noncompliant", "not_applicable")
VISIT_NATURES = ROUND_NATURES
# The rectification notice of a visit: drafted at submission, numbered when a coordinator approves.
NOTICE_STATUSES = ("draft", "approved")
SERVICE_METHODS = ("direct", "post", "electronic", "left")  # 直接 / 邮寄 / 电子 / 留置
INSPECTION_METHODS = ("onsite", "documentary", "remote")  # 现场 / 书面 / 远程检测

round_departments = sa.Table(
    "round_departments",
    db.metadata,
    sa.Column("round_id", sa.ForeignKey("rounds.id"), primary_key=True),
    sa.Column("department_id", sa.ForeignKey("departments.id"), primary_key=True),
)


class Round(db.Model):
    """One of the six joint inspection rounds of a year."""

    __tablename__ = "rounds"
    __table_args__ = (
        sa.UniqueConstraint("year", "seq", name="uq_rounds_year_seq"),
        sa.CheckConstraint("seq BETWEEN 1 AND 6", name="seq"),
        sa.CheckConstraint(in_values("status", ROUND_STATUSES), name="status"),
        sa.CheckConstraint(in_values("nature", ROUND_NATURES), name="nature"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(index=True)
    seq: Mapped[int]
    title: Mapped[str] = mapped_column(sa.String(200))
    theme: Mapped[str] = mapped_column(sa.String(100), default="")
    nature: Mapped[str] = mapped_column(sa.String(30), default="enterprise_inspection")
    start_date: Mapped[date | None]
    end_date: Mapped[date | None]
    status: Mapped[str] = mapped_column(sa.String(10), default="planned")
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    departments: Mapped[list[Department]] = relationship(secondary=round_departments)
    inspections: Mapped[list[Inspection]] = relationship(back_populates="round")

    def __repr__(self) -> str:
        return f"<Round {self.year}-{self.seq}>"

    def is_past_end(self, today: date) -> bool:
        """Still active after its end date: someone forgot to close it, or its dates are wrong."""
        return self.status == "active" and self.end_date is not None and self.end_date < today


class Visit(db.Model):
    """One visit (一次入企/入户) to one unit on one occasion by one team: the unit of procedure.

    Its inspections (one per checklist or system) share one 检查记录 and one 整改通知书 with one
    number; the nature of inspection and the yearly cap (国办发〔2024〕54号) belong to it.
    """

    __tablename__ = "visits"
    __table_args__ = (
        sa.CheckConstraint(in_values("nature", VISIT_NATURES), name="nature"),
        sa.CheckConstraint(
            "notice_status IS NULL OR " + in_values("notice_status", NOTICE_STATUSES),
            name="notice_status",
        ),
        sa.CheckConstraint(
            "service_method IS NULL OR " + in_values("service_method", SERVICE_METHODS),
            name="service_method",
        ),
        sa.CheckConstraint(in_values("method", INSPECTION_METHODS), name="method"),
        sa.CheckConstraint(
            "conduct_rating IS NULL OR conduct_rating BETWEEN 1 AND 5", name="conduct_rating"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("rounds.id"), index=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id"), index=True)
    scheduled_on: Mapped[date | None]
    lead_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    nature: Mapped[str] = mapped_column(sa.String(30), default="enterprise_inspection")
    # 任务来源: the plan or advance-notice number the visit was made under.
    task_source: Mapped[str] = mapped_column(sa.String(200), default="")
    # 行政检查审批 and the 检查通知书 sent before the visit (numbered in the year under the
    # year's notice-counter lock).
    plan_approved_at: Mapped[datetime | None]
    plan_approved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    advance_notice_number: Mapped[str | None] = mapped_column(sa.String(100), unique=True)
    advance_notice_seq: Mapped[int | None]
    advance_notice_issued_on: Mapped[date | None]
    advance_notice_served_on: Mapped[date | None]
    preparation: Mapped[str] = mapped_column(sa.Text, default="")  # what the unit prepares
    # 检查行为评价: the unit's rating (1-5) of the team's conduct, once the visit is on record.
    conduct_rating: Mapped[int | None]
    conduct_comment: Mapped[str] = mapped_column(sa.Text, default="")
    conduct_rated_at: Mapped[datetime | None]
    # 扫码入企: when the lead scanned the unit's code on arrival (the record's start).
    arrived_at: Mapped[datetime | None]
    # The 检查记录 on site.
    started_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    place: Mapped[str] = mapped_column(sa.String(300), default="")
    method: Mapped[str] = mapped_column(sa.String(20), default="onsite")
    remote_authorisation: Mapped[str] = mapped_column(sa.String(300), default="")
    credentials_shown: Mapped[bool] = mapped_column(default=False)
    unit_reply: Mapped[str] = mapped_column(sa.Text, default="")  # answer to 告知 and 回避
    representative_post: Mapped[str] = mapped_column(sa.String(100), default="")
    representative_phone: Mapped[str] = mapped_column(sa.String(50), default="")
    # 技术支撑人员, listed apart from the inspectors: [{"name": ..., "organisation": ...}].
    support_staff: Mapped[list[dict[str, str]]] = mapped_column(sa.JSON, default=list)
    unit_statement: Mapped[str] = mapped_column(sa.Text, default="")  # 异议/说明
    unit_refused_to_sign: Mapped[bool] = mapped_column(default=False)
    refusal_witness: Mapped[str] = mapped_column(sa.String(100), default="")
    # The 整改通知书: a draft at submission, a number only when a coordinator approves it.
    notice_status: Mapped[str | None] = mapped_column(sa.String(10))
    notice_number: Mapped[str | None] = mapped_column(sa.String(100), unique=True)
    notice_drafted_at: Mapped[datetime | None]
    notice_approved_at: Mapped[datetime | None]
    notice_approved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    legal_review: Mapped[bool] = mapped_column(default=False)  # 法制审核 for major matters
    legal_review_note: Mapped[str] = mapped_column(sa.Text, default="")
    notice_issued_on: Mapped[date | None]
    notice_served_on: Mapped[date | None]
    # The 送达回证. The recipient's signature is an Attachment of kind "receipt" on the visit.
    served_at: Mapped[datetime | None]
    service_method: Mapped[str | None] = mapped_column(sa.String(20))
    service_place: Mapped[str] = mapped_column(sa.String(300), default="")
    server_a_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    server_b_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    recipient_name: Mapped[str] = mapped_column(sa.String(100), default="")
    recipient_refused: Mapped[bool] = mapped_column(default=False)
    service_witness: Mapped[str] = mapped_column(sa.String(100), default="")
    service_note: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    round: Mapped[Round] = relationship()
    unit: Mapped[Unit] = relationship()
    lead: Mapped[User | None] = relationship(foreign_keys=[lead_id])
    notice_approved_by: Mapped[User | None] = relationship(foreign_keys=[notice_approved_by_id])
    plan_approved_by: Mapped[User | None] = relationship(foreign_keys=[plan_approved_by_id])
    server_a: Mapped[User | None] = relationship(foreign_keys=[server_a_id])
    server_b: Mapped[User | None] = relationship(foreign_keys=[server_b_id])
    inspections: Mapped[list[Inspection]] = relationship(
        back_populates="visit", order_by="Inspection.id"
    )
    # The team of inspectors, stored with the visit; technical-support staff are support_staff.
    members: Mapped[list[VisitMember]] = relationship(
        back_populates="visit", cascade="all, delete-orphan", order_by="VisitMember.id"
    )

    def __repr__(self) -> str:
        return f"<Visit {self.id} unit={self.unit_id}>"

    def team_of_inspections(self) -> list[InspectionMember]:
        """Each inspector of the visit's inspections once, as on the first inspection that has
        them: what the stored team must equal (rounds.services keeps it so)."""
        seen: dict[int, InspectionMember] = {}
        for inspection in self.inspections:
            for member in inspection.members:
                seen.setdefault(member.user_id, member)
        return list(seen.values())

    def sync_team(self) -> None:
        """Make the stored team equal the team of the visit's inspections, keeping the rows of
        inspectors who stay (their ids, and so the team's order)."""
        wanted = {m.user_id: m for m in self.team_of_inspections()}
        for member in list(self.members):
            if member.user_id not in wanted:
                self.members.remove(member)
        kept = {m.user_id: m for m in self.members}
        for user_id, source in wanted.items():
            member = kept.get(user_id)
            if member is None:
                self.members.append(
                    VisitMember(
                        user_id=user_id,
                        department_id=source.department_id,
                        certificate_no=source.certificate_no,
                    )
                )
            else:
                member.department_id = source.department_id
                member.certificate_no = source.certificate_no

    @property
    def is_on_record(self) -> bool:
        return bool(self.inspections) and all(i.is_on_record for i in self.inspections)


class Inspection(db.Model):
    """A visit to one unit (optionally one of its systems) with a frozen checklist version."""

    __tablename__ = "inspections"
    __table_args__ = (sa.CheckConstraint(in_values("status", INSPECTION_STATUSES), name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("rounds.id"), index=True)
    visit_id: Mapped[int] = mapped_column(sa.ForeignKey("visits.id"), index=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id"), index=True)
    system_id: Mapped[int | None] = mapped_column(sa.ForeignKey("systems.id"), index=True)
    template_id: Mapped[int] = mapped_column(sa.ForeignKey("checklist_templates.id"), index=True)
    status: Mapped[str] = mapped_column(sa.String(20), default="planned")
    scheduled_on: Mapped[date | None]
    lead_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    signatory_name: Mapped[str] = mapped_column(sa.String(100), default="")
    # The signature image is an Attachment of kind "signature" on this inspection.
    signed_at: Mapped[datetime | None]
    # SHA-256 of the answers as signed, so a later change to them is visible.
    signed_snapshot_sha256: Mapped[str] = mapped_column(sa.String(64), default="")
    score: Mapped[float | None]
    compliance_rate: Mapped[float | None]
    # The answers' results as submitted (answers are read-only once done), so the dashboard's
    # compliance rate adds two numbers an inspection instead of reading all its answers: written
    # at submission, cleared on reopening; None on rows made otherwise, which are counted live.
    compliant_answers: Mapped[int | None]
    noncompliant_answers: Mapped[int | None]
    submitted_at: Mapped[datetime | None]
    submitted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    round: Mapped[Round] = relationship(back_populates="inspections")
    visit: Mapped[Visit] = relationship(back_populates="inspections")
    unit: Mapped[Unit] = relationship()
    system: Mapped[System | None] = relationship()
    template: Mapped[ChecklistTemplate] = relationship()
    lead: Mapped[User | None] = relationship(foreign_keys=[lead_id])
    submitted_by: Mapped[User | None] = relationship(foreign_keys=[submitted_by_id])
    members: Mapped[list[InspectionMember]] = relationship(
        back_populates="inspection", cascade="all, delete-orphan"
    )
    answers: Mapped[list[Answer]] = relationship(
        back_populates="inspection", cascade="all, delete-orphan"
    )
    findings: Mapped[list[Finding]] = relationship(back_populates="inspection")

    def __repr__(self) -> str:
        return f"<Inspection {self.id} {self.status}>"

    @property
    def is_editable(self) -> bool:
        return self.status in EDITABLE_STATUSES

    @property
    def is_on_record(self) -> bool:
        return self.status in ON_RECORD_STATUSES

    # The notice belongs to the visit; these read it for the pages that start from an inspection.
    @property
    def notice_number(self) -> str | None:
        return self.visit.notice_number if self.visit is not None else None

    @property
    def notice_issued_on(self) -> date | None:
        return self.visit.notice_issued_on if self.visit is not None else None

    @property
    def notice_served_on(self) -> date | None:
        return self.visit.notice_served_on if self.visit is not None else None


class InspectionMember(db.Model):
    """An inspector on an inspection team, with the enforcement certificate shown on site."""

    __tablename__ = "inspection_members"
    __table_args__ = (
        sa.UniqueConstraint(
            "inspection_id", "user_id", name="uq_inspection_members_inspection_user"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(sa.ForeignKey("inspections.id"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    department_id: Mapped[int | None] = mapped_column(sa.ForeignKey("departments.id"))
    certificate_no: Mapped[str] = mapped_column(sa.String(60), default="")

    inspection: Mapped[Inspection] = relationship(back_populates="members")
    user: Mapped[User] = relationship()
    department: Mapped[Department | None] = relationship()


class VisitMember(db.Model):
    """An inspector on a visit's team, with the enforcement certificate shown on site: the team
    the record and the notices name (technical-support staff are listed apart, support_staff)."""

    __tablename__ = "visit_members"
    __table_args__ = (
        sa.UniqueConstraint("visit_id", "user_id", name="uq_visit_members_visit_user"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(sa.ForeignKey("visits.id"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    department_id: Mapped[int | None] = mapped_column(sa.ForeignKey("departments.id"))
    certificate_no: Mapped[str] = mapped_column(sa.String(60), default="")

    visit: Mapped[Visit] = relationship(back_populates="members")
    user: Mapped[User] = relationship()
    department: Mapped[Department | None] = relationship()


class Answer(db.Model):
    """The answer to one item in one inspection; `version` guards concurrent edits."""

    __tablename__ = "answers"
    __table_args__ = (
        sa.UniqueConstraint("inspection_id", "item_id", name="uq_answers_inspection_item"),
        sa.CheckConstraint(
            "result IS NULL OR " + in_values("result", ANSWER_RESULTS), name="result"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(sa.ForeignKey("inspections.id"), index=True)
    item_id: Mapped[int] = mapped_column(sa.ForeignKey("checklist_items.id"), index=True)
    result: Mapped[str | None] = mapped_column(sa.String(20))
    value: Mapped[Any | None] = mapped_column(sa.JSON)
    note: Mapped[str] = mapped_column(sa.Text, default="")
    # Finding fields proposed on site for a non-compliant answer.
    finding_description: Mapped[str] = mapped_column(sa.Text, default="")
    finding_severity: Mapped[str | None] = mapped_column(sa.String(10))
    finding_deadline_days: Mapped[int | None]
    version: Mapped[int] = mapped_column(default=0)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    inspection: Mapped[Inspection] = relationship(back_populates="answers")
    item: Mapped[ChecklistItem] = relationship()
    updated_by: Mapped[User | None] = relationship()


class SelfAnswer(db.Model):
    """The unit's own answer to an item before the visit (自查), shown beside the inspector's."""

    __tablename__ = "self_answers"
    __table_args__ = (
        sa.UniqueConstraint("inspection_id", "item_id", name="uq_self_answers_inspection_item"),
        sa.CheckConstraint(
            "result IS NULL OR " + in_values("result", ANSWER_RESULTS), name="result"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(sa.ForeignKey("inspections.id"), index=True)
    item_id: Mapped[int] = mapped_column(sa.ForeignKey("checklist_items.id"))
    result: Mapped[str | None] = mapped_column(sa.String(20))
    note: Mapped[str] = mapped_column(sa.Text, default="")
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class AppliedChange(db.Model):
    """A client change already applied, so a replayed batch is reported as a duplicate."""

    __tablename__ = "applied_changes"

    change_id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    inspection_id: Mapped[int] = mapped_column(sa.ForeignKey("inspections.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    request_hash: Mapped[str] = mapped_column(sa.String(64))
    response: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class NoticeCounter(db.Model):
    """The last rectification-notice sequence number used in a year, locked while a notice is issued."""

    __tablename__ = "notice_counters"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(default=0)


class Attachment(db.Model):
    """An evidence file stored by content hash outside static/, owned by one object."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(sa.String(64), index=True)
    mime: Mapped[str] = mapped_column(sa.String(100))
    size: Mapped[int]
    original_name: Mapped[str] = mapped_column(sa.String(255), default="")
    kind: Mapped[str] = mapped_column(sa.String(20), default="photo")
    width: Mapped[int | None]
    height: Mapped[int | None]
    exif: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    inspection_id: Mapped[int | None] = mapped_column(sa.ForeignKey("inspections.id"), index=True)
    # Signatures on the visit's record (kind "inspector_signature") and 送达回证 (kind "receipt").
    visit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("visits.id"), index=True)
    answer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("answers.id"), index=True)
    rectification_event_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("rectification_events.id"), index=True
    )
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    uploaded_by: Mapped[User | None] = relationship()
