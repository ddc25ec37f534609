"""User accounts and their roles."""

from __future__ import annotations

import secrets
from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import in_values, utcnow
from .org import Department, Unit

ROLES = ("admin", "coordinator", "inspector", "unit", "viewer")


def new_session_token() -> str:
    return secrets.token_hex(16)


class User(UserMixin, db.Model):
    """A person who logs in. Inspectors belong to a department, unit users to one unit."""

    __tablename__ = "users"
    __table_args__ = (
        sa.CheckConstraint(in_values("role", ROLES), name="role"),
        sa.CheckConstraint("role <> 'unit' OR unit_id IS NOT NULL", name="unit_user_has_unit"),
        sa.CheckConstraint(
            "role <> 'inspector' OR department_id IS NOT NULL", name="inspector_has_department"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(80), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(100), default="")
    password_hash: Mapped[str] = mapped_column(sa.String(256))
    role: Mapped[str] = mapped_column(sa.String(20))
    department_id: Mapped[int | None] = mapped_column(sa.ForeignKey("departments.id"))
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("units.id"), index=True)
    # 执法证号: inspectors show it on site and it is printed on notices.
    certificate_no: Mapped[str] = mapped_column(sa.String(60), default="")
    phone: Mapped[str] = mapped_column(sa.String(50), default="")
    locale: Mapped[str | None] = mapped_column(sa.String(20))
    is_active_flag: Mapped[bool] = mapped_column("is_active", default=True)
    # Part of get_id(): rotating it ends every other session of this user.
    session_token: Mapped[str] = mapped_column(sa.String(64), default=new_session_token)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    password_changed_at: Mapped[datetime | None]

    department: Mapped[Department | None] = relationship(back_populates="users")
    unit: Mapped[Unit | None] = relationship(back_populates="users")

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.is_active_flag

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    @property
    def name(self) -> str:
        return self.display_name or self.username

    def has_role(self, *roles: str) -> bool:
        return self.role in roles

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"
