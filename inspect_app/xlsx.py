"""The one Excel toolkit: every workbook the app writes goes through its safe cell writer, and
every workbook it reads is opened here with the same size checks and messages.

A text that starts like a formula (=, +, -, @, a tab or CR, or their full-width forms) is written
as text and marked with Excel's quote prefix, so neither opening nor editing the cell runs it
(security review 2-B: a checklist text `=HYPERLINK(...)` came back as a live formula). Characters
XML cannot carry are dropped and a text longer than a cell holds is cut with a visible marker;
emoji and rare CJK are kept.

Large workbooks are written in openpyxl's write-only mode through `TableSheet`: column widths, the
frozen header, printing (A4 landscape, header row repeated, fit to width) are set before the first
row (write-only mode drops them otherwise), rows are streamed to a temporary file and strings are
written inline, so memory stays flat whatever the number of rows.
"""

from __future__ import annotations

import io
import re
import warnings
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from flask import has_app_context
from flask_babel import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from .errors import ValidationFailed

MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Spreadsheet programs start a formula on these (the full-width ones in some CJK setups).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")

HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="E8EAED")
HEADER_BORDER = Border(bottom=Side(style="thin", color="5F6368"))
NOTE_FONT = Font(italic=True, color="5F6368", size=9)
WRAP = Alignment(wrap_text=True, vertical="top")


# What XML 1.0 cannot carry (C0 controls but tab, LF and CR; lone surrogates; U+FFFE/U+FFFF).
ILLEGAL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# Excel's limit on the text of one cell, in UTF-16 code units (an emoji counts two).
MAX_CELL_TEXT = 32_767


