"""The office's figures, each one SQL statement with GROUP BY: never a Python loop over ORM rows.

Every function takes a Scope (year, and optionally a round, a department, a unit kind or one
unit) and returns plain values. Definitions, used everywhere the figure is shown:

- inspections: Inspection rows of the scope's rounds by status (planned, in progress, submitted,
  closed); "done" = submitted or closed.
- compliance rate: compliant / (compliant + non-compliant) answers of done inspections (items
  answered not applicable, or not yes/no, do not count).
- findings: Finding rows of the scope; by severity, lead department (of the checklist item),
  category, checklist, round, unit, rectification status.
- rectification rate: closed (已销号) / all items. On-time rate: items closed by their due date
  (Beijing date of closing <= due date) / items due (due date passed, or closed).
- overdue: items of the unit's turn (open, returned) past their due date; overdue days = today -
  due date, summed or per item.
- repeat findings: findings that repeat an earlier round's finding of the same unit and item.
- visits: a unit's visits (入企次数) in the year, whatever the filters and however many checklists
  each visit filled, against its yearly cap (国办发〔2024〕54号), as round planning counts them.
- coverage: units with a done inspection in the scope, of them key units (重点单位), against the
  active units (and active key units) of the directory in the scope's unit kind or unit.
- departments: per lead department, its findings and their rectification; per department, the
  inspections with a team member of that department.

A department filter keeps findings whose checklist item that department leads, and inspections
with a team member of that department.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass, field, fields
from datetime import date

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.sql.util import find_tables

from ..clock import local_today
from ..extensions import db
from ..models import (
    Answer,
    ChecklistItem,
    ChecklistTemplate,
    Department,
    Finding,
    Inspection,
    InspectionMember,
    RectificationItem,
    Round,
    Unit,
    Visit,
)
from ..models.inspection import INSPECTION_STATUSES, ON_RECORD_STATUSES
from ..models.org import kind_setting
from ..models.rectification import SEVERITIES, UNIT_TURN_STATUSES
from .sql import days_between, on_or_before_local

DIMENSIONS = ("severity", "lead_department", "category", "checklist", "round", "unit", "status")


@dataclass(frozen=True)
class Scope:
    """What a figure covers. Empty filters filter nothing."""

    year: int
    round_id: int | None = None
    department: str | None = None  # a department code: CAC, PSB, MIIT, SEC
    unit_kind: str | None = None
    unit_id: int | None = None


def _inspection_filters(stmt: sa.Select, scope: Scope) -> sa.Select:
    stmt = stmt.where(Round.year == scope.year)
    if scope.round_id:
        stmt = stmt.where(Inspection.round_id == scope.round_id)
    if scope.unit_kind:
        stmt = stmt.where(Unit.kind == scope.unit_kind)
    if scope.unit_id:
        stmt = stmt.where(Inspection.unit_id == scope.unit_id)
    if scope.department:
        on_team = (
            sa.select(InspectionMember.inspection_id)
            .join(Department, Department.id == InspectionMember.department_id)
            .where(Department.code == scope.department)
        )
        stmt = stmt.where(Inspection.id.in_(on_team))
    return stmt


def _inspections(*columns) -> sa.Select:
    return (
        sa.select(*columns)
        .select_from(Inspection)
        .join(Round, Round.id == Inspection.round_id)
        .join(Unit, Unit.id == Inspection.unit_id)
    )


def _findings(scope: Scope, *columns) -> sa.Select:
    """Findings of the scope joined to their inspection and round, and to their rectification
    item, checklist item and unit when a column or the scope reads them: each join costs a
    look-up per finding, and every finding passes these (the unit and the checklist item are
    foreign keys, the item one to one), so leaving one out changes no count."""
    read = {
        table.name
        for column in columns
        for table in find_tables(sa.select(column).selected_columns[0], check_columns=True)
        if table is not None  # count(*): its star belongs to no table
    }
    joined = sa.join(Finding, Inspection, Inspection.id == Finding.inspection_id).join(
        Round, Round.id == Inspection.round_id
    )
    if RectificationItem.__tablename__ in read:
        joined = joined.outerjoin(RectificationItem, RectificationItem.finding_id == Finding.id)
    if ChecklistItem.__tablename__ in read or scope.department:
        joined = joined.outerjoin(ChecklistItem, ChecklistItem.id == Finding.item_id)
    if Unit.__tablename__ in read or scope.unit_kind:
        joined = joined.join(Unit, Unit.id == Finding.unit_id)
    stmt = sa.select(*columns).select_from(joined).where(Round.year == scope.year)
    if scope.round_id:
        stmt = stmt.where(Inspection.round_id == scope.round_id)
    if scope.unit_kind:
        stmt = stmt.where(Unit.kind == scope.unit_kind)
    if scope.unit_id:
        stmt = stmt.where(Finding.unit_id == scope.unit_id)
    if scope.department:
        stmt = stmt.where(ChecklistItem.lead_department == scope.department)
    return stmt


def _count_if(condition) -> sa.ColumnElement:
    """The rows that meet the condition. An aggregate FILTER (SQLite 3.30, PostgreSQL 9.4) skips
    the other rows before the aggregate: cheaper than summing a CASE of 1 and 0."""
    return sa.func.count().filter(condition)


def _overdue(today: date):
    return sa.and_(
        RectificationItem.status.in_(UNIT_TURN_STATUSES), RectificationItem.due_date < today
    )


def _closed_on_time():
    return sa.and_(
        RectificationItem.status == "closed",
        RectificationItem.due_date.is_not(None),
        on_or_before_local(RectificationItem.closed_at, RectificationItem.due_date),
    )


def _due(today: date):
    return sa.or_(RectificationItem.status == "closed", RectificationItem.due_date < today)


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None  # rounded only where it is shown


def _added(one, other):
    if type(one) is not type(other):
        return NotImplemented
    return type(one)(**{f.name: getattr(one, f.name) + getattr(other, f.name) for f in fields(one)})


# --- inspections ----------------------------------------------------------------------------


@dataclass
class InspectionCounts:
    planned: int = 0
    in_progress: int = 0
    submitted: int = 0
    closed: int = 0

    @property
    def total(self) -> int:
        return self.planned + self.in_progress + self.submitted + self.closed

    @property
    def done(self) -> int:
        return self.submitted + self.closed

    def __add__(self, other: InspectionCounts) -> InspectionCounts:
        return _added(self, other)


def inspection_counts(scope: Scope) -> InspectionCounts:
    stmt = _inspection_filters(
        _inspections(Inspection.status, sa.func.count(Inspection.id)), scope
    ).group_by(Inspection.status)
    counts = InspectionCounts()
    for status, n in db.session.execute(stmt):
        setattr(counts, status, n)
    return counts


def inspections_by_department(scope: Scope) -> list[tuple[str, str, int, int]]:
    """(department code, name, inspections, done inspections) for each department with a team
    member on an inspection of the scope, most inspections first."""
    stmt = (
        _inspection_filters(
            _inspections(
                Department.code,
                Department.name,
                sa.func.count(sa.distinct(Inspection.id)),
                sa.func.count(
                    sa.distinct(sa.case((Inspection.status.in_(ON_RECORD_STATUSES), Inspection.id)))
                ),
            )
            .join(InspectionMember, InspectionMember.inspection_id == Inspection.id)
            .join(Department, Department.id == InspectionMember.department_id),
            scope,
        )
        .group_by(Department.code, Department.name)
        .order_by(sa.func.count(sa.distinct(Inspection.id)).desc(), Department.code)
    )
    return [(code, name, int(n), int(done)) for code, name, n, done in db.session.execute(stmt)]


@dataclass
class Compliance:
    compliant: int
    noncompliant: int

    @property
    def rate(self) -> float | None:
        return _rate(self.compliant, self.compliant + self.noncompliant)


def answer_tally(inspection_id: int) -> tuple[int, int]:
    """(compliant, non-compliant) answers of one inspection, counted as the compliance rate
    counts them: what submission stores on the inspection (compliant_answers and
    noncompliant_answers)."""
    stmt = sa.select(
        _count_if(Answer.result == "compliant"), _count_if(Answer.result == "noncompliant")
    ).where(Answer.inspection_id == inspection_id)
    compliant, noncompliant = db.session.execute(stmt).one()
    return int(compliant), int(noncompliant)


def _stored_or_counted(stored, result: str) -> sa.ColumnElement:
    """An inspection's stored tally, or its answers counted when it has none (rows not made by a
    submission); the databases evaluate the count only then."""
    counted = (
        sa.select(sa.func.count(Answer.id))
        .where(Answer.inspection_id == Inspection.id, Answer.result == result)
        .correlate(Inspection)
        .scalar_subquery()
    )
    return sa.func.coalesce(sa.func.sum(sa.func.coalesce(stored, counted)), 0)


def compliance(scope: Scope) -> Compliance:
    """The answers' results of the scope's done inspections, from the tallies submission stores
    (answers are read-only once an inspection is done; reopening clears the tally)."""
    stmt = _inspection_filters(
        _inspections(
            _stored_or_counted(Inspection.compliant_answers, "compliant"),
            _stored_or_counted(Inspection.noncompliant_answers, "noncompliant"),
        ),
        scope,
    ).where(Inspection.status.in_(ON_RECORD_STATUSES))
    compliant, noncompliant = db.session.execute(stmt).one()
    return Compliance(int(compliant), int(noncompliant))


@dataclass
class Coverage:
    units: int  # units with a done inspection in the scope
    key_units: int  # of them, key units
    units_total: int  # active units of the directory in the scope's unit kind (or unit)
    key_units_total: int

    @property
    def rate(self) -> float | None:
        return _rate(self.units, self.units_total)

    @property
    def key_rate(self) -> float | None:
        return _rate(self.key_units, self.key_units_total)


def coverage(scope: Scope) -> Coverage:
    """Units and key units inspected (a done inspection) against the directory's active ones."""

    def inspected(*conditions) -> sa.ScalarSelect:
        stmt = _inspection_filters(
            _inspections(sa.func.count(sa.distinct(Inspection.unit_id))), scope
        ).where(Inspection.status.in_(ON_RECORD_STATUSES), *conditions)
        return stmt.scalar_subquery()

    directory = sa.select(sa.func.count(Unit.id)).where(Unit.active.is_(True))
    if scope.unit_kind:
        directory = directory.where(Unit.kind == scope.unit_kind)
    if scope.unit_id:
        directory = directory.where(Unit.id == scope.unit_id)
    stmt = sa.select(
        inspected(),
        inspected(Unit.is_key_unit.is_(True)),
        directory.scalar_subquery(),
        directory.where(Unit.is_key_unit.is_(True)).scalar_subquery(),
    )
    return Coverage(*(int(v or 0) for v in db.session.execute(stmt).one()))


