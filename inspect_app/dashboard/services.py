"""What the dashboard and the annual report show, gathered from reports.figures for one page.

Queries only: nothing here changes a row. The dashboard's budget is a handful of statements
whatever the data size (tests/dashboard/test_statements.py): the year's and the selected round's
inspection counts and rectification figures are the sums of per_round's rows; the rounds, the
units and the repeat offenders read one pass over the findings (figures.findings_grid); findings
by severity and by lead department are the margins of one cross table.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date
from functools import reduce
from typing import Any

from flask_babel import gettext as _

from ..labels import (
    CATEGORY_LABELS,
    LEAD_LABELS,
    RECTIFICATION_STATUS_LABELS,
    SEVERITY_LABELS,
    label,
)
from ..reports import figures
from ..reports.figures import (
    Compliance,
    Coverage,
    InspectionCounts,
    OverdueRow,
    Rectification,
    RoundRow,
    Scope,
    UnitRow,
)
from .charts import Chart

# The dashboard's overdue list: the longest overdue; the ledger holds the rest.
OVERDUE_LIST_LENGTH = 20
REPEAT_LIST_LENGTH = 10
PAIR = ("severity", "lead_department")


@dataclass
class Overview:
    scope: Scope
    today: date
    rounds: list[RoundRow]
    selected: RoundRow | None  # the round filtered on
    current: RoundRow | None  # the year's round under way, shown beside the year
    inspections: InspectionCounts
    figures: Rectification
    compliance: Compliance
    severity: list[tuple[str, int]]
    departments: list[tuple[str, int]]
    overdue: list[OverdueRow]
    repeaters: list[tuple[int, str, str, int]]
    units: list[UnitRow]
    round_dropped: bool = False  # the round asked for is not one of the year's


def _sum(items, start):
    return reduce(lambda a, b: a + b, items, start)


def current_round(rounds: list[RoundRow], today: date) -> RoundRow | None:
    """The round under way: an active one, else one whose dates include today."""
    active = [r for r in rounds if r.status == "active"]
    if active:
        return active[0]
    for r in rounds:
        if r.start_date and r.start_date <= today and (r.end_date is None or today <= r.end_date):
            return r
    return None


def overview(scope: Scope, today: date) -> Overview:
    """Everything on the dashboard for the scope. A round that is not one of the scope's year is
    dropped from the scope (round_dropped says so) rather than showing an empty year."""
    grid = figures.findings_grid(scope, today)
    rounds = figures.per_round(scope, today, grid)
    dropped = False
    if scope.round_id and scope.round_id not in {r.round_id for r in rounds}:
        scope, dropped = dataclasses.replace(scope, round_id=None), True
        grid = figures.findings_grid(scope, today)  # its units: the whole year's
    chosen = [r for r in rounds if not scope.round_id or r.round_id == scope.round_id]
    pairs = figures.findings_by_pair(scope, *PAIR)
    return Overview(
        scope=scope,
        today=today,
        rounds=rounds,
        selected=chosen[0] if scope.round_id else None,
        current=current_round(rounds, today),
        inspections=_sum((r.inspections for r in chosen), InspectionCounts()),
        figures=_sum((r.figures for r in chosen), Rectification()),
        compliance=figures.compliance(scope),
        severity=figures.margins(pairs, PAIR, 0),
        departments=figures.margins(pairs, PAIR, 1),
        overdue=figures.overdue_items(scope, today, limit=OVERDUE_LIST_LENGTH),
        repeaters=figures.repeat_offenders(scope, limit=REPEAT_LIST_LENGTH, grid=grid),
        units=figures.per_unit(scope, today, grid),
        round_dropped=dropped,
    )


@dataclass
class DepartmentRow:
    code: str
    name: str  # the department's name in the directory, "" when it has none
    inspections: int  # inspections with a member of it on the team
    done: int
    figures: Rectification  # the findings it leads


@dataclass
class AnnualReport:
    year: int
    today: date
    rounds: list[RoundRow]
    inspections: InspectionCounts
    figures: Rectification
    compliance: Compliance
    coverage: Coverage
    severity: list[tuple[str, int]]
    categories: list[tuple[str, int]]
    departments: list[DepartmentRow]
    overdue_units: list[UnitRow]  # units with overdue items, most first
    repeaters: list[tuple[int, str, str, int]]

    @property
    def rounds_held(self) -> list[RoundRow]:
        """Rounds with at least one inspection done."""
        return [r for r in self.rounds if r.inspections.done]


def annual_report(year: int, today: date) -> AnnualReport:
    """The figures of the year report (年度通报): rounds, coverage, problems by type and risk,
    rectification, overdue and repeat units named, and the departments' figures."""
    scope = Scope(year)
    grid = figures.findings_grid(scope, today)
    rounds = figures.per_round(scope, today, grid)
    teams = {row[0]: row[1:] for row in figures.inspections_by_department(scope)}
    led = dict(figures.per_lead_department(scope, today))
    # Departments on a team first (most inspections first), then those only leading findings.
    codes = list(teams) + sorted(code for code in led if code and code not in teams)
    departments = [
        DepartmentRow(code, *teams.get(code, ("", 0, 0)), led.get(code, Rectification()))
        for code in codes
    ]
    return AnnualReport(
        year=year,
        today=today,
        rounds=rounds,
        inspections=_sum((r.inspections for r in rounds), InspectionCounts()),
        figures=_sum((r.figures for r in rounds), Rectification()),
        compliance=figures.compliance(scope),
        coverage=figures.coverage(scope),
        severity=figures.findings_by(scope, "severity"),
        categories=figures.findings_by(scope, "category"),
        departments=departments,
        overdue_units=[u for u in figures.per_unit(scope, today, grid) if u.figures.overdue],
        repeaters=figures.repeat_offenders(scope, limit=None, grid=grid),
    )


