"""Excel authoring of checklists: a template as a workbook (settings, items, options) and back.

Row 1 of each sheet is a note for the author, row 2 the column names, data from row 3. Cells that
hold structures (legal_basis, applies_if, show_if) use YAML flow syntax, one legal-basis entry
per line. The builder returns bytes; the reader returns the same raw data a YAML file gives, with
each value's sheet and cell, so validation and its messages are shared with YAML files.
"""

from __future__ import annotations

from typing import Any

import yaml
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter

from .. import xlsx as kit
from ..models.checklist import EVIDENCE_RULES, ITEM_KINDS, SEVERITIES, TARGETS
from . import basis, loader, schema
from .errors import Problem

SETTINGS_COLUMNS = ("field", "value")
SETTING_FIELDS = ("key", "version", "title", "title_en", "target", "description")
ITEM_COLUMNS = (
    "section",
    "section_en",
    "code",
    "text",
    "text_en",
    "kind",
    "guidance",
    "legal_basis",
    "severity",
    "major_hazard",
    "deadline_days",
    "evidence",
    "lead_department",
    "weight",
    "veto",
    "applies_if",
    "show_if",
    "advisory",
    "required_action",
    "same_as",
)
# Columns added after workbooks were first written: a workbook without them still reads.
OPTIONAL_ITEM_COLUMNS = ("required_action", "same_as")
OPTION_COLUMNS = ("item", "value", "label", "label_en")
SHEETS = {"settings": SETTINGS_COLUMNS, "items": ITEM_COLUMNS, "options": OPTION_COLUMNS}
HEADER_ROW = 2
FIRST_DATA_ROW = 3

_BOOL_COLUMNS = {"major_hazard", "veto", "advisory"}
_INT_COLUMNS = {"deadline_days"}
_FLOAT_COLUMNS = {"weight"}
_ENUM_COLUMNS = {"kind", "severity", "evidence", "lead_department", "target"}
_CONDITION_COLUMNS = {"applies_if", "show_if"}
_WIDTHS = {
    "section": 18,
    "code": 14,
    "text": 48,
    "text_en": 40,
    "guidance": 30,
    "legal_basis": 48,
    "required_action": 40,
}
DEFAULT_MAX_UNPACKED = 10_000_000  # a 40-item checklist unpacks to about 100 kB
MAX_ROWS = 5000
MAX_COLUMNS = 60


# --- writing ------------------------------------------------------------------------------------


class _FlowDumper(yaml.SafeDumper):
    pass


def flow(value: Any) -> str:
    """One-line YAML for a cell: {unit.is_cii: true}, {law: 网络安全法, article: 第23条}."""
    return (
        yaml.dump(
            value,
            Dumper=_FlowDumper,
            default_flow_style=True,
            allow_unicode=True,
            sort_keys=False,
            width=10**9,
        )
        .strip()
        .removesuffix("...")
        .strip()
    )


def _notes() -> dict[str, str]:
    return {
        "settings": _(
            "Template settings: one field per row. Keep the column names in row 2 and do not merge cells. "
            "Raise the version whenever the content changes."
        ),
        "items": _(
            "One row per item, in order; rows with the same section title form a section. Keep the column "
            "names in row 2 and do not merge cells. kind, severity, evidence, lead_department, major_hazard and "
            "veto have drop-down lists. legal_basis: one entry per line, like {law: 网络安全法, article: 第23条, "
            "article_pre2026: 第21条} or {standard: GB/T 22239-2019, clause: 8.1.5.4 d)}. applies_if and show_if "
            "use the same form, e.g. {unit.is_cii: true}. See docs/checklists.md."
        ),
        "options": _(
            "Answer options of choice items: one row per option; item is the item's code. Keep the column names "
            "in row 2 and do not merge cells."
        ),
    }


def _cell_value(column: str, value: Any) -> Any:
    if value is None or value == "" or value == []:
        return None
    if column == "legal_basis":
        return "\n".join(flow(basis.without_none(entry)) for entry in value)
    if column in _CONDITION_COLUMNS:
        return flow(value)
    return value