# --- findings and rectification ---------------------------------------------------------------


def _dimension(name: str):
    return {
        "severity": Finding.severity,
        "lead_department": sa.func.coalesce(ChecklistItem.lead_department, ""),
        "category": Finding.category,
        "checklist": ChecklistTemplate.key,
        "round": Round.seq,
        "unit": Finding.unit_id,
        "status": RectificationItem.status,
    }[name]


def findings_by(scope: Scope, dimension: str) -> list[tuple[str | int, int]]:
    """(key, number of findings) for each value of a dimension, largest first; severities in
    their own order (high, medium, low)."""
    key = _dimension(dimension)
    stmt = _findings(scope, key.label("key"), sa.func.count(Finding.id).label("n"))
    if dimension == "checklist":
        stmt = stmt.join(ChecklistTemplate, ChecklistTemplate.id == Inspection.template_id)
    return _ordered([(k, n) for k, n in db.session.execute(stmt.group_by(key))], dimension)


def _ordered(rows: list[tuple[str | int, int]], dimension: str) -> list[tuple[str | int, int]]:
    if dimension == "severity":
        return sorted(rows, key=lambda r: SEVERITIES.index(r[0]) if r[0] in SEVERITIES else 9)
    if dimension == "round":
        return sorted(rows)
    return sorted(rows, key=lambda r: (-r[1], str(r[0])))