# --- charts -------------------------------------------------------------------------------------

SEVERITY_COLORS = {"high": "#b3261e", "medium": "#9a6700", "low": "#1a4f9c"}


def _one_series(title: str, rows: list[tuple[str, int]], names: dict, **kw) -> Chart:
    return Chart(
        title=title,
        labels=[label(names, code) or _("None") for code, _n in rows],
        series=[(_("Problems"), [n for _code, n in rows])],
        no_data=_("No problems found"),
        **kw,
    )


def _severity(rows: list[tuple[str, int]], scope: Scope) -> Chart:
    return _one_series(
        _("Problems by risk level"),
        rows,
        SEVERITY_LABELS,
        colors=[SEVERITY_COLORS.get(code, "#5f6368") for code, _n in rows],
    )


def _departments(rows: list[tuple[str, int]], scope: Scope) -> Chart:
    return _one_series(_("Problems by lead department"), rows, LEAD_LABELS, horizontal=True)


def _categories(rows: list[tuple[str, int]], scope: Scope) -> Chart:
    return _one_series(_("Problems by type"), rows, CATEGORY_LABELS, horizontal=True)


def _status(rows: list[tuple[str, int]], scope: Scope) -> Chart:
    return _one_series(
        _("Problems by rectification status"), rows, RECTIFICATION_STATUS_LABELS, horizontal=True
    )


def _rounds(rows: list[RoundRow], scope: Scope) -> Chart:
    return Chart(
        title=_("The rounds of %(year)d", year=scope.year),
        labels=[_("Round %(seq)d", seq=r.seq) for r in rows],
        series=[
            (_("Inspections done"), [r.inspections.done for r in rows]),
            (_("Problems found"), [r.figures.findings for r in rows]),
            (_("Problems closed"), [r.figures.closed for r in rows]),
        ],
        no_data=_("No rounds in this year"),
    )


# Each chart: its figures (the statements, in no language) and its drawing's words (in the
# user's language), apart, so the refresh task counts once for every language (snapshots.py).
def _problems_by(dimension: str):
    return lambda scope, today: figures.findings_by(scope, dimension)


CHARTS = {
    "severity": (_problems_by("severity"), _severity),
    "departments": (_problems_by("lead_department"), _departments),
    "categories": (_problems_by("category"), _categories),
    "status": (_problems_by("status"), _status),
    "rounds": (figures.per_round, _rounds),
}


def chart_figures(name: str, scope: Scope, today: date) -> Any:
    """What the named chart shows, before any words (one or two statements)."""
    return CHARTS[name][0](scope, today)


def chart_of(name: str, rows: Any, scope: Scope) -> Chart:
    """The named chart of its figures, in the current language."""
    return CHARTS[name][1](rows, scope)


def chart(name: str, scope: Scope, today: date) -> Chart:
    """The named chart's data for the scope (one or two statements). Raises KeyError for a name
    that is not in CHARTS."""
    return chart_of(name, chart_figures(name, scope, today), scope)
