"""Departments, units (重点单位) and their information systems (重要系统)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import in_values, utcnow

if TYPE_CHECKING:
    from .user import User

# The general kinds every checklist rule is written for.
GENERAL_KINDS = ("party_gov", "public_institution", "soe", "private_enterprise", "other")
# 兵团 kinds: 团场 (regiment farm), 团镇 (a town run together with its regiment, 团镇合一) and 连队
# (a regiment's company, its basic-level organisation).
BINGTUAN_KINDS = ("regiment", "regiment_town", "company")
UNIT_KINDS = (*GENERAL_KINDS, *BINGTUAN_KINDS)

# The legal character of each 兵团 kind: the general kind a rule written for the general kinds
# (checklists' `unit.kind`, Party-rule and advisory-item reach, nature of a visit, 党政机关 wording
# of the notice, yearly caps) treats it as. docs/checklists.md "兵团 unit kinds" gives the reasons:
# - 团镇: the town's government (镇人民政府), run together with the regiment's organs, is a local
#   organ of state power: a 党政机关, supervised (督查) under the responsibility system.
# - 团场: since the 2017 reform (团场综合配套改革, 政企分开) the regiment is run by its Party
#   committee and a 管理委员会 exercising the 师's administrative and social functions; its
#   businesses are companies of their own (registered as `soe`). So a 党政机关 too.
# - 连队: the regiment's basic-level organisation (like a 村/社区: a Party branch and a 连队管理
#   委员会), neither a 党政机关 nor an enterprise: statutory items only, as `other`; its visit is
#   nevertheless 督查 (VISIT_NATURE_BY_KIND), not 涉企行政检查, and its notice takes the
#   supervisory route through the regiment.
KIND_CHARACTER = {"regiment": "party_gov", "regiment_town": "party_gov", "company": "other"}


def legal_character(kind: str) -> str:
    """The general kind a unit kind is treated as (itself for a general kind)."""
    return KIND_CHARACTER.get(kind, kind)


def kind_setting(mapping, kind: str, default=None):
    """A per-kind setting (VISIT_NATURE_BY_KIND, INSPECTION_CAPS, ...): the kind's own entry,
    else the entry of its legal character, else the default."""
    if kind in mapping:
        return mapping[kind]
    return mapping.get(legal_character(kind), default)


def kind_in(kind: str, kinds) -> bool:
    """Whether a unit kind is among `kinds`, itself or by its legal character."""
    return kind in kinds or legal_character(kind) in kinds


def kinds_covered(kinds) -> tuple[str, ...]:
    """Every unit kind that `kinds` reach, the 兵团 kinds by their legal character."""
    return tuple(k for k in UNIT_KINDS if kind_in(k, kinds))


# joint: a member of the joint inspection (网信, 公安, 工信, 保密); regulator: the competent
# regulator of a sector (行业主管监管部门), which 责任制办法第4条 joins to inspections of units in
# important sectors.
DEPARTMENT_KINDS = ("joint", "regulator")


class Department(db.Model):
    """One of the joint departments (网信, 公安, 工信, 保密) or a sector regulator."""

    __tablename__ = "departments"
    __table_args__ = (sa.CheckConstraint(in_values("kind", DEPARTMENT_KINDS), name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(20), unique=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    name_en: Mapped[str] = mapped_column(sa.String(100), default="")
    kind: Mapped[str] = mapped_column(sa.String(20), default="joint", server_default="joint")
    # For a regulator: the sector it regulates, as units' `sector` is written (e.g. 电力).
    sector: Mapped[str] = mapped_column(sa.String(100), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    users: Mapped[list[User]] = relationship(back_populates="department")

    def __repr__(self) -> str:
        return f"<Department {self.code}>"


class Unit(db.Model):
    """An inspected unit: a party/government organ, public institution or enterprise."""

    __tablename__ = "units"
    __table_args__ = (sa.CheckConstraint(in_values("kind", UNIT_KINDS), name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200), index=True)
    kind: Mapped[str] = mapped_column(sa.String(30))
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("units.id"))
    is_key_unit: Mapped[bool] = mapped_column(default=False)
    is_cii: Mapped[bool] = mapped_column(default=False)
    credit_code: Mapped[str | None] = mapped_column(sa.String(18), unique=True)
    sector: Mapped[str] = mapped_column(sa.String(100), default="")
    address: Mapped[str] = mapped_column(sa.String(300), default="")
    contact_name: Mapped[str] = mapped_column(sa.String(100), default="")
    contact_phone: Mapped[str] = mapped_column(sa.String(50), default="")
    contact_email: Mapped[str] = mapped_column(sa.String(200), default="")
    # Applicability facts used by checklist rules (applies_if).
    has_website: Mapped[bool] = mapped_column(default=False)
    has_new_media: Mapped[bool] = mapped_column(default=False)
    handles_pi: Mapped[bool] = mapped_column(default=False)
    important_data: Mapped[bool] = mapped_column(default=False)
    classified: Mapped[bool] = mapped_column(default=False)
    # Yearly inspection cap; None means the default for the unit's kind.
    inspection_cap: Mapped[int | None]
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    parent: Mapped[Unit | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Unit]] = relationship(back_populates="parent")
    systems: Mapped[list[System]] = relationship(back_populates="unit", order_by="System.code")
    users: Mapped[list[User]] = relationship(back_populates="unit")

    def __repr__(self) -> str:
        return f"<Unit {self.code}>"


class System(db.Model):
    """An important information system of a unit, with its MLPS (等保) level."""

    __tablename__ = "systems"
    __table_args__ = (sa.CheckConstraint("mlps_level BETWEEN 1 AND 5", name="mlps_level"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id"), index=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    mlps_level: Mapped[int]
    filing_number: Mapped[str] = mapped_column(sa.String(60), default="")
    is_cii: Mapped[bool] = mapped_column(default=False)
    internet_facing: Mapped[bool] = mapped_column(default=False)
    # Which 等保 extension requirements apply: a cloud platform or a system on a cloud (云计算安全
    # 扩展要求), an industrial control system such as SCADA/DCS/DMS (工业控制系统安全扩展要求).
    is_cloud: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    is_ics: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    address: Mapped[str] = mapped_column(sa.String(300), default="")
    description: Mapped[str] = mapped_column(sa.Text, default="")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    unit: Mapped[Unit] = relationship(back_populates="systems")

    def __repr__(self) -> str:
        return f"<System {self.code}>"
