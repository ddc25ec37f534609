"""The year workbook (年度汇总): 说明, 年度汇总 (unit × rounds), 趋势 (with a line chart), 通报数据
(the annual report's figures), 重复问题, and the year's 问题清单, 整改台账 and 检查明细."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from openpyxl.chart import LineChart, Reference
from sqlalchemy.orm import aliased

from .. import labels
from .. import xlsx as kit
from ..errors import ValidationFailed
from ..extensions import db
from ..models import (
    ChecklistItem,
    Finding,
    Inspection,
    RectificationItem,
    Round,
    Unit,
    User,
)
from ..reports import figures
from ..reports.figures import Scope
from . import common
from .common import Book, ProgressFn, Result
from .sheets import (
    YIELD_PER,
    Filter,
    FindingSheets,
    _texts,
    count_ahead,
    department_names,
    round_name,
    write_answers,
    write_statistics,
)

Column = kit.Column
TITLE = _l("Year workbook")


def validate_year(params: dict[str, Any], actor: User | None = None) -> dict[str, Any]:
    """{"year", "locale", "actor_id"} checked: a year with at least one round, a user who may
    download exports. Raises ValidationFailed, NotAllowed."""
    checked = common.check_params(params, actor)
    year = common.year_param(params)
    if db.session.scalar(sa.select(sa.func.count(Round.id)).where(Round.year == year)) == 0:
        raise ValidationFailed(_("There are no rounds in %(year)d.", year=year))
    common.require(actor or common.load_actor(checked["actor_id"]), "exports.download")
    return {**checked, "year": year}


def build_year(params: dict[str, Any], progress: ProgressFn | None = None) -> Result:
    """Write the year workbook; returns (path of a new file, download name, MIME type)."""
    return common.build(params, progress, validate=validate_year, write=_write)


def download_name(year: int) -> str:
    return _("Inspection summary %(year)d", year=year) + ".xlsx"


def _write(book: Book, params: dict[str, Any]) -> str:
    year = params["year"]
    scope = Scope(year)
    rounds = figures.per_round(scope, book.today)
    count_ahead(book, Filter(year=year))
    names = [
        _("About"),
        _("Year summary"),
        _("Trend"),
        _("Annual report figures"),
        _("Statistics"),
        _("Repeat findings"),
        _("Finding list"),
        _("Rectification ledger"),
        _("Answer details"),
    ]
    common.readme(
        book,
        _("Network security inspections %(year)d", year=year),
        [
            (_("Year"), year),
            (_("Rounds"), "；".join(f"{round_name(year, r.seq)} {r.title}" for r in rounds)),
            (_("Scope"), _("Every unit inspected in the year")),
        ],
        names,
    )
    _write_units_by_round(book, scope, rounds)
    _write_trend(book, rounds)
    _write_report_figures(book, scope, rounds)
    write_statistics(book, scope, _("Statistics"))
    _write_repeats(book, year)
    FindingSheets(book, Filter(year=year)).write()
    write_answers(book, Filter(year=year))
    return download_name(year)


def _write_units_by_round(book: Book, scope: Scope, rounds: list[figures.RoundRow]) -> None:
    """年度汇总: per unit, its inspections and findings in each round, then the year's
    figures; every number from figures.per_unit of the round or the year."""
    per_round = {
        r.seq: {
            u.unit_id: u
            for u in figures.per_unit(Scope(scope.year, round_id=r.round_id), book.today)
        }
        for r in rounds
    }
    year_rows = sorted(figures.per_unit(scope, book.today), key=lambda r: r.code)
    columns = [Column(_("No."), 6), Column(_("Unit code"), 12), Column(_("Unit"), 24, "wrap")]
    for r in rounds:
        columns += [
            Column(_("R%(seq)d inspections", seq=r.seq), 8),
            Column(_("R%(seq)d findings", seq=r.seq), 8),
        ]
    columns += [
        Column(_("Number of inspections"), 9),
        Column(_("Number of findings"), 9),
        Column(_("Closed (verified)"), 9),
        Column(_("Overdue"), 9),
        Column(_("Repeat findings"), 9),
        Column(_("Rectification rate"), 10, "percent"),
        Column(_("Visits against the yearly cap"), 12),
    ]
    book.progress.expect(len(year_rows) + 1)
    sheet = book.table(_("Year summary"), columns)
    for number, row in enumerate(year_rows, start=1):
        cells: list[Any] = [number, row.code, row.name]
        for r in rounds:
            unit = per_round[r.seq].get(row.unit_id)
            cells += [unit.inspections, unit.figures.findings] if unit else [0, 0]
        f = row.figures
        cap = f"{row.visits} / {row.cap}" if row.cap else str(row.visits)
        cells += [row.inspections, f.findings, f.closed, f.overdue, f.repeats, f.rate, cap]
        sheet.row(cells)
    total = figures.rectification(scope, book.today)
    cells = [None, None, _("Total")]
    for r in rounds:
        cells += [r.inspections.total, r.figures.findings]
    inspections = figures.inspection_counts(scope)
    cells += [
        inspections.total,
        total.findings,
        total.closed,
        total.overdue,
        total.repeats,
        total.rate,
        None,
    ]
    sheet.row(cells)
    sheet.close()


def _write_trend(book: Book, rounds: list[figures.RoundRow]) -> None:
    """趋势: the year's rounds in order (figures.per_round) with a line chart."""
    columns = [
        Column(_("Round"), 12),
        Column(_("Title"), 30, "wrap"),
        Column(_("Start"), 12, "date"),
        Column(_("End"), 12, "date"),
        Column(_("Number of inspections"), 10),
        Column(_("Done"), 10),
        Column(_("Number of findings"), 10),
        Column(_("Closed (verified)"), 10),
        Column(_("Overdue"), 10),
        Column(_("Repeat findings"), 10),
        Column(_("Rectification rate"), 10, "percent"),
        Column(_("On-time rate"), 10, "percent"),
    ]
    book.progress.expect(len(rounds))
    sheet = book.table(_("Trend"), columns)
    for r in rounds:
        f = r.figures
        sheet.row(
            (
                _("Round %(seq)d", seq=r.seq),
                r.title,
                r.start_date,
                r.end_date,
                r.inspections.total,
                r.inspections.done,
                f.findings,
                f.closed,
                f.overdue,
                f.repeats,
                f.rate,
                f.on_time_rate,
            )
        )
    sheet.close()
    if rounds:
        last = sheet.header_row + len(rounds)
        chart = LineChart()
        chart.title = _("Findings and closed items by round")
        chart.height, chart.width = 8, 18
        for col in (7, 8, 9):
            chart.add_data(
                Reference(sheet.ws, min_col=col, min_row=sheet.header_row, max_row=last),
                titles_from_data=True,
            )
        chart.set_categories(
            Reference(sheet.ws, min_col=1, min_row=sheet.header_row + 1, max_row=last)
        )
        sheet.ws.add_chart(chart, f"A{last + 3}")


