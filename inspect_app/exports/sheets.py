"""The sheets several workbooks share: 问题清单 and 整改台账 (one row per finding, the ledger
columns of domain-cn.md part (b) that the app holds), 检查明细 (one row per answer), and the
tables of figures (汇总, 统计) read from reports/figures.py, so they agree with the dashboard.

Rows come from one SELECT of columns each, streamed with yield_per (a server-side cursor on
PostgreSQL); a finding's history is aggregated in SQL (latest response, extensions granted,
latest verification or return), never loaded as ORM objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask_babel import get_locale
from flask_babel import gettext as _
from openpyxl.chart import BarChart, PieChart, Reference
from sqlalchemy.orm import aliased

from .. import labels
from .. import xlsx as kit
from ..auth import permissions
from ..extensions import db
from ..models import (
    Answer,
    ChecklistItem,
    ChecklistTemplate,
    Department,
    Finding,
    Inspection,
    RectificationEvent,
    RectificationItem,
    Round,
    System,
    Unit,
    User,
    Visit,
)
from ..models.rectification import UNIT_TURN_STATUSES
from ..reports import figures
from ..reports.figures import Scope
from ..reports.sql import local_date
from .common import Book, basis_text
from .common import local_date as beijing_date

Column = kit.Column
YIELD_PER = 2000


@dataclass(frozen=True)
class Filter:
    """Which findings and answers a sheet holds; empty values filter nothing."""

    year: int | None = None
    round_id: int | None = None
    unit_id: int | None = None
    inspection_id: int | None = None


def _texts(mapping: dict) -> dict[str, str]:
    """Labels as plain strings in the current language (a lazy string translates on every
    str(); a sheet of 300,000 rows asks once)."""
    return {code: str(text) for code, text in mapping.items()}


def _user_name(user) -> sa.ColumnElement:
    return sa.func.coalesce(sa.func.nullif(user.display_name, ""), user.username)


def round_name(year: int, seq: int) -> str:
    return _("%(year)d round %(seq)d", year=year, seq=seq)


def object_name(system_name: str | None, level: int | None, filing: str | None) -> str:
    if not system_name:
        return _("The unit as a whole")
    text = f"{system_name}（{_('MLPS level %(n)d', n=level)}）" if level else system_name
    return f"{text} {filing}" if filing else text


# --- findings: 问题清单 and 整改台账 ------------------------------------------------------------


def finding_columns() -> list[Column]:
    return [
        Column(_("No."), 6),
        Column(_("Finding ID"), 18),
        Column(_("Round"), 12),
        Column(_("Inspection date"), 12, "date"),
        Column(_("Inspected unit"), 24, "wrap"),
        Column(_("Unified social credit code"), 20),
        Column(_("Unit category"), 14),
        Column(_("Inspected object"), 24, "wrap"),
        Column(_("Checklist item code"), 14),
        Column(_("Category"), 14),
        Column(_("Finding description"), 40, "wrap"),
        Column(_("Legal basis (articles)"), 30, "wrap"),
        Column(_("Risk level"), 8),
        Column(_("Major hazard"), 8),
        Column(_("Required action"), 30, "wrap"),
        Column(_("Lead department"), 10),
        Column(_("Repeat finding"), 8),
        Column(_("Earlier finding"), 18),
    ]


def ledger_columns() -> list[Column]:
    return [
        Column(_("No."), 6),
        Column(_("Finding ID"), 18),
        Column(_("Inspected unit"), 22, "wrap"),
        Column(_("Finding description"), 32, "wrap"),
        Column(_("Risk level"), 8),
        Column(_("Notice no."), 20, "wrap"),
        Column(_("Served on"), 12, "date"),
        Column(_("Due date"), 12, "date"),
        Column(_("Responsible person"), 12),
        Column(_("Phone"), 14),
        Column(_("Measures reported by the unit"), 36, "wrap"),
        Column(_("Completion date (self-reported)"), 12, "date"),
        Column(_("Status"), 12),
        Column(_("Extensions"), 8),
        Column(_("Due date after extension"), 12, "date"),
        Column(_("Re-check method"), 10),
        Column(_("Re-checked by"), 12),
        Column(_("Re-check date"), 12, "date"),
        Column(_("Re-check result"), 10),
        Column(_("Closed on"), 12, "date"),
        Column(_("Closed by"), 12),
        Column(_("Overdue days"), 8),
        Column(_("Repeat finding"), 8),
    ]


def _events(kinds: tuple[str, ...], *extra) -> sa.Subquery:
    """Per item: the latest event of these kinds (and whatever else is asked), one GROUP BY."""
    return (
        sa.select(
            RectificationEvent.item_id.label("item_id"),
            sa.func.max(RectificationEvent.id).label("last_id"),
            *extra,
        )
        .where(RectificationEvent.kind.in_(kinds))
        .group_by(RectificationEvent.item_id)
        .subquery()
    )


def _finding_filters(stmt: sa.Select, where: Filter, actor) -> sa.Select:
    if where.year is not None:
        stmt = stmt.where(Round.year == where.year)
    if where.round_id is not None:
        stmt = stmt.where(Inspection.round_id == where.round_id)
    if where.unit_id is not None:
        stmt = stmt.where(Finding.unit_id == where.unit_id)
    if where.inspection_id is not None:
        stmt = stmt.where(Finding.inspection_id == where.inspection_id)
    if actor is not None:
        stmt = permissions.scope(stmt, Finding, actor)
    return stmt


def _finding_base(*columns) -> sa.Select:
    return (
        sa.select(*columns)
        .select_from(Finding)
        .join(Inspection, Inspection.id == Finding.inspection_id)
        .join(Round, Round.id == Inspection.round_id)
    )


def count_findings(where: Filter, actor=None) -> int:
    stmt = _finding_filters(_finding_base(sa.func.count(Finding.id)), where, actor)
    return db.session.scalar(stmt) or 0


def finding_rows_query(where: Filter, actor=None) -> sa.Select:
    response = _events(("response",))
    extension = _events(("extension_granted",), sa.func.count(RectificationEvent.id).label("n"))
    check = _events(("verified", "returned"))
    resp_event = aliased(RectificationEvent)
    ext_event = aliased(RectificationEvent)
    check_event = aliased(RectificationEvent)
    checker, closer = aliased(User), aliased(User)
    earlier = aliased(Finding)
    stmt = (
        _finding_base(
            Finding.code,
            Round.year,
            Round.seq,
            Inspection.scheduled_on,
            Unit.name.label("unit_name"),
            Unit.credit_code,
            Unit.kind.label("unit_kind"),
            System.name.label("system_name"),
            System.mlps_level,
            System.filing_number,
            ChecklistItem.code.label("item_code"),
            ChecklistItem.lead_department,
            Finding.category,
            Finding.description,
            Finding.legal_basis,
            Finding.severity,
            Finding.major_hazard,
            Finding.required_action,
            earlier.code.label("earlier_code"),
            Finding.repeat_of_id,
            Visit.notice_number,
            Visit.notice_served_on,
            RectificationItem.due_date,
            RectificationItem.responsible_person,
            RectificationItem.responsible_phone,
            RectificationItem.status,
            local_date(RectificationItem.closed_at).label("closed_on"),
            _user_name(closer).label("closed_by"),
            resp_event.data["measures"].as_string().label("measures"),
            resp_event.data["completed_on"].as_string().label("completed_on"),
            extension.c.n.label("extensions"),
            ext_event.data["to"].as_string().label("extended_to"),
            check_event.kind.label("check_kind"),
            check_event.created_at.label("checked_at"),
            check_event.data[("recheck", "checked_on")].as_string().label("recheck_on"),
            check_event.data[("recheck", "checked_by")].as_string().label("recheck_by"),
            _user_name(checker).label("checker"),
        )
        .join(Unit, Unit.id == Finding.unit_id)
        .join(System, System.id == Finding.system_id, isouter=True)
        .join(ChecklistItem, ChecklistItem.id == Finding.item_id, isouter=True)
        .join(earlier, earlier.id == Finding.repeat_of_id, isouter=True)
        .join(Visit, Visit.id == Inspection.visit_id)
        .join(RectificationItem, RectificationItem.finding_id == Finding.id, isouter=True)
        .join(closer, closer.id == RectificationItem.closed_by_id, isouter=True)
        .join(response, response.c.item_id == RectificationItem.id, isouter=True)
        .join(resp_event, resp_event.id == response.c.last_id, isouter=True)
        .join(extension, extension.c.item_id == RectificationItem.id, isouter=True)
        .join(ext_event, ext_event.id == extension.c.last_id, isouter=True)
        .join(check, check.c.item_id == RectificationItem.id, isouter=True)
        .join(check_event, check_event.id == check.c.last_id, isouter=True)
        .join(checker, checker.id == check_event.actor_id, isouter=True)
    )
    stmt = _finding_filters(stmt, where, actor)
    return stmt.order_by(Round.year, Round.seq, Unit.code, Finding.code).execution_options(
        yield_per=YIELD_PER
    )


def _cached(memo: dict, key: tuple, make) -> Any:
    """make(*key), computed once per key."""
    value = memo.get(key)
    if value is None:
        value = memo[key] = make(*key)
    return value


def _iso_date(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def count_ahead(book: Book, where: Filter) -> None:
    """Count the rows of 问题清单 and 整改台账 (FindingSheets, both) and of 检查明细
    (write_answers) before the workbook's first sheet, for its progress bar (common.Progress)."""
    book.progress.ahead("findings", 2 * count_findings(where, book.actor))
    book.progress.ahead("answers", count_answers(where, book.actor))


