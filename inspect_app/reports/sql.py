"""Three date expressions the figures need, written once per database.

Timestamps are stored in UTC; the office lives in Beijing time (UTC+8 all year, no daylight
saving), so "closed on the due date" means the Beijing date of closed_at.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

OFFSET_HOURS = 8  # Asia/Shanghai


class local_date(FunctionElement):  # noqa: N801 - reads like the SQL function it is
    """The Beijing date of a naive-UTC timestamp column."""

    type = sa.Date()
    inherit_cache = True


@compiles(local_date)
def _local_date_default(element, compiler, **kw):
    (column,) = element.clauses
    return f"CAST(({compiler.process(column, **kw)} + INTERVAL '{OFFSET_HOURS} hours') AS DATE)"


@compiles(local_date, "sqlite")
def _local_date_sqlite(element, compiler, **kw):
    (column,) = element.clauses
    return f"date({compiler.process(column, **kw)}, '+{OFFSET_HOURS} hours')"


class days_between(FunctionElement):  # noqa: N801
    """Whole days from the first date to the second (second - first)."""

    type = sa.Integer()
    inherit_cache = True


@compiles(days_between)
def _days_between_default(element, compiler, **kw):
    first, second = element.clauses
    return f"({compiler.process(second, **kw)} - {compiler.process(first, **kw)})"


@compiles(days_between, "sqlite")
def _days_between_sqlite(element, compiler, **kw):
    first, second = element.clauses
    return (
        f"CAST(julianday({compiler.process(second, **kw)}) - "
        f"julianday({compiler.process(first, **kw)}) AS INTEGER)"
    )


class on_or_before_local(FunctionElement):  # noqa: N801
    """Whether the Beijing date of a naive-UTC timestamp (the first) is on or before a date (the
    second): local_date(first) <= second, NULL when either is."""

    type = sa.Boolean()
    inherit_cache = True


@compiles(on_or_before_local)
def _on_or_before_local_default(element, compiler, **kw):
    moment, day = element.clauses
    return f"({compiler.process(local_date(moment), **kw)} <= {compiler.process(day, **kw)})"


@compiles(on_or_before_local, "sqlite")
def _on_or_before_local_sqlite(element, compiler, **kw):
    # SQLite holds both as text in SQLAlchemy's formats ('2026-03-05 15:59:59.000000' and
    # '2026-03-05'), which sort as the moments they name: the Beijing date is on or before the
    # day exactly when the moment is before 16:00 UTC of the day. Compared as text, because
    # date() parses every row's timestamp: a third of the findings pass's time on SQLite.
    moment, day = element.clauses
    until = f"{24 - OFFSET_HOURS:02d}:00:00"
    return f"({compiler.process(moment, **kw)} < ({compiler.process(day, **kw)} || ' {until}'))"