def build_workbook(definition: dict[str, Any]) -> bytes:
    """A template version (its stored definition) as an .xlsx workbook."""
    wb = Workbook()
    notes = _notes()

    def sheet(name: str, columns: tuple[str, ...], rows: list[list[Any]], first: bool = False):
        ws = wb.active if first else wb.create_sheet()
        ws.title = name
        kit.write(ws, 1, 1, notes[name], alignment=Alignment(wrap_text=False, vertical="top"))
        kit.header(ws, HEADER_ROW, columns, widths=[_WIDTHS.get(c, 14) for c in columns])
        for ri, row in enumerate(rows, start=FIRST_DATA_ROW):
            for ci, value in enumerate(row, start=1):
                if isinstance(value, str):
                    kit.write(ws, ri, ci, value, number_format="@", alignment=kit.WRAP)
                elif value is not None:
                    kit.write(ws, ri, ci, value)
        ws.freeze_panes = ws.cell(row=FIRST_DATA_ROW, column=1)
        return ws

    settings_rows = [[f, _cell_value(f, definition.get(f))] for f in SETTING_FIELDS]
    ws = sheet("settings", SETTINGS_COLUMNS, settings_rows, first=True)
    ws.column_dimensions["B"].width = 60
    target_row = FIRST_DATA_ROW + SETTING_FIELDS.index("target")
    kit.list_validation(ws, TARGETS, f"B{target_row}", allow_blank=False)
    version_cell = ws.cell(row=FIRST_DATA_ROW + SETTING_FIELDS.index("version"), column=2)
    version_cell.number_format = "@"  # so Excel keeps "2026.10" as text

    item_rows, option_rows = [], []
    for section in definition.get("sections", []):
        for item in section.get("items", []):
            row = []
            for column in ITEM_COLUMNS:
                if column == "section":
                    value = section.get("title")
                elif column == "section_en":
                    value = section.get("title_en")
                else:
                    value = item.get(column)
                row.append(_cell_value(column, value))
            item_rows.append(row)
            for option in item.get("options") or []:
                option_rows.append(
                    [item["code"], option["value"], option["label"], option["label_en"]]
                )
    ws = sheet("items", ITEM_COLUMNS, item_rows)
    last = FIRST_DATA_ROW + max(len(item_rows), 1) + 200
    for column, values in (
        ("kind", ITEM_KINDS),
        ("severity", SEVERITIES),
        ("evidence", EVIDENCE_RULES),
        ("lead_department", schema.LEAD_DEPARTMENTS),
        ("major_hazard", ("TRUE", "FALSE")),
        ("veto", ("TRUE", "FALSE")),
        ("advisory", ("TRUE", "FALSE")),
    ):
        letter = get_column_letter(ITEM_COLUMNS.index(column) + 1)
        kit.list_validation(ws, values, f"{letter}{FIRST_DATA_ROW}:{letter}{last}")
    sheet("options", OPTION_COLUMNS, option_rows)
    return kit.to_bytes(wb)


# --- reading ------------------------------------------------------------------------------------


class _Places:
    """Sheet and cell of every value by path; falls back to the nearest parent that has one."""

    def __init__(self):
        self.values: dict[tuple, tuple[str, str | None]] = {}
        self.keys: dict[tuple, tuple[str, str | None]] = {}

    def locate(self, path: tuple, at_key: bool = False) -> dict[str, Any]:
        path = tuple(path)
        if at_key and path in self.keys:
            sheet, cell = self.keys[path]
        else:
            while path not in self.values and path:
                path = path[:-1]
            sheet, cell = self.values.get(path, ("settings", None))
        return {"sheet": sheet, "cell": cell}


def _max_unpacked() -> int:
    return int(current_app.config.get("CHECKLIST_MAX_UNPACKED_BYTES", DEFAULT_MAX_UNPACKED))


