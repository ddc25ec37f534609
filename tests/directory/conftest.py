"""Fixtures for the directory tests: a request context for services, and workbook builders."""

from __future__ import annotations

from io import BytesIO

import pytest
from openpyxl import Workbook

from inspect_app.directory.importer import SYSTEM_COLUMNS, UNIT_COLUMNS


@pytest.fixture
def rctx(app):
    """A request context for calling services directly: their messages need a locale."""
    with app.test_request_context("/"):
        yield


def workbook(rows: list[dict], columns=UNIT_COLUMNS, *, sheet: str = "单位", headers=None) -> bytes:
    """An .xlsx with the template's headers in row 1 and one row per dict (keys are field names)."""
    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append(headers if headers is not None else [c.header for c in columns])
    for row in rows:
        ws.append([row.get(c.key) for c in columns])
    out = BytesIO()
    wb.save(out)
    return out.getvalue()


def units_workbook(rows: list[dict], **kw) -> bytes:
    return workbook(rows, UNIT_COLUMNS, **kw)


def systems_workbook(rows: list[dict], **kw) -> bytes:
    kw.setdefault("sheet", "重要系统")
    return workbook(rows, SYSTEM_COLUMNS, **kw)