class FindingSheets:
    """问题清单 and 整改台账 written side by side from one pass over the findings."""

    def __init__(self, book: Book, where: Filter, *, findings: bool = True, ledger: bool = True):
        self.book, self.where = book, where
        self.findings = self.ledger = None
        sheets = int(findings) + int(ledger)
        if book.progress.taken("findings") is None:  # else expected by count_ahead
            book.progress.expect(count_findings(where, book.actor) * sheets)
        if findings:
            self.findings = book.table(_("Finding list"), finding_columns())
        if ledger:
            self.ledger = book.table(_("Rectification ledger"), ledger_columns())

    def write(self) -> None:
        kinds = _texts(labels.UNIT_KIND_LABELS)
        leads = department_names()
        severities = _texts(labels.SEVERITY_LABELS)
        statuses = _texts(labels.RECTIFICATION_STATUS_LABELS)
        categories = _texts(labels.CATEGORY_LABELS)
        on_site, documents = _("On-site re-check"), _("Document review")
        passed, failed = _("Passed"), _("Not passed")
        today = self.book.today
        findings, ledger = self.findings, self.ledger
        # Translated per distinct value, not per row (gettext on every row was a tenth of
        # the sheet's own time).
        rounds: dict[tuple[int, int], str] = {}
        objects: dict[tuple, str] = {}
        result = db.session.execute(finding_rows_query(self.where, self.book.actor))
        for number, r in enumerate(result, start=1):
            severity = severities.get(r.severity, r.severity)
            repeat = r.repeat_of_id is not None
            if findings is not None:
                findings.row(
                    (
                        number,
                        r.code,
                        _cached(rounds, (r.year, r.seq), round_name),
                        r.scheduled_on,
                        r.unit_name,
                        r.credit_code,
                        kinds.get(r.unit_kind, r.unit_kind),
                        _cached(
                            objects, (r.system_name, r.mlps_level, r.filing_number), object_name
                        ),
                        r.item_code,
                        categories.get(r.category, r.category),
                        r.description,
                        basis_text(r.legal_basis),
                        severity,
                        r.major_hazard,
                        r.required_action,
                        leads.get(r.lead_department, r.lead_department),
                        repeat,
                        r.earlier_code,
                    )
                )
            if ledger is None:
                continue
            overdue = (
                (today - r.due_date).days
                if r.status in UNIT_TURN_STATUSES and r.due_date is not None and r.due_date < today
                else None
            )
            if r.check_kind is None:
                method = checked_by = checked_on = outcome = None
            else:
                method = on_site if r.recheck_on else documents
                checked_by = r.recheck_by or r.checker
                checked_on = _iso_date(r.recheck_on) or beijing_date(r.checked_at)
                outcome = passed if r.check_kind == "verified" else failed
            ledger.row(
                (
                    number,
                    r.code,
                    r.unit_name,
                    r.description,
                    severity,
                    r.notice_number,
                    r.notice_served_on,
                    r.due_date,
                    r.responsible_person,
                    r.responsible_phone,
                    r.measures,
                    _iso_date(r.completed_on),
                    statuses.get(r.status, r.status),
                    r.extensions or 0,
                    _iso_date(r.extended_to),
                    method,
                    checked_by,
                    checked_on,
                    outcome,
                    r.closed_on,
                    r.closed_by,
                    overdue,
                    repeat,
                )
            )
        for sheet in (findings, ledger):
            if sheet is not None:
                sheet.close()