def read_workbook(raw: bytes, source: str) -> tuple[dict | None, Any, list[Problem]]:
    """Bytes of an .xlsx -> (raw template data, locate, problems); data is None when unreadable."""
    places = _Places()

    def fail(message, expected="", sheet=None, cell=None):
        return (
            None,
            places.locate,
            [Problem(source, message=message, expected=expected, sheet=sheet, cell=cell)],
        )

    try:
        wb = kit.open_workbook(
            raw, max_bytes=loader.max_bytes(), max_unpacked=_max_unpacked(), read_only=False
        )
    except kit.WorkbookRefused as err:
        return fail(err.message)

    problems: list[Problem] = []
    missing = [name for name in SHEETS if name not in wb.sheetnames]
    for name in missing:
        problems.append(
            Problem(
                source,
                message=_l("sheet %(sheet)s is missing", sheet=name),
                expected=_l("sheets: %(sheets)s", sheets=", ".join(SHEETS)),
                sheet=name,
            )
        )
    if missing:
        return None, places.locate, problems

    tables = {}
    for name, columns in SHEETS.items():
        table = _read_table(wb[name], name, columns, source, problems)
        if table is not None:
            tables[name] = table
    if problems:
        return None, places.locate, problems

    data: dict[str, Any] = {}
    _read_settings(tables["settings"], data, places, source, problems)
    codes = _read_items(tables["items"], data, places, source, problems)
    _read_options(tables["options"], codes, data, places, source, problems)
    return data, places.locate, problems


class _Table:
    def __init__(self, name: str, columns: dict[str, int], rows: list[tuple[int, dict[str, Any]]]):
        self.name = name
        self.columns = columns  # column name -> 1-based column index
        self.rows = rows  # (row number, {column name: value})

    def cell(self, column: str, row: int) -> str:
        return f"{get_column_letter(self.columns[column])}{row}"


def _read_table(
    ws, name: str, columns: tuple[str, ...], source: str, problems: list[Problem]
) -> _Table | None:
    if ws.max_row > MAX_ROWS or ws.max_column > MAX_COLUMNS:
        # Reading cells creates them: a stray value far down the sheet would cost memory for nothing.
        problems.append(
            Problem(
                source,
                message=_l(
                    "the sheet uses %(rows)d rows and %(columns)d columns",
                    rows=ws.max_row,
                    columns=ws.max_column,
                ),
                expected=_l(
                    "at most %(rows)d rows and %(columns)d columns; delete unused rows and columns",
                    rows=MAX_ROWS,
                    columns=MAX_COLUMNS,
                ),
                sheet=name,
            )
        )
        return None
    header_row = None
    for row in ws.iter_rows(min_row=1, max_row=min(ws.max_row, 10)):
        if any(isinstance(c.value, str) and c.value.strip() == columns[0] for c in row):
            header_row = row[0].row
            break
    if header_row is None:
        problems.append(
            Problem(
                source,
                message=_l("the header row is missing"),
                expected=_l("a row of column names starting with %(first)s", first=columns[0]),
                sheet=name,
                cell="A2",
            )
        )
        return None
    for merged in ws.merged_cells.ranges:
        if merged.min_row <= header_row <= merged.max_row:
            problems.append(
                Problem(
                    source,
                    message=_l("header cells %(range)s are merged", range=merged.coord),
                    expected=_l("one column name per cell"),
                    sheet=name,
                    cell=merged.coord.split(":")[0],
                )
            )
    found: dict[str, int] = {}
    for cell in ws[header_row]:
        if cell.value is None or (isinstance(cell.value, str) and not cell.value.strip()):
            continue
        label = str(cell.value).strip()
        where = f"{cell.column_letter}{header_row}"
        if label not in columns:
            problems.append(
                Problem(
                    source,
                    path=label,
                    message=_l("unknown column %(name)s", name=label),
                    expected=_l("one of: %(values)s", values=", ".join(columns)),
                    sheet=name,
                    cell=where,
                )
            )
        elif label in found:
            problems.append(
                Problem(
                    source,
                    path=label,
                    message=_l("column %(name)s appears twice", name=label),
                    expected=_l("each column once"),
                    sheet=name,
                    cell=where,
                )
            )
        else:
            found[label] = cell.column
    optional = OPTIONAL_ITEM_COLUMNS if name == "items" else ()
    for column in columns:
        if column not in found and column not in optional:
            problems.append(
                Problem(
                    source,
                    path=column,
                    message=_l("column %(name)s is missing", name=column),
                    expected=_l("columns: %(values)s", values=", ".join(columns)),
                    sheet=name,
                    cell=f"A{header_row}",
                )
            )
    if any(c not in found and c not in optional for c in columns):
        return None
    rows = []
    for row in ws.iter_rows(min_row=header_row + 1):
        values = {
            col: row[idx - 1].value if idx - 1 < len(row) else None for col, idx in found.items()
        }
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in values.values()):
            continue
        rows.append((row[0].row, values))
    return _Table(name, found, rows)


