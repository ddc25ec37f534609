"""Excel import of units and systems, and the template workbooks people fill in.

The file format is fixed and Chinese (the office's registers are), whatever the user's language:
headers in row 1, an English note row under them, data from there on. Import is all or nothing:
every row is parsed and checked first; one bad row means nothing is written and every problem is
reported with its Excel row number and column header. A good file is written in one transaction,
matching existing rows by code so a re-import updates instead of duplicating.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from sqlalchemy.exc import IntegrityError

from .. import audit
from .. import xlsx as kit
from ..auth import permissions
from ..errors import Conflict, ValidationFailed
from ..extensions import db
from ..labels import UNIT_KIND_LABELS
from ..models import UNIT_KINDS, System, Unit, User
from ..transaction import unit_of_work
from . import services

DEFAULT_MAX_BYTES = 5 * 1024 * 1024
# A zip can unpack to far more than it weighs; refuse before openpyxl tries.
MAX_UNPACKED_BYTES = 100 * 1024 * 1024
MAX_ROWS = 5000
HEADER_ROW = 1
NOTE_ROW = 2
EXAMPLE_CODE = "EXAMPLE"
_TEMPLATE_ROWS = 2000  # how far down the template's drop-down lists reach

YES_WORDS = {"是", "y", "yes", "true", "1", "√", "✓"}
NO_WORDS = {"否", "n", "no", "false", "0", "×", "✗"}
_CN_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5}


@dataclass(frozen=True)
class Column:
    key: str
    header: str  # Chinese, as in row 1 of the template
    note: str  # English, for the note row and the header comment
    kind: str = "text"  # text | bool | int | unit_kind | level
    required: bool = False
    default: Any = None
    example: Any = ""
    width: int = 16


# fmt: off
UNIT_COLUMNS = (
    Column("code", "单位编号", "Unit code: required, unique; matches rows on re-import", required=True, example=EXAMPLE_CODE),
    Column("name", "单位名称", "Unit name: required", required=True, example="示例市大数据中心", width=28),
    Column("kind", "单位类型", "Kind of unit: pick from the list", kind="unit_kind", required=True),
    Column("parent_code", "上级单位编号", "Parent unit code: optional; an existing unit or one in this file"),
    Column("is_key_unit", "重点单位", "Key unit: 是/否 (Y/N)", kind="bool", default=False, example="是", width=10),
    Column("is_cii", "关键信息基础设施运营者", "CII operator: 是/否", kind="bool", default=False, example="否", width=12),
    Column("credit_code", "统一社会信用代码", "Unified social credit code: 18 characters with the GB 32100 check digit", example="12990000MB0000001J", width=22),
    Column("sector", "所属行业", "Sector", example="政务服务"),
    Column("address", "地址", "Address", example="示例市人民路1号", width=28),
    Column("contact_name", "联系人", "Contact person", example="张三"),
    Column("contact_phone", "联系电话", "Contact phone", example="0755-12345678"),
    Column("contact_email", "联系邮箱", "Contact e-mail", example="contact@example.cn", width=22),
    Column("has_website", "有门户网站", "Has a website: 是/否", kind="bool", default=False, example="是", width=10),
    Column("has_new_media", "有政务新媒体", "Has new-media accounts: 是/否", kind="bool", default=False, example="是", width=10),
    Column("handles_pi", "处理个人信息", "Processes personal information: 是/否", kind="bool", default=False, example="是", width=10),
    Column("important_data", "处理重要数据", "Processes important data: 是/否", kind="bool", default=False, example="否", width=10),
    Column("classified", "涉密单位", "Handles classified information: 是/否", kind="bool", default=False, example="否", width=10),
    Column("inspection_cap", "年度检查上限", "Yearly inspection cap: whole number; empty = the default for the kind", kind="int", width=12),
    Column("active", "在用", "Active: 是/否; empty = 是", kind="bool", default=True, example="是", width=8),
)

SYSTEM_COLUMNS = (
    Column("code", "系统编号", "System code: required, unique; matches rows on re-import", required=True, example="EXAMPLE-SYS"),
    Column("name", "系统名称", "System name: required", required=True, example="示例政务服务平台", width=28),
    Column("unit_code", "所属单位编号", "Code of the unit that runs it: required, must exist", required=True, example="DW001"),
    Column("mlps_level", "等保级别", "MLPS level: 1 to 5", kind="level", required=True, example=3, width=10),
    Column("filing_number", "备案编号", "MLPS filing number", example="44030099001-00001", width=22),
    Column("is_cii", "关键信息基础设施", "Critical information infrastructure: 是/否", kind="bool", default=False, example="否", width=12),
    Column("internet_facing", "面向互联网", "Reachable from the internet: 是/否", kind="bool", default=False, example="是", width=10),
    Column("is_cloud", "云计算平台或云上系统", "Cloud platform or system on a cloud: 是/否", kind="bool", default=False, example="否", width=12),
    Column("is_ics", "工业控制系统", "Industrial control system (SCADA, DCS, PLC): 是/否", kind="bool", default=False, example="否", width=12),
    Column("address", "部署地址", "Where it runs (address or IP range)", example="示例市政务云", width=24),
    Column("description", "系统描述", "Description", example="对外提供政务服务事项办理", width=32),
    Column("active", "在用", "Active: 是/否; empty = 是", kind="bool", default=True, example="是", width=8),
)
# fmt: on


@dataclass(frozen=True)
class Spec:
    kind: str  # "units" | "systems"
    sheet: str
    sheet_aliases: tuple[str, ...]
    columns: tuple[Column, ...]
    filename: str
    example_code: str

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)


UNITS = Spec(
    "units", "单位", ("单位", "units", "unit"), UNIT_COLUMNS, "单位导入模板.xlsx", EXAMPLE_CODE
)
SYSTEMS = Spec(
    "systems",
    "重要系统",
    ("重要系统", "系统", "systems", "system"),
    SYSTEM_COLUMNS,
    "重要系统导入模板.xlsx",
    "EXAMPLE-SYS",
)
SPECS = {spec.kind: spec for spec in (UNITS, SYSTEMS)}


@dataclass
class RowError:
    row: int | None  # Excel's row number; None for a problem with the whole file
    column: str  # the column header, "" for the whole row or file
    message: str


@dataclass
class ImportReport:
    kind: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0


class ImportRejected(ValidationFailed):
    """The file was not imported; `errors` says why, row by row."""

    def __init__(self, errors: list[RowError]):
        super().__init__(
            ngettext(
                "Nothing was imported: the file has %(num)d problem. Correct it and upload the file again.",
                "Nothing was imported: the file has %(num)d problems. Correct them and upload the file again.",
                len(errors),
            ),
            details=errors,
        )
        self.errors = errors


@dataclass
class _Row:
    number: int
    values: dict[str, Any] = field(default_factory=dict)


# --- the template ----------------------------------------------------------------------------


def _kind_labels(locale: str) -> dict[str, str]:
    with force_locale(locale):
        return {code: str(UNIT_KIND_LABELS[code]) for code in UNIT_KINDS}


def build_template(kind: str) -> bytes:
    """The import workbook for kind ("units" or "systems"): headers, notes, drop-downs, one example."""
    spec = SPECS[kind]
    wb = Workbook()
    ws = wb.active
    ws.title = spec.sheet
    kinds_zh = _kind_labels("zh_Hans_CN")
    kit.header(
        ws,
        HEADER_ROW,
        [c.header + ("*" if c.required else "") for c in spec.columns],
        widths=[c.width for c in spec.columns],
        comments=[c.note for c in spec.columns],
    )
    for index, column in enumerate(spec.columns, start=1):
        letter = get_column_letter(index)
        kit.write(ws, NOTE_ROW, index, column.note, font=kit.NOTE_FONT, alignment=kit.WRAP)
        example = column.example
        if column.key == "kind":
            example = kinds_zh["public_institution"]
        kit.write(ws, NOTE_ROW + 1, index, example)
        target = f"{letter}{NOTE_ROW + 1}:{letter}{NOTE_ROW + _TEMPLATE_ROWS}"
        if column.kind == "bool":
            kit.list_validation(ws, ["是", "否"], target, prompt="是 / 否")
        elif column.kind == "unit_kind":
            kit.list_validation(
                ws, list(kinds_zh.values()), target, prompt="单位类型 / kind of unit"
            )
        elif column.kind == "level":
            kit.list_validation(
                ws, ["1", "2", "3", "4", "5"], target, prompt="等保级别 1–5 / MLPS level 1–5"
            )
    ws.row_dimensions[NOTE_ROW].height = 48
    ws.freeze_panes = f"A{NOTE_ROW + 1}"
    _add_readme(wb, spec)
    return kit.to_bytes(wb)


def _add_readme(wb: Workbook, spec: Spec) -> None:
    ws = wb.create_sheet("说明")
    lines = [
        ("填写说明", "How to fill in this file"),
        (
            f"在“{spec.sheet}”工作表中每行填写一条记录，第1行为列名，第2行为英文说明，请勿修改或删除列名。",
            f"One record per row on the “{spec.sheet}” sheet. Row 1 holds the headers, row 2 English notes; keep the headers as they are.",
        ),
        (
            f"第3行为示例（编号为 {spec.example_code}），导入时忽略，可删除或覆盖。",
            f"Row 3 is an example (code {spec.example_code}); it is skipped on import. Delete or overwrite it.",
        ),
        (
            "带 * 的列为必填。是/否列也可填 Y/N、true/false、1/0。",
            "Columns marked * are required. Yes/no columns also accept Y/N, true/false, 1/0.",
        ),
        (
            "编号相同的记录在再次导入时更新，不会重复新增。任何一行有误时整个文件都不导入。",
            "Rows whose code already exists are updated on re-import. If any row is wrong, nothing is imported.",
        ),
    ]
    kit.header(ws, 1, lines[0], widths=(70, 90))
    for row, (zh, en) in enumerate(lines[1:], start=2):
        kit.write_row(ws, row, (zh, en), alignment=kit.WRAP)


# --- reading a workbook ----------------------------------------------------------------------


def max_bytes() -> int:
    """The largest upload accepted, from DIRECTORY_IMPORT_MAX_BYTES (default 5 MB)."""
    return int(current_app.config.get("DIRECTORY_IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES))


def _file_error(message: str) -> ImportRejected:
    return ImportRejected([RowError(None, "", message)])


def _open_workbook(data: bytes):
    try:
        return kit.open_workbook(data, max_bytes=max_bytes(), max_unpacked=MAX_UNPACKED_BYTES)
    except kit.WorkbookRefused as err:
        raise _file_error(err.message) from None


def _pick_sheet(wb, spec: Spec):
    by_name = {name.strip().lower(): name for name in wb.sheetnames}
    for alias in spec.sheet_aliases:
        if alias.lower() in by_name:
            return wb[by_name[alias.lower()]]
    if len(wb.sheetnames) == 1:
        return wb[wb.sheetnames[0]]
    raise _file_error(
        _(
            "The workbook has no sheet named “%(sheet)s” (it has: %(found)s). Use the template.",
            sheet=spec.sheet,
            found="、".join(wb.sheetnames),
        )
    )


def _header_key(value: Any) -> str:
    return re.sub(r"[\s*＊]", "", str(value or "")).lower()


def _map_headers(header: tuple, spec: Spec) -> dict[str, int]:
    wanted = {_header_key(c.header): c for c in spec.columns}
    positions: dict[str, int] = {}
    errors = []
    for index, value in enumerate(header):
        column = wanted.get(_header_key(value))
        if column is None:
            continue  # extra columns (remarks and the like) are ignored
        if column.key in positions:
            errors.append(RowError(HEADER_ROW, column.header, _("This column appears twice.")))
        positions[column.key] = index
    for column in spec.columns:
        if column.key not in positions:
            errors.append(
                RowError(
                    HEADER_ROW, column.header, _("This column is missing from the header row.")
                )
            )
    if errors:
        other = SYSTEMS if spec is UNITS else UNITS
        present = {_header_key(v) for v in header}
        if all(_header_key(c.header) in present for c in other.columns if c.required):
            raise _file_error(
                _("This is the other kind of import file. Check that you chose the right page.")
            )
        raise ImportRejected(errors)
    return positions


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _rows(ws) -> Iterator[tuple[int, tuple]]:
    yield from enumerate(ws.iter_rows(values_only=True), start=1)


def _read(data: bytes, spec: Spec) -> tuple[list[_Row], list[RowError]]:
    wb = _open_workbook(data)
    try:
        ws = _pick_sheet(wb, spec)
        rows = _rows(ws)
        header = next(rows, (HEADER_ROW, ()))[1]
        if all(_blank(v) for v in header):
            raise _file_error(
                _(
                    "The sheet “%(sheet)s” is empty: row 1 must hold the column headers.",
                    sheet=ws.title,
                )
            )
        positions = _map_headers(header, spec)
        note_col = positions[spec.columns[0].key]
        parsed: list[_Row] = []
        errors: list[RowError] = []
        kinds = _unit_kind_lookup() if spec is UNITS else {}
        for number, values in rows:
            cells = {key: (values[i] if i < len(values) else None) for key, i in positions.items()}
            if all(_blank(v) for v in cells.values()):
                continue
            first = values[note_col] if note_col < len(values) else None
            if number == NOTE_ROW and str(first or "").strip() == spec.columns[0].note:
                continue
            if str(cells.get("code") or "").strip() == spec.example_code:
                continue
            if len(parsed) >= MAX_ROWS:
                raise _file_error(
                    _("The file has more than %(n)d rows; split it into smaller files.", n=MAX_ROWS)
                )
            parsed.append(_convert_row(number, cells, spec, kinds, errors))
    finally:
        wb.close()
    if not parsed and not errors:
        raise _file_error(_("The file has no data rows."))
    return parsed, errors


# --- cell conversion -------------------------------------------------------------------------


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # Excel stores typed-in numbers (codes, phones) as floats
    return str(value).strip()


def _as_bool(value: Any, default: bool) -> bool:
    if _blank(value):
        return default
    if isinstance(value, bool):
        return value
    word = _as_text(value).lower()
    if word in YES_WORDS:
        return True
    if word in NO_WORDS:
        return False
    raise ValueError(_("Enter 是 or 否 (also accepted: Y/N, true/false, 1/0)."))


def _as_int(value: Any) -> int | None:
    if _blank(value):
        return None
    if isinstance(value, bool):
        raise ValueError(_("Enter a whole number."))
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = _as_text(value)
    if re.fullmatch(r"\d+", text):
        return int(text)
    raise ValueError(_("Enter a whole number."))


def _as_level(value: Any) -> int | None:
    if _blank(value):
        return None
    text = _as_text(value).replace("第", "").replace("级", "").strip()
    level = _CN_DIGITS.get(text) or (int(text) if text.isdigit() else None)
    if level not in services.MLPS_LEVELS:
        raise ValueError(_("The MLPS level must be a whole number from 1 to 5."))
    return level


def _unit_kind_lookup() -> dict[str, str]:
    lookup = {code: code for code in UNIT_KINDS}
    for locale in ("zh_Hans_CN", "en"):
        lookup.update({label.lower(): code for code, label in _kind_labels(locale).items()})
    return lookup


def _as_unit_kind(value: Any, lookup: dict[str, str]) -> str:
    text = _as_text(value)
    if not text:
        return ""
    kind = lookup.get(text.lower())
    if kind is None:
        raise ValueError(
            _(
                "Unknown kind of unit “%(value)s”. Use one of: %(kinds)s.",
                value=text,
                kinds="、".join(_kind_labels("zh_Hans_CN").values()),
            )
        )
    return kind


def _convert_row(
    number: int, cells: dict[str, Any], spec: Spec, kinds: dict[str, str], errors: list[RowError]
) -> _Row:
    row = _Row(number)
    converters: dict[str, Callable[[Column, Any], Any]] = {
        "text": lambda c, v: _as_text(v),
        "bool": lambda c, v: _as_bool(v, c.default),
        "int": lambda c, v: _as_int(v),
        "level": lambda c, v: _as_level(v),
        "unit_kind": lambda c, v: _as_unit_kind(v, kinds),
    }
    for column in spec.columns:
        try:
            row.values[column.key] = converters[column.kind](column, cells.get(column.key))
        except ValueError as err:
            errors.append(RowError(number, column.header, str(err)))
            row.values[column.key] = None
    bad = {e.column for e in errors if e.row == number}
    clean = services.clean_unit if spec is UNITS else services.clean_system
    cleaned, problems = clean(row.values)
    for key, message in problems.items():
        header = spec.column(key).header
        if header not in bad:
            errors.append(RowError(number, header, message))
    row.values = cleaned
    return row


# --- checks across rows and against the database ---------------------------------------------


def _duplicates(
    rows: list[_Row], key: str, spec: Spec, errors: list[RowError], *, fold: bool = False
) -> None:
    """A value that appears in an earlier row too (with `fold`, whatever its letters' case: a
    code)."""
    first: dict[Any, int] = {}
    for row in rows:
        value = row.values.get(key)
        if not value:
            continue
        if fold:
            value = services.folded_code(value)
        if value in first:
            errors.append(
                RowError(
                    row.number,
                    spec.column(key).header,
                    _("“%(value)s” also appears in row %(row)d.", value=value, row=first[value]),
                )
            )
        else:
            first[value] = row.number


def _chunks(items: list, size: int = 500) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class _ByCode:
    """Directory rows found by code whatever the case of its letters (services.folded_code): the row spelled
    exactly as asked, else the only one spelled otherwise. Codes several rows share in other
    spellings (U001 and u001, stored before codes were unique whatever their case) name none
    but the exact one: any other spelling is `ambiguous`."""

    def __init__(self, rows: Iterable[Any]):
        self._exact: dict[str, Any] = {}
        self._folded: dict[str, list[Any]] = {}
        for row in rows:
            self._exact[row.code] = row
            self._folded.setdefault(services.folded_code(row.code), []).append(row)

    def get(self, code: str) -> Any | None:
        if code in self._exact:
            return self._exact[code]
        matches = self._folded.get(services.folded_code(code), [])
        return matches[0] if len(matches) == 1 else None

    def ambiguous(self, code: str) -> str:
        """The spellings `code` could mean, joined ("" when it names one row or none)."""
        matches = self._folded.get(services.folded_code(code), [])
        if code in self._exact or len(matches) < 2:
            return ""
        return "、".join(sorted(m.code for m in matches))


def _by_code(model: type, codes: Iterable[str]) -> _ByCode:
    """The rows of `model` (Unit, System) whose codes are these whatever their case."""
    rows = []
    for chunk in _chunks(sorted({services.folded_code(code) for code in codes})):
        rows += db.session.scalars(
            sa.select(model).where(services.code_folded_in(model.code, chunk))
        )
    return _ByCode(rows)


def _ambiguous(row: _Row, header: str, spellings: str) -> RowError:
    return RowError(
        row.number,
        header,
        _(
            "Several entries of the directory have this code in other letter cases"
            " (%(codes)s): write it exactly as one of them.",
            codes=spellings,
        ),
    )


def _check_units_against_db(rows: list[_Row], errors: list[RowError]) -> _ByCode:
    """Parents, credit codes and loops, against the directory; returns the units found by the
    rows' codes and parents' codes."""
    in_file = {services.folded_code(row.values["code"]): row for row in rows}
    wanted = set(in_file) | {r.values["parent_code"] for r in rows if r.values["parent_code"]}
    known = _by_code(Unit, [r.values["code"] for r in rows] + list(wanted))
    code_header = UNITS.column("code").header
    parent_header = UNITS.column("parent_code").header
    for row in rows:
        if spellings := known.ambiguous(row.values["code"]):
            errors.append(_ambiguous(row, code_header, spellings))
        parent = row.values["parent_code"]
        if not parent or services.folded_code(parent) in in_file:
            continue
        if spellings := known.ambiguous(parent):
            errors.append(_ambiguous(row, parent_header, spellings))
        elif known.get(parent) is None:
            errors.append(
                RowError(
                    row.number,
                    parent_header,
                    _(
                        "No unit has the code %(code)s, in this file or in the directory.",
                        code=parent,
                    ),
                )
            )
    # Credit codes must stay unique across the whole directory once this file is applied.
    credits = [r.values["credit_code"] for r in rows if r.values["credit_code"]]
    holders: dict[str, tuple[int, str]] = {}
    for chunk in _chunks(credits):
        stmt = sa.select(Unit.credit_code, Unit.id, Unit.code).where(Unit.credit_code.in_(chunk))
        holders.update({credit: (uid, code) for credit, uid, code in db.session.execute(stmt)})
    # the row that updates each unit of the directory
    updating = {u.id: row for row in rows if (u := known.get(row.values["code"])) is not None}
    credit_header = UNITS.column("credit_code").header
    for row in rows:
        holder = holders.get(row.values["credit_code"] or "")
        if holder and updating.get(holder[0]) is not row:
            moving_away = (
                holder[0] in updating
                and updating[holder[0]].values["credit_code"] != row.values["credit_code"]
            )
            if not moving_away:
                errors.append(
                    RowError(
                        row.number,
                        credit_header,
                        _("The unit %(code)s already has this credit code.", code=holder[1]),
                    )
                )
    _check_cycles(rows, in_file, known, errors)
    return known


def _check_cycles(
    rows: list[_Row], in_file: dict[str, _Row], known: _ByCode, errors: list[RowError]
) -> None:
    """Loops through parents once the file is applied: each unit is a node (a directory's by
    its id, a new one by its row), its parent the file's where a row says one."""

    def node(code: str) -> tuple[str, Any]:
        row = in_file.get(services.folded_code(code))
        unit = known.get(row.values["code"] if row is not None else code)
        return ("unit", unit.id) if unit is not None else ("row", services.folded_code(code))

    parent_of: dict[tuple[str, Any], tuple[str, Any] | None] = {
        ("unit", uid): ("unit", above) if above is not None else None
        for uid, above in db.session.execute(sa.select(Unit.id, Unit.parent_id))
    }
    for row in rows:
        parent = row.values["parent_code"]
        parent_of[node(row.values["code"])] = node(parent) if parent else None
    header = UNITS.column("parent_code").header
    for row in rows:
        start = node(row.values["code"])
        seen, current = {start}, parent_of.get(start)
        while current is not None:
            if current in seen:
                errors.append(
                    RowError(
                        row.number,
                        header,
                        _("The parent units form a loop: a unit cannot be above itself."),
                    )
                )
                break
            seen.add(current)
            current = parent_of.get(current)


