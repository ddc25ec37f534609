"""Background jobs (a year's workbook, ...): who asked for what, how far it got, and its file."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import in_values, utcnow
from .user import User

JOB_STATUSES = ("queued", "running", "done", "failed", "expired")
# Statuses of a job that is still to finish: starting the same job again returns it.
ACTIVE_STATUSES = ("queued", "running")
# Why a job failed, when not in the builder's own words (`message`); shown translated.
JOB_ERRORS = ("builder", "internal", "interrupted", "stalled", "unknown_kind", "queue")


def new_job_id() -> str:
    return str(uuid.uuid4())


class Job(db.Model):
    """One run of a registered job kind for one user.

    The running task writes its progress here (not in the queue's result store), so a reloaded
    page, another web worker and another host all read the same numbers. `params_key` is a hash
    of the kind and its parameters: one active job per owner and key.
    """

    __tablename__ = "jobs"
    __table_args__ = (
        sa.CheckConstraint(in_values("status", JOB_STATUSES), name="status"),
        sa.Index("ix_jobs_owner_id_params_key", "owner_id", "params_key"),
    )

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=new_job_id)
    kind: Mapped[str] = mapped_column(sa.String(60))
    owner_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    params: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    params_key: Mapped[str] = mapped_column(sa.String(64))
    # The owner's language when the job was started: the file and the messages use it.
    locale: Mapped[str] = mapped_column(sa.String(20))
    status: Mapped[str] = mapped_column(sa.String(10), default="queued")
    total: Mapped[int | None]
    done: Mapped[int] = mapped_column(default=0)
    # Why it failed: a code (JOB_ERRORS) and, for "builder", the builder's own message.
    error: Mapped[str | None] = mapped_column(sa.String(20))
    message: Mapped[str | None] = mapped_column(sa.Text)
    # The file, once done: its name in JOBS_DIR, the name it downloads as, its type and size.
    file_key: Mapped[str | None] = mapped_column(sa.String(80))
    file_name: Mapped[str | None] = mapped_column(sa.String(255))
    mime: Mapped[str | None] = mapped_column(sa.String(120))
    size: Mapped[int | None] = mapped_column(sa.BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    started_at: Mapped[datetime | None]
    # Last sign of life of the running task (every progress write): a job that stays silent
    # longer than JOBS_STALE_AFTER is taken for dead.
    heartbeat_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None] = mapped_column(index=True)

    owner: Mapped[User] = relationship()

    # Set by start_job when it returns a twin already under way instead of a new job.
    reused = False

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def percent(self) -> int | None:
        if not self.total:
            return None
        return max(0, min(100, int(self.done * 100 / self.total)))