def _convert(
    column: str, value: Any, place: tuple[str, str], source: str, problems: list[Problem]
) -> Any:
    """A cell value as the YAML reader would have produced it (strings for text, real booleans...)."""
    if (
        isinstance(value, str)
        and column in _BOOL_COLUMNS | _INT_COLUMNS | _FLOAT_COLUMNS | _ENUM_COLUMNS
    ):
        value = value.strip()
    if column in _BOOL_COLUMNS and isinstance(value, str):
        lowered = value.lower()
        if lowered in ("true", "yes", "是", "1"):
            return True
        if lowered in ("false", "no", "否", "0"):
            return False
        return value
    if column in _INT_COLUMNS:
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and value.isdigit():
            return int(value)
        return value
    if column in _FLOAT_COLUMNS and isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    if column == "legal_basis":
        if not isinstance(value, str):
            return value
        entries = []
        for line in value.splitlines():
            if line.strip():
                entries.append(_parse_cell_yaml(line, column, place, source, problems))
        return entries
    if column in _CONDITION_COLUMNS:
        return (
            _parse_cell_yaml(value, column, place, source, problems)
            if isinstance(value, str)
            else value
        )
    if column in _FLOAT_COLUMNS:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)  # a code or option value typed as a number
    return value


def _parse_cell_yaml(
    text: str, column: str, place: tuple[str, str], source: str, problems: list[Problem]
) -> Any:
    data, _locate, found = loader.read_yaml(text.encode("utf-8"), source)
    for p in found:
        problems.append(
            Problem(
                source,
                path=column,
                message=p.message,
                expected=_l("YAML flow syntax, e.g. {unit.is_cii: true}"),
                sheet=place[0],
                cell=place[1],
            )
        )
    return data


def _read_settings(
    table: _Table, data: dict, places: _Places, source: str, problems: list[Problem]
) -> None:
    places.values[()] = ("settings", None)
    for row, values in table.rows:
        name = values["field"]
        name = name.strip() if isinstance(name, str) else name
        key_place = ("settings", table.cell("field", row))
        value_place = ("settings", table.cell("value", row))
        if name not in SETTING_FIELDS:
            problems.append(
                Problem(
                    source,
                    path=str(name),
                    message=_l("unknown setting %(name)s", name=name),
                    expected=_l("one of: %(values)s", values=", ".join(SETTING_FIELDS)),
                    sheet=key_place[0],
                    cell=key_place[1],
                )
            )
            continue
        if name in data:
            problems.append(
                Problem(
                    source,
                    path=name,
                    message=_l("setting %(name)s appears twice", name=name),
                    expected=_l("each setting once"),
                    sheet=key_place[0],
                    cell=key_place[1],
                )
            )
            continue
        places.keys[(name,)] = key_place
        places.values[(name,)] = value_place
        value = _convert(name, values["value"], value_place, source, problems)
        if value is not None:
            data[name] = value