# --- answers: 检查明细 ----------------------------------------------------------------------------


def answer_columns() -> list[Column]:
    return [
        Column(_("No."), 7),
        Column(_("Round"), 12),
        Column(_("Unit code"), 12),
        Column(_("Inspected unit"), 24),
        Column(_("Inspected object"), 22),
        Column(_("Checklist"), 16),
        Column(_("Inspection date"), 12, "date"),
        Column(_("Inspection status"), 10),
        Column(_("Checklist item code"), 12),
        Column(_("Section"), 18),
        Column(_("Question"), 48),
        Column(_("Result"), 10),
        Column(_("Value entered"), 12),
        Column(_("Note"), 30),
        Column(_("Finding description"), 30),
    ]


def _answer_filters(stmt: sa.Select, where: Filter, actor) -> sa.Select:
    if where.year is not None:
        stmt = stmt.where(Round.year == where.year)
    if where.round_id is not None:
        stmt = stmt.where(Inspection.round_id == where.round_id)
    if where.unit_id is not None:
        stmt = stmt.where(Inspection.unit_id == where.unit_id)
    if where.inspection_id is not None:
        stmt = stmt.where(Answer.inspection_id == where.inspection_id)
    if actor is not None:
        stmt = permissions.scope(stmt, Inspection, actor)
    return stmt