def findings_by_pair(
    scope: Scope, first: str, second: str
) -> list[tuple[str | int, str | int, int]]:
    """(key of first, key of second, number of findings) for each pair of values that occurs:
    one statement for a cross table whose margins are findings_by(scope, first) and
    findings_by(scope, second)."""
    dimensions = (first, second)
    if dimensions.count("lead_department") == 1 and "checklist" not in dimensions:
        stmt = _by_item_then_lead(scope, dimensions)
    else:
        one, two = _dimension(first), _dimension(second)
        stmt = _findings(scope, one.label("one"), two.label("two"), sa.func.count(Finding.id))
        if "checklist" in dimensions:
            stmt = stmt.join(ChecklistTemplate, ChecklistTemplate.id == Inspection.template_id)
        stmt = stmt.group_by(one, two)
    return sorted(
        ((a, b, int(n)) for a, b, n in db.session.execute(stmt)),
        key=lambda r: (str(r[0]), str(r[1])),
    )


def _by_item_then_lead(scope: Scope, dimensions: tuple[str, str]) -> sa.Select:
    """A cross table with the lead department on one side, counted by checklist item first and
    the item's lead department named after: a look-up for each of the hundred or so items
    instead of one for each finding."""
    keys = [Finding.item_id if d == "lead_department" else _dimension(d) for d in dimensions]
    # Grouped by the item first: SQLite sorts the findings to group them, and comparing ids
    # first is a quarter cheaper than comparing the other key's text first.
    item_first = keys if dimensions[0] == "lead_department" else keys[::-1]
    counted = (
        _findings(
            scope, keys[0].label("one"), keys[1].label("two"), sa.func.count(Finding.id).label("n")
        )
        .group_by(*item_first)
        .subquery()
    )
    side = "one" if dimensions[0] == "lead_department" else "two"
    lead = sa.func.coalesce(ChecklistItem.lead_department, "")
    outer = [
        lead if d == "lead_department" else counted.c[name]
        for d, name in zip(dimensions, ("one", "two"), strict=True)
    ]
    return (
        sa.select(*outer, sa.func.sum(counted.c.n))
        .select_from(counted.outerjoin(ChecklistItem, ChecklistItem.id == counted.c[side]))
        .group_by(*outer)
    )


