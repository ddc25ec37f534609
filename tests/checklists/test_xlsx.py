"""Excel authoring: export -> import -> export is identical; bad workbooks name sheet, cell and field."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import yaml
from openpyxl import Workbook, load_workbook

from inspect_app.checklists import loader, schema, services, xlsx

from .conftest import SYSTEM_OK, UNIT_OK

SHIPPED = sorted((Path(__file__).resolve().parents[2] / "checklists").glob("*.yaml"))


def definition_of(path: Path) -> dict:
    parsed = loader.parse_path(path)
    assert parsed.problems == [], [str(p) for p in parsed.problems]
    return parsed.template.definition()


def snapshot(raw: bytes) -> dict:
    """Everything a coordinator sees in a workbook: cell values, validations, merged ranges."""
    wb = load_workbook(io.BytesIO(raw))
    out = {}
    for ws in wb.worksheets:
        out[ws.title] = {
            "cells": [[c.value for c in row] for row in ws.iter_rows()],
            "validations": sorted(
                (str(dv.sqref), dv.formula1) for dv in ws.data_validations.dataValidation
            ),
            "merged": sorted(str(r) for r in ws.merged_cells.ranges),
        }
    return out


def read(raw: bytes, name: str = "book.xlsx") -> loader.ParsedFile:
    return loader.parse_bytes(raw, name)


def messages(raw: bytes, name: str = "book.xlsx") -> list[str]:
    return [str(p) for p in read(raw, name).problems]


@pytest.mark.parametrize("path", [UNIT_OK, SYSTEM_OK], ids=lambda p: p.name)
def test_export_import_export_is_identical(en, path):
    definition = definition_of(path)
    first = xlsx.build_workbook(definition)
    imported = read(first)
    assert imported.problems == [], [str(p) for p in imported.problems]
    assert imported.template.definition() == definition
    second = xlsx.build_workbook(imported.template.definition())
    assert snapshot(second) == snapshot(first)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_checklists_round_trip(en, path):
    definition = definition_of(path)
    imported = read(xlsx.build_workbook(definition))
    assert imported.problems == [], [str(p) for p in imported.problems]
    assert imported.template.definition() == definition


def test_import_xlsx_yaml_reads_back_to_the_same_template(en, tmp_path):
    definition = definition_of(UNIT_OK)
    text = xlsx.to_yaml(schema.TemplateModel.model_validate(definition), header="made by a test")
    assert text.startswith("# made by a test\nkey: TESTU\nversion: '2026.1'\n")
    assert (
        "    - {law: 网络安全法, article: 第23条, article_pre2026: 第21条, quote: 明确网络安全负责人}"
        in text
    )
    assert "severity: medium" not in text  # defaults are left out
    again = loader.parse_bytes(text.encode(), "again.yaml")
    assert again.problems == [] and again.template.definition() == definition


def test_the_workbook_has_notes_headers_and_drop_down_lists(en):
    wb = load_workbook(io.BytesIO(xlsx.build_workbook(definition_of(UNIT_OK))))
    assert wb.sheetnames == ["settings", "items", "options"]
    items = wb["items"]
    assert "One row per item" in items["A1"].value
    assert [c.value for c in items[2]] == list(xlsx.ITEM_COLUMNS)
    assert items["C3"].value == "TESTU-01"
    assert items["H3"].value.splitlines() == [
        "{law: 网络安全法, article: 第23条, article_pre2026: 第21条, quote: 明确网络安全负责人}",
        "{standard: GB/T 22239-2019, clause: 8.1.7.1 a)}",
    ]
    lists = {
        str(dv.sqref).split(":")[0]: dv.formula1 for dv in items.data_validations.dataValidation
    }
    assert lists["F3"] == '"yes_no,choice,number,text,date"'
    assert lists["I3"] == '"high,medium,low"'
    assert lists["L3"] == '"none,optional,required_if_noncompliant,required"'
    assert lists["M3"] == '"CAC,PSB,MIIT,SEC"'
    assert lists["J3"] == '"TRUE,FALSE"'
    settings = wb["settings"]
    assert [settings.cell(row=r, column=1).value for r in range(3, 9)] == list(xlsx.SETTING_FIELDS)
    assert settings["B4"].value == "2026.1" and settings["B4"].number_format == "@"
    options = wb["options"]
    assert [c.value for c in options[3]] == ["TESTU-02", "never", "从未", "Never"]


def _book(mutate) -> bytes:
    wb = load_workbook(io.BytesIO(xlsx.build_workbook(definition_of(UNIT_OK))))
    mutate(wb)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_missing_sheets(en):
    raw = _book(lambda wb: (wb.remove(wb["options"]), wb.remove(wb["settings"])))
    assert messages(raw) == [
        "book.xlsx:settings: sheet settings is missing (expected sheets: settings, items, options)",
        "book.xlsx:options: sheet options is missing (expected sheets: settings, items, options)",
    ]


def test_merged_header_cells(en):
    raw = _book(lambda wb: wb["items"].merge_cells("C2:D2"))
    assert messages(raw) == [
        "book.xlsx:items!C2: header cells C2:D2 are merged (expected one column name per cell)",
        "book.xlsx:items!A2: text: column text is missing (expected columns: "
        + ", ".join(xlsx.ITEM_COLUMNS)
        + ")",
    ]


def test_a_merged_note_row_is_fine(en):
    raw = _book(lambda wb: wb["items"].merge_cells("A1:Q1"))
    assert messages(raw) == []


def test_unknown_and_missing_columns(en):
    def mutate(wb):
        wb["items"]["I2"] = "risk"
        wb["options"]["E2"] = "colour"

    problems = messages(_book(mutate))
    assert (
        "book.xlsx:items!I2: risk: unknown column risk (expected one of: section, section_en, code"
        in problems[0]
    )
    assert "book.xlsx:items!A2: severity: column severity is missing" in problems[1]
    assert "book.xlsx:options!E2: colour: unknown column colour" in problems[2]


def test_bad_cells_name_sheet_cell_and_field(en):
    def mutate(wb):
        items, settings = wb["items"], wb["settings"]
        items["I3"] = "urgent"
        items["K4"] = "thirty"
        items["D5"] = None
        items["P6"] = "{unit.is_cii: [true"
        items["C7"] = "TESTU-01"
        settings["B4"] = 2026.1
        wb["options"]["A4"] = "NOPE-1"

    problems = messages(_book(mutate))
    assert problems == [
        'book.xlsx:settings!B4: version: must be text (expected text; put values like "2026.1" in quotes)',
        "book.xlsx:items!I3: sections.0.items.0.severity: urgent is not an allowed value (expected one of: high, medium, low)",
        "book.xlsx:items!K4: sections.0.items.1.deadline_days: must be a whole number (expected a whole number)",
        "book.xlsx:items!D5: sections.0.items.2.text: required field is missing",
        "book.xlsx:items!P6: applies_if: YAML syntax error (in the parser's words: while parsing a flow "
        "sequence expected ',' or ']', but got '<stream end>') "
        "(expected YAML flow syntax, e.g. {unit.is_cii: true})",
        "book.xlsx:items!C7: sections.1.items.1.code: duplicate code TESTU-01; it is first used at book.xlsx:items!C3 "
        "(expected a code used once in the file)",
        "book.xlsx:options!A4: item: options for an unknown item NOPE-1 (expected a code from the items sheet)",
    ]


def test_conditions_in_cells_are_checked_like_yaml(en):
    problems = messages(
        _book(lambda wb: wb["items"].__setitem__("P6", "{system.mlps_level: {gte: 3}}"))
    )
    assert problems == [
        "book.xlsx:items!P6: sections.1.items.0.applies_if.system.mlps_level: system.mlps_level can only be used "
        "in templates with target: system (expected one of: unit.kind, unit.is_key_unit, unit.is_cii, unit.has_website, "
        "unit.has_new_media, unit.handles_pi, unit.important_data, unit.classified, unit.sector)"
    ]


def test_excel_friendly_values_are_accepted(en):
    def mutate(wb):
        items = wb["items"]
        items["J3"] = "是"  # major_hazard
        items["K3"] = "15"  # deadline as text
        items["N3"] = "2"  # weight as text
        items["I3"] = " high "

    parsed = read(_book(mutate))
    assert parsed.problems == []
    item = parsed.template.sections[0].items[0]
    assert item.major_hazard is True and item.deadline_days == 15 and item.weight == 2.0


def test_not_a_workbook(en):
    assert messages(b"PK\x03\x04 not really") == [
        "book.xlsx: This is not an Excel workbook (.xlsx). Save it in Excel or WPS as "
        "“Excel Workbook (*.xlsx)” and try again."
    ]
    assert "not an Excel workbook" in messages(b"key: x")[0]


def test_a_workbook_that_unpacks_too_large_is_refused(app, en):
    app.config["CHECKLIST_MAX_UNPACKED_BYTES"] = 1000
    try:
        assert "unpacks to" in messages(xlsx.build_workbook(definition_of(UNIT_OK)))[0]
    finally:
        del app.config["CHECKLIST_MAX_UNPACKED_BYTES"]


def test_a_sheet_with_too_many_rows_is_refused_unread(en):
    problems = messages(_book(lambda wb: wb["options"].__setitem__("A6000", "x")))
    assert problems == [
        "book.xlsx:options: the sheet uses 6000 rows and 4 columns "
        "(expected at most 5000 rows and 60 columns; delete unused rows and columns)"
    ]


def test_header_row_missing(en):
    wb = Workbook()
    wb.active.title = "settings"
    wb.create_sheet("items")
    wb.create_sheet("options")
    out = io.BytesIO()
    wb.save(out)
    problems = messages(out.getvalue())
    assert (
        problems[0]
        == "book.xlsx:settings!A2: the header row is missing (expected a row of column names starting with field)"
    )
    assert len(problems) == 3


def test_cli_export_and_import(app, tmp_path):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["checklists", "load", str(UNIT_OK)]).exit_code == 0
    book = tmp_path / "testu.xlsx"
    result = runner.invoke(
        args=["checklists", "export-xlsx", "TESTU", "-o", str(book), "--lang", "en"]
    )
    assert result.exit_code == 0, result.output
    out = tmp_path / "testu.yaml"
    result = runner.invoke(
        args=["checklists", "import-xlsx", str(book), "-o", str(out), "--lang", "en"]
    )
    assert result.exit_code == 0, result.output
    assert yaml.safe_load(out.read_text(encoding="utf-8"))["key"] == "TESTU"
    # Same version, same content: loading the generated YAML is a no-op.
    result = runner.invoke(args=["checklists", "load", str(out), "--lang", "en"])
    assert "unchanged" in result.output


def test_cli_import_of_a_bad_workbook_writes_nothing(app, tmp_path):
    book = tmp_path / "bad.xlsx"
    with app.app_context():
        book.write_bytes(_book(lambda wb: wb["items"].__setitem__("I3", "urgent")))
    out = tmp_path / "out.yaml"
    result = app.test_cli_runner().invoke(
        args=["checklists", "import-xlsx", str(book), "-o", str(out), "--lang", "en"]
    )
    assert result.exit_code == 1
    assert (
        f"{book}:items!I3: sections.0.items.0.severity: urgent is not an allowed value"
        in result.stderr
    )
    assert not out.exists()


def test_changed_workbook_with_same_version_is_refused_on_import(app, tmp_path):
    runner = app.test_cli_runner()
    runner.invoke(args=["checklists", "load", str(UNIT_OK)])
    with app.app_context():
        raw = _book(lambda wb: wb["items"].__setitem__("D3", "改过的问题"))
        assert services.find_version("TESTU") is not None
    book = tmp_path / "changed.xlsx"
    book.write_bytes(raw)
    result = runner.invoke(
        args=[
            "checklists",
            "import-xlsx",
            str(book),
            "-o",
            str(tmp_path / "o.yaml"),
            "--lang",
            "en",
        ]
    )
    assert result.exit_code == 1
    assert (
        "settings!B4: version: TESTU version 2026.1 is already loaded with different content"
        in result.stderr
    )


def test_checklist_workbook_writes_formula_like_text_as_text_and_reads_it_back(en):
    """Security review 2-B: `=HYPERLINK(...)` in a checklist came back as a live formula."""
    from ..test_xlsx_kit import HOSTILE, formula_cells

    definition = definition_of(UNIT_OK)
    item = definition["sections"][0]["items"][0]
    item["text_en"], item["guidance"] = HOSTILE[0], HOSTILE[1]
    definition["sections"][0]["title_en"] = HOSTILE[2]
    data = xlsx.build_workbook(definition)
    assert formula_cells(data) == []
    imported = read(data)
    assert imported.problems == [], [str(p) for p in imported.problems]
    assert imported.template.definition() == definition