def _write_report_figures(book: Book, scope: Scope, rounds: list[figures.RoundRow]) -> None:
    """通报数据: what the annual 通报 states, each number from figures (the printable page
    reads the same functions)."""
    sheet = book.table(
        _("Annual report figures"),
        [
            Column(_("Entry"), 34, "wrap"),
            Column(_("Count"), 12),
            Column(_("Rate"), 10, "percent"),
            Column(_("Note"), 30, "wrap"),
        ],
        filter=False,
    )
    today = book.today
    units = figures.per_unit(scope, today)
    counts = figures.inspection_counts(scope)
    comp = figures.compliance(scope)
    rect = figures.rectification(scope, today)
    cover = figures.coverage(scope)
    severities = dict(figures.findings_by(scope, "severity"))
    held = [r for r in rounds if r.inspections.done]  # as the 通报 counts them
    sheet.row((_("Overview"),))
    for row in (
        (_("Rounds held"), len(held), None, _("of %(n)d planned", n=len(rounds))),
        (
            _("Units covered"),
            cover.units,
            cover.rate,
            _("of %(n)d units in the directory", n=cover.units_total),
        ),
        (
            _("Key units covered"),
            cover.key_units,
            cover.key_rate,
            _("of %(n)d key units", n=cover.key_units_total),
        ),
        (_("Inspections planned"), counts.total),
        (_("Inspections done"), counts.done),
        (_("Compliance rate"), None, comp.rate),
        (_("Number of findings"), rect.findings),
        (_("High-risk findings"), severities.get("high", 0)),
        (_("Closed (verified)"), rect.closed, rect.rate, _("Rectification rate")),
        (_("Closed on time"), rect.closed_on_time, rect.on_time_rate, _("On-time rate")),
        (
            _("Overdue items"),
            rect.overdue,
            None,
            _("%(n)d overdue days in all", n=rect.overdue_days),
        ),
        (_("High risk not closed"), rect.high_open),
        (_("Repeat findings"), rect.repeats),
    ):
        sheet.row(row)
    sheet.row(())
    categories = _texts(labels.CATEGORY_LABELS)
    sheet.row((_("Main problem types"),))
    for key, n in figures.findings_by(scope, "category"):
        sheet.row(
            (
                categories.get(key, key) or _("Other"),
                n,
                n / rect.findings if rect.findings else None,
            )
        )
    sheet.row(())
    sheet.row((_("Lead departments"),))
    names = department_names()
    for code, n in figures.findings_by(scope, "lead_department"):
        dept = figures.rectification(Scope(scope.year, department=code), today) if code else None
        sheet.row(
            (
                names.get(code, code) or _("Not set"),
                n,
                dept.rate if dept else None,
                _("Rectification rate") if dept else None,
            )
        )
    sheet.row(())
    sheet.row((_("Units with overdue items"),))
    for unit in units:
        if unit.figures.overdue:
            sheet.row(
                (
                    unit.name,
                    unit.figures.overdue,
                    None,
                    _("%(n)d overdue days in all", n=unit.figures.overdue_days),
                )
            )
    sheet.row(())
    sheet.row((_("Units with repeat findings"),))
    for _unit_id, _code, name, n in figures.repeat_offenders(scope, limit=100):
        sheet.row((name, n))
    book.progress.expect(sheet.rows_written)
    sheet.close()