def margins(
    pairs: list[tuple[str | int, str | int, int]], dimensions: tuple[str, str], side: int
) -> list[tuple[str | int, int]]:
    """The totals of one side (0 or 1) of findings_by_pair(scope, *dimensions): equal to, and
    ordered as, findings_by(scope, dimensions[side])."""
    totals: dict = {}
    for row in pairs:
        totals[row[side]] = totals.get(row[side], 0) + row[2]
    return _ordered(list(totals.items()), dimensions[side])


@dataclass
class Rectification:
    """Rectification of the scope's findings (see the module docstring for definitions)."""

    findings: int = 0
    closed: int = 0
    submitted: int = 0
    open: int = 0
    returned: int = 0
    risk_accepted: int = 0
    escalated: int = 0
    due: int = 0
    closed_on_time: int = 0
    overdue: int = 0
    overdue_days: int = 0
    high_open: int = 0
    repeats: int = 0

    @property
    def rate(self) -> float | None:
        return _rate(self.closed, self.findings)

    @property
    def on_time_rate(self) -> float | None:
        return _rate(self.closed_on_time, self.due)

    def __add__(self, other: Rectification) -> Rectification:
        """Every field is a count or a sum, so the figures of disjoint scopes (the rounds of a
        year) add up to the figures of their union."""
        return _added(self, other)


def _rectification_columns(today: date) -> list:
    overdue = _overdue(today)
    return [
        sa.func.count(Finding.id),
        _count_if(RectificationItem.status == "closed"),
        _count_if(RectificationItem.status == "submitted"),
        _count_if(RectificationItem.status == "open"),
        _count_if(RectificationItem.status == "returned"),
        _count_if(RectificationItem.status == "risk_accepted"),
        _count_if(RectificationItem.status == "escalated"),
        _count_if(_due(today)),
        _count_if(_closed_on_time()),
        _count_if(overdue),
        sa.func.sum(days_between(RectificationItem.due_date, sa.literal(today))).filter(overdue),
        _count_if(sa.and_(Finding.severity == "high", RectificationItem.status != "closed")),
        _count_if(Finding.repeat_of_id.is_not(None)),
    ]


_RECT_FIELDS = (
    "findings",
    "closed",
    "submitted",
    "open",
    "returned",
    "risk_accepted",
    "escalated",
    "due",
    "closed_on_time",
    "overdue",
    "overdue_days",
    "high_open",
    "repeats",
)


def _as_rectification(values) -> Rectification:
    return Rectification(**{f: int(v or 0) for f, v in zip(_RECT_FIELDS, values, strict=True)})


def rectification(scope: Scope, today: date) -> Rectification:
    return _as_rectification(
        db.session.execute(_findings(scope, *_rectification_columns(today))).one()
    )


