"""The one Excel toolkit: every workbook the app writes goes through its safe cell writer, and
every workbook it reads is opened here with the same size checks and messages.

A text that starts like a formula (=, +, -, @, a tab or CR, or their full-width forms) is written
as text and marked with Excel's quote prefix, so neither opening nor editing the cell runs it
(security review 2-B: a checklist text `=HYPERLINK(...)` came back as a live formula).
"""

from __future__ import annotations

import io
import warnings
import zipfile
from collections.abc import Iterable, Sequence
from typing import Any

from flask_babel import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from .errors import ValidationFailed

MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Spreadsheet programs start a formula on these (the full-width ones in some CJK setups).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")

HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="E8EAED")
HEADER_BORDER = Border(bottom=Side(style="thin", color="5F6368"))
NOTE_FONT = Font(italic=True, color="5F6368", size=9)
WRAP = Alignment(wrap_text=True, vertical="top")


def formula_like(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def _harden(cell, value: Any):
    if formula_like(value):
        cell.data_type = "s"  # openpyxl made it a formula ("f") on assignment
        cell.quotePrefix = True
    return cell


def write(ws, row: int, column: int, value: Any, **style: Any):
    """Put value in a cell of a normal worksheet, never as a formula; style: font, fill,
    alignment, number_format, border. Returns the cell."""
    cell = ws.cell(row=row, column=column, value=value)
    for name, setting in style.items():
        setattr(cell, name, setting)
    return _harden(cell, value)


def cell(ws, value: Any, **style: Any) -> WriteOnlyCell:
    """A cell for a write-only worksheet's append(), never a formula."""
    out = WriteOnlyCell(ws, value=value)
    for name, setting in style.items():
        setattr(out, name, setting)
    return _harden(out, value)


def write_row(ws, row: int, values: Iterable[Any], **style: Any) -> None:
    """Write a row of a normal worksheet from column A through the safe writer (None is skipped)."""
    for column, value in enumerate(values, start=1):
        if value is not None:
            write(ws, row, column, value, **style)


def header(
    ws,
    row: int,
    headings: Sequence[str],
    *,
    widths: Sequence[int] | None = None,
    comments: Sequence[str] | None = None,
) -> None:
    """Column headings in the house style (bold on light grey, a rule below), with widths."""
    for index, heading in enumerate(headings, start=1):
        c = write(ws, row, index, heading, font=HEADER_FONT, fill=HEADER_FILL, border=HEADER_BORDER)
        if comments and comments[index - 1]:
            c.comment = Comment(comments[index - 1], "inspect")
        if widths:
            ws.column_dimensions[get_column_letter(index)].width = widths[index - 1]


def list_validation(
    ws, values: Sequence[str], ref: str, *, prompt: str = "", allow_blank: bool = True
) -> DataValidation:
    """A drop-down list on the cells of ref, refusing anything else with a translated message."""
    dv = DataValidation(type="list", formula1='"' + ",".join(values) + '"', allow_blank=allow_blank)
    dv.error = _("Choose a value from the list.")
    dv.showErrorMessage = True
    if prompt:
        dv.prompt = prompt
        dv.showInputMessage = True
    ws.add_data_validation(dv)
    dv.add(ref)
    return dv


def to_bytes(wb: Workbook) -> bytes:
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# --- reading ------------------------------------------------------------------------------------


class WorkbookRefused(ValidationFailed):
    """An upload that is not a workbook we will open; the message says why."""


def open_workbook(
    data: bytes, *, max_bytes: int, max_unpacked: int, read_only: bool = True
) -> Workbook:
    """Open uploaded .xlsx bytes with cell values (never formulas). Refuses, before openpyxl
    unpacks anything, a file that is empty, too large, not an .xlsx zip, or that unpacks to more
    than max_unpacked bytes (the sizes a zip declares bound what it may unpack to: zipfile stops
    reading at the declared size). Raises WorkbookRefused."""
    if not data:
        raise WorkbookRefused(_("The file is empty."))
    if len(data) > max_bytes:
        raise WorkbookRefused(_("The file is larger than %(mb)s MB.", mb=_megabytes(max_bytes)))
    not_xlsx = _(
        "This is not an Excel workbook (.xlsx). Save it in Excel or WPS as "
        "“Excel Workbook (*.xlsx)” and try again."
    )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError):
        raise WorkbookRefused(not_xlsx) from None
    if "[Content_Types].xml" not in names or not any(n.startswith("xl/") for n in names):
        raise WorkbookRefused(not_xlsx)
    if unpacked > max_unpacked:
        raise WorkbookRefused(
            _(
                "The workbook unpacks to %(size)s MB, more than the %(limit)s MB allowed.",
                size=_megabytes(unpacked),
                limit=_megabytes(max_unpacked),
            )
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about Excel features it drops
            return load_workbook(io.BytesIO(data), read_only=read_only, data_only=True)
    except Exception:  # openpyxl raises many kinds of errors for damaged files
        raise WorkbookRefused(not_xlsx) from None


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}".removesuffix(".0")