def _answer_base(*columns) -> sa.Select:
    return (
        sa.select(*columns)
        .select_from(Answer)
        .join(Inspection, Inspection.id == Answer.inspection_id)
        .join(Round, Round.id == Inspection.round_id)
    )


def count_answers(where: Filter, actor=None) -> int:
    return (
        db.session.scalar(_answer_filters(_answer_base(sa.func.count(Answer.id)), where, actor))
        or 0
    )


def department_names() -> dict[str, str]:
    """Department codes to the names a reader knows them by (the directory's, else the label of
    a lead department's code)."""
    names = {code: str(name) for code, name in labels.LEAD_LABELS.items()}
    names.update(db.session.execute(sa.select(Department.code, Department.name)).all())
    return names


def _value_text(value: Any) -> Any:
    if value is None or isinstance(value, int | float | str) and not isinstance(value, bool):
        return value
    if isinstance(value, bool):
        return value
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    return str(value)


def _chosen(options: dict | None, value: Any) -> Any:
    """A choice answer's label (options: labels.choice_labels of its item), else the value."""
    if options and isinstance(value, str | int) and not isinstance(value, bool):
        return options.get(value, value)
    return value


def write_answers(book: Book, where: Filter) -> None:
    """检查明细: every answer of the inspections in `where`, in round, unit and item order."""
    if book.progress.taken("answers") is None:
        book.progress.expect(count_answers(where, book.actor))
    sheet = book.table(_("Answer details"), answer_columns())
    locale = get_locale()
    english = locale is not None and locale.language == "en"
    stmt = _answer_filters(
        _answer_base(
            Round.year,
            Round.seq,
            Unit.code.label("unit_code"),
            Unit.name.label("unit_name"),
            System.name.label("system_name"),
            System.mlps_level,
            ChecklistTemplate.key,
            ChecklistTemplate.version,
            Inspection.scheduled_on,
            Inspection.status.label("inspection_status"),
            ChecklistItem.code,
            ChecklistItem.section_title,
            ChecklistItem.section_title_en,
            ChecklistItem.text,
            ChecklistItem.text_en,
            Answer.result,
            Answer.item_id,
            Answer.value,
            Answer.note,
            Answer.finding_description,
        )
        .join(Unit, Unit.id == Inspection.unit_id)
        .join(System, System.id == Inspection.system_id, isouter=True)
        .join(ChecklistTemplate, ChecklistTemplate.id == Inspection.template_id)
        .join(ChecklistItem, ChecklistItem.id == Answer.item_id),
        where,
        book.actor,
    ).order_by(Round.year, Round.seq, Unit.code, Inspection.id, ChecklistItem.position)
    results = _texts(labels.RESULT_LABELS)
    statuses = _texts(labels.INSPECTION_STATUS_LABELS)
    # a choice's label, not the value it stores (the library's choice items: a few)
    choices = {
        item_id: labels.choice_labels(options)
        for item_id, options in db.session.execute(
            sa.select(ChecklistItem.id, ChecklistItem.options).where(ChecklistItem.kind == "choice")
        )
    }
    rounds: dict[tuple[int, int], str] = {}
    objects: dict[tuple, str] = {}
    rows = db.session.execute(stmt.execution_options(yield_per=YIELD_PER))
    for number, r in enumerate(rows, start=1):
        key = (r.year, r.seq)
        if key not in rounds:
            rounds[key] = round_name(r.year, r.seq)
        obj = (r.system_name, r.mlps_level)
        if obj not in objects:
            objects[obj] = object_name(r.system_name, r.mlps_level, None)
        sheet.row(
            (
                number,
                rounds[key],
                r.unit_code,
                r.unit_name,
                objects[obj],
                f"{r.key} v{r.version}",
                r.scheduled_on,
                statuses.get(r.inspection_status, r.inspection_status),
                r.code,
                (english and r.section_title_en) or r.section_title,
                (english and r.text_en) or r.text,
                results.get(r.result, r.result),
                _value_text(_chosen(choices.get(r.item_id), r.value)),
                r.note,
                r.finding_description,
            )
        )
    sheet.close()


