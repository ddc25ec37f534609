"""Dates as the office sees them: UTC is stored, Beijing time (BABEL_DEFAULT_TIMEZONE) is lived in.

A server on UTC would otherwise date a notice issued at 07:00 in Beijing a day early.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

DEFAULT_ZONE = "Asia/Shanghai"


def zone() -> ZoneInfo:
    name = (
        current_app.config.get("BABEL_DEFAULT_TIMEZONE", DEFAULT_ZONE)
        if has_app_context()
        else DEFAULT_ZONE
    )
    return ZoneInfo(name)


def local_today() -> date:
    """Today's date in the office's time zone."""
    return datetime.now(zone()).date()


def day_start_utc(day: date) -> datetime:
    """The naive-UTC instant at which `day` begins in the office's time zone."""
    return datetime.combine(day, time.min, tzinfo=zone()).astimezone(UTC).replace(tzinfo=None)


def day_end_utc(day: date) -> datetime:
    """The naive-UTC instant at which the day after `day` begins (an exclusive bound)."""
    return day_start_utc(day + timedelta(days=1))


def local_to_utc(moment: datetime) -> datetime:
    """The naive-UTC instant of a naive wall-clock time in the office's time zone.

    16:30 in Beijing is stored as 08:30: storing the wall clock as UTC prints it as 00:30 the
    next day.
    """
    return moment.replace(tzinfo=zone()).astimezone(UTC).replace(tzinfo=None)


def utc_to_local(moment: datetime | None) -> datetime | None:
    """The naive wall-clock time in the office's zone of a naive-UTC instant (form defaults)."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC).astimezone(zone()).replace(tzinfo=None)
