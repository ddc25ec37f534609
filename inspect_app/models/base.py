"""Shared column helpers for the models, and PostgreSQL's rows sent as JSON."""

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any


def utcnow() -> datetime:
    """Naive UTC now: every datetime column stores UTC without a zone."""
    return datetime.now(UTC).replace(tzinfo=None)


def in_values(column: str, values) -> str:
    """SQL for a CHECK constraint that keeps a string column inside an enumeration."""
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


# PostgreSQL: many rows in one statement, sent as one JSON parameter. A hot write (an answer
# batch, an audit commit) then has one fixed statement, not a multi-row VALUES built per count.


def json_insert(table: str, columns: Iterable[str], param: str) -> str:
    """SQL inserting the rows of the JSON parameter `param` (json_rows) into `columns` of
    `table`: each row becomes a row of the table's own type by column name (a json column keeps
    its text as sent, a JSON null is SQL NULL), and a column not named keeps its default."""
    named = ", ".join(columns)
    return (
        f"INSERT INTO {table} ({named}) SELECT {named}"
        f" FROM json_populate_recordset(NULL::{table}, CAST(:{param} AS json))"
    )


def json_rows(rows: list[dict[str, Any]]) -> str:
    """Rows as the JSON parameter of json_insert (or json_to_recordset)."""
    return json.dumps(rows, ensure_ascii=False, default=_naive_utc)


def _naive_utc(value: Any) -> str:
    # Every datetime column holds naive UTC, which PostgreSQL reads back exactly from this text.
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.isoformat()
    raise TypeError(f"not JSON for a row: {value!r}")
