"""Dashboard figures computed ahead of the page loads that read them (dashboard/snapshots.py)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import utcnow


class FigureSnapshot(db.Model):
    """One result of the dashboard's figures (the overview of a year, the annual report), as
    computed for a data version (dashboard.cache.data_version) by the refresh task, shared by
    every web worker and host. A cache: never the record of anything, rebuilt from the data at
    any time, so dropping every row loses nothing (and no audit event is written for it)."""

    __tablename__ = "figure_snapshots"

    key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)  # sha256 of the cache key
    version: Mapped[int] = mapped_column(sa.BigInteger)
    made_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)
    payload: Mapped[str] = mapped_column(sa.Text)  # typed JSON (dashboard/snapshots.py)