def _check_systems_against_db(rows: list[_Row], errors: list[RowError]) -> tuple[_ByCode, _ByCode]:
    """Units named and systems to update, against the directory; returns both found by code."""
    units = _by_code(Unit, [r.values["unit_code"] for r in rows if r.values["unit_code"]])
    systems = _by_code(System, [r.values["code"] for r in rows])
    unit_header = SYSTEMS.column("unit_code").header
    code_header = SYSTEMS.column("code").header
    for row in rows:
        if spellings := systems.ambiguous(row.values["code"]):
            errors.append(_ambiguous(row, code_header, spellings))
        code = row.values["unit_code"]
        if not code:
            continue
        if spellings := units.ambiguous(code):
            errors.append(_ambiguous(row, unit_header, spellings))
        elif units.get(code) is None:
            errors.append(
                RowError(
                    row.number,
                    unit_header,
                    _("No unit has the code %(code)s. Import or add the unit first.", code=code),
                )
            )
    return units, systems


# --- applying --------------------------------------------------------------------------------


def _finish(errors: list[RowError], spec: Spec) -> None:
    """Raise with every problem, in the order a person reads the sheet."""
    if errors:
        order = {c.header: i for i, c in enumerate(spec.columns)}
        errors.sort(key=lambda e: (e.row or 0, order.get(e.column, len(order))))
        raise ImportRejected(errors)


