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
    # For reminders by e-mail when MAIL_SERVER is set; empty: in-app notifications only.
    email: Mapped[str] = mapped_column(sa.String(120), default="", server_default="")
    locale: Mapped[str | None] = mapped_column(sa.String(20))
    is_active_flag: Mapped[bool] = mapped_column("is_active", default=True)
    # Part of get_id(): rotating it ends every session of this user at once (reset, deactivation).
    session_token: Mapped[str] = mapped_column(sa.String(64), default=new_session_token)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    password_changed_at: Mapped[datetime | None]
    # Two-step login (TOTP). A secret without mfa_enabled_at is an enrolment not yet confirmed;
    # mfa_last_step is the time step of the last accepted code, so a code is never accepted twice.
    mfa_secret: Mapped[str | None] = mapped_column(sa.String(128))  # sealed: auth/totp.seal
    mfa_enabled_at: Mapped[datetime | None]
    mfa_last_step: Mapped[int | None]
    # Consecutive failed logins (wrong password or code) and the temporary lock they caused; in
    # the database, so the lock holds across every worker and host.
    failed_logins: Mapped[int] = mapped_column(default=0, server_default="0")
    locked_until: Mapped[datetime | None]

    department: Mapped[Department | None] = relationship(back_populates="users")
    unit: Mapped[Unit | None] = relationship(back_populates="users")

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.is_active_flag

    # The login this request belongs to (a LoginSession) and its token: set at login and by the
    # user loader, never stored on the user row.
    login_token = None
    login_session = None

    @property
    def mfa_enabled(self) -> bool:
        return self.mfa_enabled_at is not None

    def is_locked(self, now: datetime) -> bool:
        return self.locked_until is not None and self.locked_until > now

    def get_id(self) -> str:
        # user id : user-wide token : this login's token. Without a login token nothing loads.
        return f"{self.id}:{self.session_token}:{self.login_token or ''}"

    @property
    def name(self) -> str:
        return self.display_name or self.username

    def has_role(self, *roles: str) -> bool:
        return self.role in roles

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"