def per_lead_department(scope: Scope, today: date) -> list[tuple[str, Rectification]]:
    """(lead department code, or "" for findings without one, and the rectification of its
    findings), most findings first."""
    key = _dimension("lead_department")
    stmt = _findings(scope, key, *_rectification_columns(today)).group_by(key)
    rows = [(code, _as_rectification(values)) for code, *values in db.session.execute(stmt)]
    return sorted(rows, key=lambda r: (-r[1].findings, r[0]))


@dataclass
class FindingsGrid:
    """The rectification figures of the scope's year by round, and of the scope by unit with the
    unit's code and name: what per_round, per_unit and repeat_offenders read."""

    rounds: dict[int, Rectification]
    units: dict[int, tuple[str, str, Rectification]]


def findings_grid(scope: Scope, today: date) -> FindingsGrid:
    """One pass over the findings of the scope's year (its other filters applied), grouped by
    round and unit (and inspection, on SQLite), summed by round (the whole year) and by unit (the
    scope's round, if any): one statement in place of a pass for each table."""
    stmt = _grid_statement(scope, today, db.session.get_bind().dialect.name)
    grid = FindingsGrid({}, {})
    for side, key, code, name, *values in db.session.execute(stmt):
        if side == "round":
            grid.rounds[key] = _as_rectification(values)
        else:
            grid.units[key] = (code, name, _as_rectification(values))
    return grid


@functools.lru_cache(maxsize=64)
def _grid_statement(scope: Scope, today: date, dialect: str) -> sa.CompoundSelect:
    """findings_grid's statement, built once a day for each scope: building it (thirteen
    columns, their joins, a CTE read twice) costs a few milliseconds, a tenth of its run on
    SQLite. A statement holds no figure, only the question; the database answers it each time."""
    year_scope = dataclasses.replace(scope, round_id=None)
    keys = [Inspection.round_id.label("round_id"), Finding.unit_id.label("unit_id")]
    if dialect == "sqlite":
        # By inspection too: the order SQLite reads the findings in (the round's inspections,
        # then each one's findings by ix_findings_inspection_figures), so it groups them as
        # they come instead of sorting 27,500 rows (a unit has about one inspection a round).
        # PostgreSQL groups in a hash table, and by inspection it would expect a group per
        # finding and sort them instead.
        keys.insert(1, Inspection.id.label("inspection_id"))
    cells = (
        _findings(year_scope, *keys, *_rectification_columns(today))
        .group_by(*(key.element for key in keys))
        .cte("cells")
        .prefix_with("MATERIALIZED")  # read twice, computed once
    )
    # Whole numbers: PostgreSQL sums bigints as numeric, which arrive as Decimal objects.
    sums = [
        sa.cast(sa.func.sum(c), sa.BigInteger)
        for c in cells.c
        if c.name not in ("round_id", "inspection_id", "unit_id")
    ]
    by_round = sa.select(
        sa.literal("round").label("side"),
        cells.c.round_id.label("key"),
        sa.cast(sa.null(), sa.String).label("code"),
        sa.cast(sa.null(), sa.String).label("name"),
        *sums,
    ).group_by(cells.c.round_id)
    by_unit = (
        sa.select(sa.literal("unit"), cells.c.unit_id, Unit.code, Unit.name, *sums)
        .join(Unit, Unit.id == cells.c.unit_id)
        .group_by(cells.c.unit_id, Unit.code, Unit.name)
    )
    if scope.round_id:
        by_unit = by_unit.where(cells.c.round_id == scope.round_id)
    return sa.union_all(by_round, by_unit)


# --- tables -----------------------------------------------------------------------------------


@dataclass
class UnitRow:
    unit_id: int
    code: str
    name: str
    kind: str
    inspections: int
    figures: Rectification
    cap: int | None = None
    visits: int = 0  # in the year, against the cap