def _summary(actor: User, action: str, report: ImportReport, data: bytes, filename: str) -> None:
    audit.record(
        actor,
        action,
        object_type="Import",
        object_id=report.kind,
        after={
            "filename": filename[:200],
            "sha256": hashlib.sha256(data).hexdigest(),
            "rows": report.rows,
            "created": report.created,
            "updated": report.updated,
            "unchanged": report.unchanged,
        },
    )


def _write(apply: Callable[[], None]) -> None:
    """Run apply and commit; a unique-key race with another writer becomes a Conflict."""
    try:
        with unit_of_work():
            apply()
    except IntegrityError:
        raise Conflict(
            _(
                "The directory was changed by someone else during the import. Nothing was imported; try again."
            )
        ) from None


def import_units(data: bytes, *, actor: User, filename: str = "") -> ImportReport:
    """Create or update units from an .xlsx file, all or nothing.

    Raises NotAllowed, ImportRejected (with every row error) or Conflict. Commits once.
    """
    permissions.require(actor, "directory.import")
    rows, errors = _read(data, UNITS)
    _duplicates(rows, "code", UNITS, errors, fold=True)
    _duplicates(rows, "credit_code", UNITS, errors)
    known = _check_units_against_db(rows, errors) if not errors else _ByCode([])
    _finish(errors, UNITS)
    report = ImportReport("units", rows=len(rows))

    def apply() -> None:
        units: dict[str, Unit] = {}  # each row's, by its folded code
        befores: dict[str, dict | None] = {}
        with db.session.no_autoflush:
            for row in rows:
                code = services.folded_code(row.values["code"])
                unit = known.get(row.values["code"])
                befores[code] = services.unit_snapshot(unit) if unit is not None else None
                # a unit found keeps its code as the directory spells it
                kept = ("parent_code",) if unit is None else ("parent_code", "code")
                if unit is None:
                    unit = Unit()
                    db.session.add(unit)
                units[code] = unit
                services.assign(unit, {k: v for k, v in row.values.items() if k not in kept})
            for row in rows:
                parent = row.values["parent_code"]
                # the file's unit of that code, else the directory's (_check_units_against_db)
                above = (
                    (units.get(services.folded_code(parent)) or known.get(parent))
                    if parent
                    else None
                )
                services.assign(units[services.folded_code(row.values["code"])], {"parent": above})
        for row in rows:
            code = services.folded_code(row.values["code"])
            unit, before = units[code], befores[code]
            after = services.unit_snapshot(unit)
            old, new = services.changed(before or {}, after)
            if before is None:
                report.created += 1
                audit.record(actor, "unit.create", unit, after=after)
            elif new:
                report.updated += 1
                audit.record(actor, "unit.update", unit, before=old, after=new)
            else:
                report.unchanged += 1
        _summary(actor, "unit.import", report, data, filename)

    _write(apply)
    return report


