"""Logins kept on the server (one row per login, ended at logout) and MFA recovery codes."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import utcnow
from .user import User


class LoginSession(db.Model):
    """One login of one user on one device. Its random token travels in the session and
    remember-me cookies (inside the user id); only its SHA-256 is stored. A login ends at logout,
    after the idle timeout or the absolute lifetime, or when the user's sessions are ended."""

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Updated at most once a minute (SESSION_TOUCH_INTERVAL in auth.services), not per request.
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    remember: Mapped[bool] = mapped_column(default=False)
    # How the second step was passed: "" (none asked), "totp" or "recovery".
    mfa: Mapped[str] = mapped_column(sa.String(20), default="")
    ip: Mapped[str] = mapped_column(sa.String(64), default="")
    user_agent: Mapped[str] = mapped_column(sa.String(255), default="")
    ended_at: Mapped[datetime | None]
    # logout, idle, expired, logout_others, password_changed, password_reset, deactivated, mfa_reset
    end_reason: Mapped[str] = mapped_column(sa.String(30), default="")

    user: Mapped[User] = relationship()

    @property
    def is_open(self) -> bool:
        return self.ended_at is None


class RecoveryCode(db.Model):
    """A one-time code that stands in for the authenticator app; only its SHA-256 is stored."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    code_hash: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    used_at: Mapped[datetime | None]