# --- tables of figures ------------------------------------------------------------------------


def per_unit_columns() -> list[Column]:
    return [
        Column(_("No."), 6),
        Column(_("Unit code"), 12),
        Column(_("Unit"), 26, "wrap"),
        Column(_("Unit category"), 14),
        Column(_("Number of inspections"), 9),
        Column(_("Number of findings"), 9),
        Column(_("Closed (verified)"), 9),
        Column(_("Awaiting verification"), 9),
        Column(_("Pending or returned"), 9),
        Column(_("Overdue"), 9),
        Column(_("Overdue days"), 9),
        Column(_("High risk not closed"), 9),
        Column(_("Repeat findings"), 9),
        Column(_("Rectification rate"), 10, "percent"),
        Column(_("On-time rate"), 10, "percent"),
    ]


def _figures_cells(f: figures.Rectification) -> tuple:
    return (
        f.findings,
        f.closed,
        f.submitted,
        f.open + f.returned,
        f.overdue,
        f.overdue_days,
        f.high_open,
        f.repeats,
        f.rate,
        f.on_time_rate,
    )


def write_per_unit(book: Book, scope: Scope, title: str) -> None:
    """汇总: one row per inspected unit (figures.per_unit) and the total (figures.rectification
    and figures.inspection_counts of the same scope, never a sum made here)."""
    rows = figures.per_unit(scope, book.today)
    book.progress.expect(len(rows) + 1)
    sheet = book.table(title, per_unit_columns())
    kinds = _texts(labels.UNIT_KIND_LABELS)
    ordered = sorted(rows, key=lambda r: r.code)
    for number, row in enumerate(ordered, start=1):
        sheet.row(
            (number, row.code, row.name, kinds.get(row.kind, row.kind), row.inspections)
            + _figures_cells(row.figures)
        )
    total = figures.rectification(scope, book.today)
    inspections = figures.inspection_counts(scope)
    sheet.row((None, None, _("Total"), None, inspections.total) + _figures_cells(total))
    sheet.close()


