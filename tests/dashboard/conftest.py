"""The year of rows the figure tests build (tests/reports), and helpers to read the dashboard."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from ..reports.test_figures import build_rows


@dataclass(frozen=True)
class Row:
    id: int
    name: str  # a round's title, a unit's or a department's name


@pytest.fixture
def data(app, make):
    """tests/reports' year of rows, built in an app context that is closed again (test clients
    must never run inside a held one: Flask-Login and CSRF keep per-request state on `g`), as
    ids and names."""
    with app.app_context():
        built = build_rows(make)
        return {
            "rounds": [Row(r.id, r.title) for r in built["rounds"]],
            "units": [Row(u.id, u.name) for u in built["units"]],
            "departments": {code: Row(d.id, d.name) for code, d in built["departments"].items()},
        }


TRANSACTION = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


class StatementCounter:
    """Counts the SQL statements sent (not the transaction control around them)."""

    def __init__(self):
        self.statements: list[str] = []

    def __call__(self, conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(TRANSACTION):
            self.statements.append(statement)

    def __enter__(self):
        sa.event.listen(sa.engine.Engine, "before_cursor_execute", self)
        return self

    def __exit__(self, *exc):
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", self)


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def kpis(html: str) -> dict[str, str]:
    """The key figures of a dashboard page: {"findings": "72", "rate": "12.5%", ...}."""
    found = re.findall(
        r'data-kpi="(\w+)">\s*<dt>.*?</dt>\s*<dd class="kpi-value">(.*?)</dd>', html, re.S
    )
    return {name: text_of(value) for name, value in found}


def rows(html: str, table_id: str, key: str) -> dict[str, list[str]]:
    """A table's rows by their data-<key> attribute: the text of each cell."""
    table = re.search(rf'<table[^>]*id="{table_id}".*?</table>', html, re.S)
    assert table, table_id
    out = {}
    for attr, body in re.findall(
        rf'<tr data-{key}="([^"]*)"[^>]*>(.*?)</tr>', table.group(0), re.S
    ):
        out[attr] = [text_of(c) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", body, re.S)]
    return out