def _read_items(
    table: _Table, data: dict, places: _Places, source: str, problems: list[Problem]
) -> dict[str, tuple]:
    sections: list[dict[str, Any]] = []
    codes: dict[str, tuple] = {}
    places.values[("sections",)] = ("items", "A3")
    current = None
    for row, values in table.rows:
        title = values["section"]
        title = (
            str(title) if isinstance(title, int | float) and not isinstance(title, bool) else title
        )
        if title is not None and (current is None or title != current["title"]):
            current = {"title": title, "items": []}
            si = len(sections)
            sections.append(current)
            places.values[("sections", si)] = ("items", table.cell("section", row))
            places.values[("sections", si, "title")] = ("items", table.cell("section", row))
            places.values[("sections", si, "title_en")] = ("items", table.cell("section_en", row))
            places.values[("sections", si, "items")] = ("items", table.cell("section", row))
            if values["section_en"] is not None:
                current["title_en"] = _convert(
                    "section_en", values["section_en"], ("items", ""), source, problems
                )
        elif current is None:
            problems.append(
                Problem(
                    source,
                    path="section",
                    message=_l("the first item row has no section"),
                    expected=_l("a section title"),
                    sheet="items",
                    cell=table.cell("section", row),
                )
            )
            current = {"title": None, "items": []}
            sections.append(current)
        si = len(sections) - 1
        ii = len(current["items"])
        path = ("sections", si, "items", ii)
        places.values[path] = ("items", table.cell("code", row))
        item: dict[str, Any] = {}
        for column in ITEM_COLUMNS[2:]:
            if column not in table.columns:
                continue  # an optional column the workbook does not have
            place = ("items", table.cell(column, row))
            places.values[(*path, column)] = place
            places.keys[(*path, column)] = place
            value = values.get(column)
            if value is None or (
                isinstance(value, str) and not value.strip() and column not in ("text", "text_en")
            ):
                continue
            item[column] = _convert(column, value, place, source, problems)
        current["items"].append(item)
        code = item.get("code")
        if isinstance(code, str) and code not in codes:
            codes[code] = path
    data["sections"] = sections
    return codes


def _read_options(
    table: _Table,
    codes: dict[str, tuple],
    data: dict,
    places: _Places,
    source: str,
    problems: list[Problem],
) -> None:
    for row, values in table.rows:
        code = values["item"]
        code = str(code) if isinstance(code, int) and not isinstance(code, bool) else code
        if code not in codes:
            problems.append(
                Problem(
                    source,
                    path="item",
                    message=_l("options for an unknown item %(code)s", code=code),
                    expected=_l("a code from the items sheet"),
                    sheet="options",
                    cell=table.cell("item", row),
                )
            )
            continue
        path = codes[code]
        item = data["sections"][path[1]]["items"][path[3]]
        options = item.setdefault("options", [])
        oi = len(options)
        if oi == 0:
            places.values[(*path, "options")] = ("options", table.cell("item", row))
        places.values[(*path, "options", oi)] = ("options", table.cell("item", row))
        option = {}
        for column in OPTION_COLUMNS[1:]:
            place = ("options", table.cell(column, row))
            places.values[(*path, "options", oi, column)] = place
            if values[column] is not None:
                option[column] = _convert(column, values[column], place, source, problems)
        options.append(option)


# --- YAML out -----------------------------------------------------------------------------------


class _Flow(dict):
    """A mapping written on one line in the YAML output."""


class _BlockDumper(yaml.SafeDumper):
    """Block style with list items indented under their key, as the documented examples are."""

    def increase_indent(self, flow=False, indentless=False):
        return super().increase_indent(flow, False)


def _represent_str(dumper, value: str):
    style = "|" if "\n" in value.rstrip("\n") else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_BlockDumper.add_representer(
    _Flow,
    lambda d, data: d.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=True),
)
_BlockDumper.add_representer(str, _represent_str)


def to_yaml(template: schema.TemplateModel, *, header: str = "") -> str:
    """A validated template as a YAML file, leaving out fields that hold their default."""
    data = template.model_dump(mode="json", exclude_defaults=True)
    for section in data["sections"]:
        for item in section["items"]:
            if "options" in item:
                item["options"] = [_Flow(o) for o in item["options"]]
            if "legal_basis" in item:
                item["legal_basis"] = [_Flow(basis.without_none(b)) for b in item["legal_basis"]]
            for key in ("applies_if", "show_if"):
                if key in item:
                    item[key] = _flow_condition(item[key])
    body = yaml.dump(
        data,
        Dumper=_BlockDumper,
        allow_unicode=True,
        sort_keys=False,
        width=10**9,
        default_flow_style=False,
    )
    prefix = "".join(f"# {line}\n" for line in header.splitlines()) if header else ""
    return prefix + body


def _flow_condition(value: Any) -> Any:
    if isinstance(value, dict):
        return _Flow({k: _flow_condition(v) for k, v in value.items()})
    if isinstance(value, list):
        return [_flow_condition(v) for v in value]
    return value