def write_statistics(book: Book, scope: Scope, title: str) -> None:
    """统计: small tables from figures with native Excel charts (bar, pie) beside them."""
    sheet = book.table(
        title,
        [Column(_("Entry"), 28), Column(_("Count"), 12), Column(_("Share"), 10, "percent")],
        filter=False,
    )

    def table(heading: str, pairs: list[tuple[str, Any]]) -> tuple[int, int]:
        """A heading, one row per pair with its share of the table's total, a blank row;
        returns the first and last row of the pairs (for a chart)."""
        sheet.row((heading,))
        first = sheet.next_row
        whole = sum(n for _k, n in pairs)
        for key, n in pairs:
            sheet.row((key, n, n / whole if whole else None))
        sheet.row(())
        return first, first + len(pairs) - 1

    counts = figures.inspection_counts(scope)
    statuses = _texts(labels.INSPECTION_STATUS_LABELS)
    table(
        _("Inspections by status"),
        [
            (statuses[s], getattr(counts, s))
            for s in ("planned", "in_progress", "submitted", "closed")
        ],
    )
    comp = figures.compliance(scope)
    rect = figures.rectification(scope, book.today)
    sheet.row((_("Rates"),))
    sheet.row((_("Compliance rate"), None, comp.rate))
    sheet.row((_("Rectification rate"), None, rect.rate))
    sheet.row((_("On-time rate"), None, rect.on_time_rate))
    sheet.row(())
    severities = _texts(labels.SEVERITY_LABELS)
    by_severity = table(
        _("Findings by risk level"),
        [(severities.get(k, k), n) for k, n in figures.findings_by(scope, "severity")],
    )
    categories = _texts(labels.CATEGORY_LABELS)
    by_category = table(
        _("Findings by category"),
        [
            (categories.get(k, k) or _("Other"), n)
            for k, n in figures.findings_by(scope, "category")
        ],
    )
    leads = department_names()
    by_department = table(
        _("Findings by lead department"),
        [
            (leads.get(k, k) or _("Not set"), n)
            for k, n in figures.findings_by(scope, "lead_department")
        ],
    )
    rect_statuses = _texts(labels.RECTIFICATION_STATUS_LABELS)
    table(
        _("Findings by rectification status"),
        [(rect_statuses.get(k, k or ""), n) for k, n in figures.findings_by(scope, "status")],
    )
    book.progress.expect(sheet.rows_written)
    sheet.close()
    ws = sheet.ws
    charts = [
        (_pie(ws, _("Findings by risk level"), *by_severity), "E2"),
        (_bar(ws, _("Findings by category"), *by_category), "E20"),
        (_bar(ws, _("Findings by lead department"), *by_department), "E38"),
    ]
    for chart, anchor in charts:
        if chart is not None:
            ws.add_chart(chart, anchor)


def _bar(ws, title: str, first: int, last: int):
    if last < first:
        return None
    chart = BarChart()
    chart.type = "bar"
    chart.title = title
    chart.legend = None
    chart.height, chart.width = 8, 16
    chart.add_data(Reference(ws, min_col=2, min_row=first, max_row=last), titles_from_data=False)
    chart.set_categories(Reference(ws, min_col=1, min_row=first, max_row=last))
    return chart


def _pie(ws, title: str, first: int, last: int):
    if last < first:
        return None
    chart = PieChart()
    chart.title = title
    chart.height, chart.width = 8, 12
    chart.add_data(Reference(ws, min_col=2, min_row=first, max_row=last), titles_from_data=False)
    chart.set_categories(Reference(ws, min_col=1, min_row=first, max_row=last))
    return chart