def formula_like(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def truncation_marker() -> str:
    """What a cut text ends with: "…[已截断]" in Chinese."""
    return _("…[truncated]") if has_app_context() else "…[已截断]"


def _utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def clean_text(text: str) -> str:
    """text without the characters XML cannot carry, cut to what a cell holds with a visible
    marker at the end. Everything else (emoji, CJK extension B such as 𠀀) is kept."""
    if ILLEGAL_CHARACTERS.search(text):
        text = ILLEGAL_CHARACTERS.sub("", text)
    if len(text) > MAX_CELL_TEXT // 2 and _utf16_length(text) > MAX_CELL_TEXT:
        marker = truncation_marker()
        room = MAX_CELL_TEXT - _utf16_length(marker)
        encoded = text.encode("utf-16-le")[: room * 2]
        # A cut between the two halves of a surrogate pair drops the half.
        text = encoded.decode("utf-16-le", errors="ignore") + marker
    return text


def _harden(cell, value: Any):
    if formula_like(value):
        cell.data_type = "s"  # openpyxl made it a formula ("f") on assignment
        cell.quotePrefix = True
    return cell


def write(ws, row: int, column: int, value: Any, **style: Any):
    """Put value in a cell of a normal worksheet, never as a formula; style: font, fill,
    alignment, number_format, border. Returns the cell."""
    if isinstance(value, str):
        value = clean_text(value)
    cell = ws.cell(row=row, column=column, value=value)
    for name, setting in style.items():
        setattr(cell, name, setting)
    return _harden(cell, value)


def cell(ws, value: Any, **style: Any) -> WriteOnlyCell:
    """A cell for a write-only worksheet's append(), never a formula."""
    if isinstance(value, str):
        value = clean_text(value)
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


# --- write-only sheets ---------------------------------------------------------------------------

DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
PERCENT_FORMAT = "0.0%"
INTEGER_FORMAT = "0"
NUMBER_FORMAT = "0.00"
_FORMULA_FIRST = frozenset(FORMULA_STARTS)
TITLE_FONT = Font(bold=True, size=14)
BOLD = Font(bold=True)


@dataclass(frozen=True)
class Column:
    """A column of a table sheet: heading, width in characters and how its values look:
    "" (as they come: text, whole numbers, dates as yyyy-mm-dd), "wrap" (wrapped text),
    "date", "datetime", "percent" (a fraction shown as 12.5%), "number" (two decimals)."""

    heading: str
    width: float = 12
    style: str = ""


_STYLES = {
    "wrap": {"alignment": WRAP},
    "date": {"number_format": DATE_FORMAT},
    "datetime": {"number_format": DATETIME_FORMAT},
    "percent": {"number_format": PERCENT_FORMAT},
    "number": {"number_format": NUMBER_FORMAT},
    "integer": {"number_format": INTEGER_FORMAT},
    "bold": {"font": BOLD},
    "header": {
        "font": HEADER_FONT,
        "fill": HEADER_FILL,
        "border": HEADER_BORDER,
        "alignment": WRAP,
    },
    "title": {"font": TITLE_FONT},
}


def _style_array(ws, style: str) -> StyleArray | None:
    """The StyleArray of a cell with this style, computed once: giving a new cell a copy is
    much cheaper than setting font/alignment/number_format on every cell."""
    if not style:
        return None
    probe = WriteOnlyCell(ws)
    for name, setting in _STYLES[style].items():
        setattr(probe, name, setting)
    return probe._style


def set_up_printing(ws, *, title: str = "", repeat_rows: str | None = "1:1") -> None:
    """A4 landscape, fit to the page width (as many pages down as needed), the header rows
    repeated on every page, the sheet's title at the top and page numbers at the bottom."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    ws.print_options.gridLines = True
    if repeat_rows:
        ws.print_title_rows = repeat_rows
    if title:
        ws.HeaderFooter.oddHeader.center.text = clean_text(title).replace("&", "&&")
    ws.HeaderFooter.oddFooter.center.text = "&P / &N"


def set_widths(ws, widths: Sequence[float]) -> None:
    for index, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(index)].width = width


class TableSheet:
    """A write-only sheet holding one table: optional lines above it, a header row, then data
    rows. Widths, the frozen header and printing are set before the first row; the auto-filter
    covers exactly the rows written (it is written at the end of the sheet). `progress(n)` is
    called with the number of data rows written, every `every` rows and at the end.

    Values may be str (made safe: never a formula, XML-legal, cut to a cell's size), int, float,
    Decimal, date, datetime (naive, local time), bool (written as the text given by `yes_no`)
    or None (an empty cell).
    """

    def __init__(
        self,
        wb: Workbook,
        title: str,
        columns: Sequence[Column],
        *,
        lines: Sequence[Sequence[Any]] = (),
        print_title: str = "",
        progress: Callable[[int], None] | None = None,
        every: int = 2000,
        filter: bool = True,
    ):
        self.ws = wb.create_sheet(title)
        self.columns = list(columns)
        self._progress, self._every = progress, every
        self._filter = filter
        self.rows_written = 0
        self.header_row = len(lines) + 1
        ws = self.ws
        set_widths(ws, [c.width for c in self.columns])
        ws.freeze_panes = f"A{self.header_row + 1}"
        set_up_printing(
            ws, title=print_title or title, repeat_rows=f"{self.header_row}:{self.header_row}"
        )
        self._styles = [_style_array(ws, c.style) for c in self.columns]
        # What _cells needs per column: a reusable cell, the style of its values, the style of
        # a quoted (formula-like) text, and the bound type and style per other value type.
        self._data_styles = [StyleArray(s) if s is not None else StyleArray() for s in self._styles]
        self._quoted = []
        for style in self._data_styles:
            quoted = StyleArray(style)
            quoted.quotePrefix = 1
            self._quoted.append(quoted)
        self._row_cells = [Cell(ws, column=i) for i in range(1, len(self.columns) + 1)]
        self._kinds: list[dict[type, tuple[str, StyleArray]]] = [{} for _ in self.columns]
        self._plain = False
        ws._values_to_row = self._cells  # openpyxl 3.1's hook turning an appended row into cells
        self._yes, self._no = (_("Yes"), _("No")) if has_app_context() else ("是", "否")
        for index, line in enumerate(lines):
            self._append([cell(ws, v, font=TITLE_FONT) if index == 0 and v else v for v in line])
        header_style = _style_array(ws, "header")
        self._append([self._styled(c.heading, header_style) for c in self.columns])

    def _append(self, values: list[Any]) -> None:
        """A row of the lines above the table or of the header, as openpyxl converts it."""
        self._plain = True
        try:
            self.ws.append(values)
        finally:
            self._plain = False

    def _styled(self, value: Any, style: StyleArray) -> WriteOnlyCell:
        out = WriteOnlyCell(self.ws, value=value)
        out._style = StyleArray(style)
        return _harden(out, value)

    def _cells(self, values: Iterable[Any], row: int):
        """The cells openpyxl's write-only writer writes for a data row (it writes each cell
        before it asks for the next, so one cell per column is reused for every row).

        Text is made safe here: XML-illegal characters removed and a long text cut (the
        regular expression runs only on text that has them or is long), and a text that
        starts like a formula carries the quote prefix (it is always written as text, never
        as a formula or an error value). Numbers and text take the column's style as it is;
        any other value (dates) is bound by openpyxl once per column and type, and the
        resulting type and style (a date's number format) reused."""
        if self._plain:
            yield from WriteOnlyWorksheet._values_to_row(self.ws, values, row)
            return
        for value, cell, style, quoted, kinds in zip(
            values, self._row_cells, self._data_styles, self._quoted, self._kinds, strict=False
        ):
            if value is None:
                continue
            kind = value.__class__
            if kind is str or kind is not bool and isinstance(value, str):
                if not value:
                    continue
                if kind is not str:
                    value = str(value)
                if ILLEGAL_CHARACTERS.search(value) or len(value) > MAX_CELL_TEXT // 2:
                    value = clean_text(value)
                cell.data_type = "s"
                cell._style = quoted if value and value[0] in _FORMULA_FIRST else style
            elif kind is int or kind is float:
                cell.data_type = "n"
                cell._style = style
            elif kind is bool:
                value = self._yes if value else self._no
                cell.data_type = "s"
                cell._style = style
            else:
                bound = kinds.get(kind)
                if bound is None:
                    probe = Cell(self.ws, style_array=StyleArray(style), value=value)
                    probe.column, probe.row = cell.column, row
                    if probe.data_type not in ("n", "d"):
                        yield probe  # anything else openpyxl takes, bound for this value only
                        continue
                    bound = kinds[kind] = (probe.data_type, probe._style)
                cell.data_type, cell._style = bound
            cell._value = value
            cell.row = row
            yield cell

    @property
    def next_row(self) -> int:
        """The number of the row the next row() call writes."""
        return self.header_row + self.rows_written + 1

    def row(self, values: Iterable[Any]) -> None:
        if values.__class__ is not tuple and values.__class__ is not list:
            values = tuple(values)
        self.ws.append(values)
        self.rows_written += 1
        if self._progress is not None and self.rows_written % self._every == 0:
            self._progress(self._every)

    def rows(self, rows: Iterable[Iterable[Any]]) -> None:
        for values in rows:
            self.row(values)

    def close(self) -> None:
        """The auto-filter over header and rows; reports the rows not yet reported."""
        if self._filter:
            last = get_column_letter(len(self.columns))
            self.ws.auto_filter.ref = (
                f"A{self.header_row}:{last}{self.header_row + max(self.rows_written, 1)}"
            )
        if self._progress is not None:
            self._progress(self.rows_written % self._every)


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