def import_systems(data: bytes, *, actor: User, filename: str = "") -> ImportReport:
    """Create or update important systems from an .xlsx file, all or nothing.

    Raises NotAllowed, ImportRejected (with every row error) or Conflict. Commits once.
    """
    permissions.require(actor, "directory.import")
    rows, errors = _read(data, SYSTEMS)
    _duplicates(rows, "code", SYSTEMS, errors, fold=True)
    units, systems = (
        _check_systems_against_db(rows, errors) if not errors else (_ByCode([]), _ByCode([]))
    )
    _finish(errors, SYSTEMS)
    report = ImportReport("systems", rows=len(rows))

    def apply() -> None:
        for row in rows:
            values = {k: v for k, v in row.values.items() if k != "unit_code"}
            values["unit"] = units.get(row.values["unit_code"])
            system = systems.get(row.values["code"])
            if system is not None:
                del values["code"]  # as the directory spells it
            if system is None:
                system = System(**values)
                db.session.add(system)
                report.created += 1
                audit.record(actor, "system.create", system, after=services.system_snapshot(system))
                continue
            before = services.system_snapshot(system)
            services.assign(system, values)
            old, new = services.changed(before, services.system_snapshot(system))
            if new:
                report.updated += 1
                audit.record(actor, "system.update", system, before=old, after=new)
            else:
                report.unchanged += 1
        _summary(actor, "system.import", report, data, filename)

    _write(apply)
    return report


IMPORTERS = {"units": import_units, "systems": import_systems}