def per_unit(scope: Scope, today: date, grid: FindingsGrid | None = None) -> list[UnitRow]:
    """One row per unit inspected in the scope: inspections, findings and their rectification;
    units with overdue items first, then by findings. The findings' figures come from the grid
    (findings_grid(scope, today), computed here when not given)."""
    grid = grid or findings_grid(scope, today)
    inspections = (
        _inspection_filters(
            _inspections(
                Inspection.unit_id.label("unit_id"), sa.func.count(Inspection.id).label("n")
            ),
            scope,
        )
        .group_by(Inspection.unit_id)
        .subquery()
    )
    visits = (
        sa.select(sa.func.count(Visit.id))
        .join(Round, Round.id == Visit.round_id)
        .where(Round.year == scope.year, Visit.unit_id == Unit.id)
        .scalar_subquery()
    )
    stmt = sa.select(
        Unit.id, Unit.code, Unit.name, Unit.kind, Unit.inspection_cap, inspections.c.n, visits
    ).join(inspections, inspections.c.unit_id == Unit.id)
    caps = current_app.config.get("INSPECTION_CAPS", {})
    nothing = ("", "", Rectification())
    rows = [
        UnitRow(
            unit_id,
            code,
            name,
            kind,
            n,
            grid.units.get(unit_id, nothing)[2],
            cap if cap is not None else kind_setting(caps, kind),
            year_visits,
        )
        for unit_id, code, name, kind, cap, n, year_visits in db.session.execute(stmt)
    ]
    return sorted(rows, key=lambda r: (-r.figures.overdue, -r.figures.findings, r.code))


@dataclass
class RoundRow:
    round_id: int
    seq: int
    title: str
    status: str
    start_date: date | None
    end_date: date | None
    inspections: InspectionCounts
    figures: Rectification = field(default_factory=Rectification)
    theme: str = ""


def per_round(scope: Scope, today: date, grid: FindingsGrid | None = None) -> list[RoundRow]:
    """The year's rounds in order, each with its inspections and rectification (two statements,
    whatever the number of rounds; one when the grid, findings_grid(scope, today), is given). A
    round filter in the scope is ignored: all rounds."""
    year_scope = dataclasses.replace(scope, round_id=None)
    statuses = (
        _inspection_filters(
            _inspections(
                Inspection.round_id.label("round_id"),
                *(_count_if(Inspection.status == status) for status in INSPECTION_STATUSES),
            ),
            year_scope,
        )
        .group_by(Inspection.round_id)
        .subquery()
    )
    stmt = (
        sa.select(
            Round.id,
            Round.seq,
            Round.title,
            Round.status,
            Round.start_date,
            Round.end_date,
            Round.theme,
            *[c for c in statuses.c if c.name != "round_id"],
        )
        .join(statuses, statuses.c.round_id == Round.id, isouter=True)
        .where(Round.year == scope.year)
        .order_by(Round.seq)
    )
    rows = db.session.execute(stmt).all()
    if grid is None:
        grid = findings_grid(year_scope, today) if rows else FindingsGrid({}, {})

    def counts(values) -> InspectionCounts:
        return InspectionCounts(
            **{status: int(v or 0) for status, v in zip(INSPECTION_STATUSES, values, strict=True)}
        )

    return [
        RoundRow(
            *r[:6],
            counts(r[7:]),
            grid.rounds.get(r[0]) or Rectification(),
            theme=r[6] or "",
        )
        for r in rows
    ]


@dataclass
class OverdueRow:
    item_id: int
    finding_code: str
    description: str
    severity: str
    unit_id: int
    unit_name: str
    due_date: date
    days: int


def overdue_items(scope: Scope, today: date, *, limit: int | None = 20) -> list[OverdueRow]:
    """Overdue items of the scope, longest overdue first."""
    stmt = (
        _findings(
            scope,
            RectificationItem.id,
            Finding.code,
            Finding.description,
            Finding.severity,
            Unit.id,
            Unit.name,
            RectificationItem.due_date,
        )
        .where(_overdue(today))
        .order_by(RectificationItem.due_date, RectificationItem.id)
    )
    if limit:
        stmt = stmt.limit(limit)
    return [OverdueRow(*row, days=(today - row[6]).days) for row in db.session.execute(stmt).all()]


def repeat_offenders(
    scope: Scope, *, limit: int | None = 10, grid: FindingsGrid | None = None
) -> list[tuple[int, str, str, int]]:
    """(unit id, code, name, repeat findings) of units with repeat findings, most first (all of
    them when limit is None), read from the grid (findings_grid(scope, today), computed here
    when not given)."""
    grid = grid or findings_grid(scope, local_today())
    rows = sorted(
        (
            (unit_id, code, name, figures.repeats)
            for unit_id, (code, name, figures) in grid.units.items()
            if figures.repeats
        ),
        key=lambda r: (-r[3], r[1]),
    )
    return rows[:limit] if limit else rows
