"""Two date expressions the figures need, written once per database.

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
