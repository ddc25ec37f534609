"""Checklist templates (one row per loaded version) and their ordered items."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..errors import Conflict
from ..extensions import db
from .base import in_values, utcnow

TARGETS = ("unit", "system")
ITEM_KINDS = ("yes_no", "choice", "number", "text", "date")
SEVERITIES = ("high", "medium", "low")
EVIDENCE_RULES = ("none", "optional", "required_if_noncompliant", "required")


class ChecklistTemplate(db.Model):
    """One version of a checklist file. Immutable once an inspection uses it."""

    __tablename__ = "checklist_templates"
    __table_args__ = (
        sa.UniqueConstraint("key", "version", name="uq_checklist_templates_key_version"),
        sa.CheckConstraint(in_values("target", TARGETS), name="target"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(40), index=True)
    version: Mapped[str] = mapped_column(sa.String(40))
    title: Mapped[str] = mapped_column(sa.String(200))
    title_en: Mapped[str] = mapped_column(sa.String(200), default="")
    target: Mapped[str] = mapped_column(sa.String(10))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    sha256: Mapped[str] = mapped_column(sa.String(64))
    source_path: Mapped[str] = mapped_column(sa.String(300), default="")
    # The validated definition as loaded, kept for export and diffs.
    definition: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    loaded_at: Mapped[datetime] = mapped_column(default=utcnow)

    items: Mapped[list[ChecklistItem]] = relationship(
        back_populates="template", order_by="ChecklistItem.position", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<ChecklistTemplate {self.key} v{self.version}>"


class ChecklistItem(db.Model):
    """One question of a template version, with its legal basis and defaults for findings."""

    __tablename__ = "checklist_items"
    __table_args__ = (
        sa.UniqueConstraint("template_id", "code", name="uq_checklist_items_template_code"),
        sa.CheckConstraint(in_values("kind", ITEM_KINDS), name="kind"),
        sa.CheckConstraint(in_values("severity", SEVERITIES), name="severity"),
        sa.CheckConstraint(in_values("evidence", EVIDENCE_RULES), name="evidence"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(sa.ForeignKey("checklist_templates.id"), index=True)
    position: Mapped[int]
    section_index: Mapped[int] = mapped_column(default=0)
    section_title: Mapped[str] = mapped_column(sa.String(200), default="")
    section_title_en: Mapped[str] = mapped_column(sa.String(200), default="")
    code: Mapped[str] = mapped_column(sa.String(40))
    text: Mapped[str] = mapped_column(sa.Text)
    text_en: Mapped[str] = mapped_column(sa.Text, default="")
    kind: Mapped[str] = mapped_column(sa.String(20), default="yes_no")
    options: Mapped[list[Any]] = mapped_column(sa.JSON, default=list)
    guidance: Mapped[str] = mapped_column(sa.Text, default="")
    legal_basis: Mapped[list[Any]] = mapped_column(sa.JSON, default=list)
    severity: Mapped[str] = mapped_column(sa.String(10), default="medium")
    major_hazard: Mapped[bool] = mapped_column(default=False)
    deadline_days: Mapped[int] = mapped_column(default=30)
    evidence: Mapped[str] = mapped_column(sa.String(30), default="optional")
    lead_department: Mapped[str] = mapped_column(sa.String(20), default="")
    weight: Mapped[float] = mapped_column(default=1.0)
    veto: Mapped[bool] = mapped_column(default=False)
    # No statutory basis: a finding for 党政机关/事业单位 (督查), never on a notice to an enterprise.
    advisory: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # 整改要求 copied into a finding and printed on the notice.
    required_action: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    # The canonical item (code, in another checklist) that checks the same duty: within a visit
    # the two yield one finding. Empty for a canonical or unlinked item.
    same_as: Mapped[str] = mapped_column(sa.String(40), default="", server_default="")
    applies_if: Mapped[Any | None] = mapped_column(sa.JSON)
    show_if: Mapped[Any | None] = mapped_column(sa.JSON)

    template: Mapped[ChecklistTemplate] = relationship(back_populates="items")

    def __repr__(self) -> str:
        return f"<ChecklistItem {self.code}>"

    @property
    def duty(self) -> str:
        """The duty the item checks: its canonical item's code (same_as), else its own."""
        return self.same_as or self.code


# --- immutability: a version an inspection uses never changes ------------------------------------

# Columns that make up a version's content; other columns may be added later for bookkeeping.
_FROZEN = {
    ChecklistTemplate: (
        "key",
        "version",
        "title",
        "title_en",
        "target",
        "description",
        "sha256",
        "definition",
    ),
    ChecklistItem: tuple(c.key for c in ChecklistItem.__table__.columns if c.key != "id"),
}
_inspections = sa.table("inspections", sa.column("template_id"))


def _template_in_use(connection, template_id: int | None) -> bool:
    if template_id is None:
        return False
    stmt = (
        sa.select(sa.literal(1))
        .select_from(_inspections)
        .where(_inspections.c.template_id == template_id)
    )
    return connection.execute(stmt.limit(1)).first() is not None


def _changed(target, names) -> bool:
    state = sa.inspect(target)
    return any(state.attrs[name].history.has_changes() for name in names)


def _guard(kind: str):
    def listener(_mapper, connection, target):
        if kind == "update" and not _changed(target, _FROZEN[type(target)]):
            return
        template_id = target.id if isinstance(target, ChecklistTemplate) else target.template_id
        if _template_in_use(connection, template_id):
            raise Conflict(
                _l("This version is used by an inspection and cannot be changed or deleted.")
            )

    return listener


for _model in (ChecklistTemplate, ChecklistItem):
    sa.event.listen(_model, "before_update", _guard("update"))
    sa.event.listen(_model, "before_delete", _guard("delete"))
