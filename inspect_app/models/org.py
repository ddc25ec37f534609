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

UNIT_KINDS = ("party_gov", "public_institution", "soe", "private_enterprise", "other")
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