def _write_repeats(book: Book, year: int) -> None:
    """重复问题: the year's findings that repeat an earlier round's finding of the same unit and
    checklist item, with the earlier finding."""
    earlier = aliased(Finding)
    earlier_inspection = aliased(Inspection)
    earlier_round = aliased(Round)
    base = (
        sa.select()
        .select_from(Finding)
        .join(Inspection, Inspection.id == Finding.inspection_id)
        .join(Round, Round.id == Inspection.round_id)
        .where(Round.year == year, Finding.repeat_of_id.is_not(None))
    )
    total = db.session.scalar(base.add_columns(sa.func.count(Finding.id))) or 0
    book.progress.expect(total)
    sheet = book.table(
        _("Repeat findings"),
        [
            Column(_("No."), 6),
            Column(_("Finding ID"), 18),
            Column(_("Round"), 12),
            Column(_("Inspected unit"), 24, "wrap"),
            Column(_("Checklist item code"), 14),
            Column(_("Finding description"), 40, "wrap"),
            Column(_("Risk level"), 8),
            Column(_("Raised from"), 8),
            Column(_("Times found before"), 8),
            Column(_("Earlier finding"), 18),
            Column(_("Earlier round"), 12),
            Column(_("Status"), 12),
        ],
    )
    stmt = (
        base.add_columns(
            Finding.code,
            Round.year,
            Round.seq,
            Unit.name,
            ChecklistItem.code.label("item_code"),
            Finding.description,
            Finding.severity,
            Finding.raised_from,
            Finding.repeat_count,
            earlier.code.label("earlier_code"),
            earlier_round.year.label("earlier_year"),
            earlier_round.seq.label("earlier_seq"),
            RectificationItem.status,
        )
        .join(Unit, Unit.id == Finding.unit_id)
        .join(ChecklistItem, ChecklistItem.id == Finding.item_id, isouter=True)
        .join(earlier, earlier.id == Finding.repeat_of_id)
        .join(earlier_inspection, earlier_inspection.id == earlier.inspection_id)
        .join(earlier_round, earlier_round.id == earlier_inspection.round_id)
        .join(RectificationItem, RectificationItem.finding_id == Finding.id, isouter=True)
        .order_by(Round.seq, Unit.code, Finding.code)
        .execution_options(yield_per=YIELD_PER)
    )
    severities = _texts(labels.SEVERITY_LABELS)
    statuses = _texts(labels.RECTIFICATION_STATUS_LABELS)
    for number, r in enumerate(db.session.execute(stmt), start=1):
        sheet.row(
            (
                number,
                r.code,
                round_name(r.year, r.seq),
                r.name,
                r.item_code,
                r.description,
                severities.get(r.severity, r.severity),
                severities.get(r.raised_from, r.raised_from) if r.raised_from else None,
                r.repeat_count,
                r.earlier_code,
                round_name(r.earlier_year, r.earlier_seq),
                statuses.get(r.status, r.status),
            )
        )
    sheet.close()
