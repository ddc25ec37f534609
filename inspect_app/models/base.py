"""Shared column helpers for the models."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Naive UTC now: every datetime column stores UTC without a zone."""
    return datetime.now(UTC).replace(tzinfo=None)


def in_values(column: str, values) -> str:
    """SQL for a CHECK constraint that keeps a string column inside an enumeration."""
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"
