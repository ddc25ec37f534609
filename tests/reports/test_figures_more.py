"""The figures the dashboard and the annual report add (cross tables, coverage, departments, sums
of rounds), each compared with counts taken straight from the rows, like test_figures.py."""

from datetime import date, timedelta
from functools import reduce

import pytest

from inspect_app.extensions import db
from inspect_app.models import Finding, Unit, Visit
from inspect_app.reports import figures
from inspect_app.reports.figures import InspectionCounts, Rectification, Scope

from .test_figures import (
    TODAY,
    YEAR,
    _expected_rectification,
    _findings,
    _inspections,
    _scopes,
)


def _key(f: Finding, dimension: str):
    return {
        "severity": f.severity,
        "lead_department": (f.item.lead_department if f.item else "") or "",
        "category": f.category,
        "checklist": f.inspection.template.key,
        "round": f.inspection.round.seq,
        "unit": f.unit_id,
        "status": f.rectification.status,
    }[dimension]


@pytest.mark.parametrize(
    "pair", [("severity", "lead_department"), ("category", "status"), ("checklist", "round")]
)
def test_findings_by_pair_counts_each_pair_and_its_margins_are_findings_by(data, pair):
    for scope in _scopes(data):
        expected: dict = {}
        for f in _findings(scope):
            key = (_key(f, pair[0]), _key(f, pair[1]))
            expected[key] = expected.get(key, 0) + 1
        got = figures.findings_by_pair(scope, *pair)
        assert {(a, b): n for a, b, n in got} == expected, scope
        for side in (0, 1):
            # Same totals and the same order as the one-dimension figure.
            assert figures.margins(got, pair, side) == figures.findings_by(scope, pair[side])


def test_the_rounds_of_a_year_add_up_to_the_year(data):
    for scope in _scopes(data):
        if scope.round_id:
            continue
        rows = figures.per_round(scope, TODAY)
        total = reduce(lambda a, b: a + b, (r.figures for r in rows), Rectification())
        assert total == figures.rectification(scope, TODAY), scope
        counts = reduce(lambda a, b: a + b, (r.inspections for r in rows), InspectionCounts())
        assert counts == figures.inspection_counts(scope), scope


def test_adding_figures_of_another_kind_is_refused():
    with pytest.raises(TypeError):
        Rectification() + InspectionCounts()


def test_per_round_rows_carry_the_round_theme(data):
    data["rounds"][0].theme = "key_units"
    db.session.commit()
    rows = figures.per_round(Scope(YEAR), TODAY)
    assert [r.theme for r in rows] == ["key_units", "", ""]


def test_coverage_counts_inspected_units_and_key_units_against_the_directory(data):
    units = data["units"]
    units[0].is_key_unit = True
    units[1].is_key_unit = True
    db.session.add(Unit(code="RU-KEY-IDLE", name="未检查重点单位", kind="soe", is_key_unit=True))
    db.session.add(Unit(code="RU-GONE", name="已撤销单位", kind="soe", active=False))
    db.session.commit()
    directory = [u for u in db.session.query(Unit) if u.active]
    for scope in _scopes(data):
        done = {i.unit_id for i in _inspections(scope) if i.status in ("submitted", "closed")}
        in_scope = [
            u
            for u in directory
            if (not scope.unit_kind or u.kind == scope.unit_kind)
            and (not scope.unit_id or u.id == scope.unit_id)
        ]
        got = figures.coverage(scope)
        assert got.units == len(done), scope
        assert got.key_units == sum(db.session.get(Unit, u).is_key_unit for u in done), scope
        assert got.units_total == len(in_scope), scope
        assert got.key_units_total == sum(u.is_key_unit for u in in_scope), scope
    year = figures.coverage(Scope(YEAR))
    assert year.key_units_total == 3 and 0 < year.key_units < 3


def test_per_lead_department_equals_the_rows(data):
    for scope in _scopes(data):
        groups: dict = {}
        for f in _findings(scope):
            groups.setdefault(_key(f, "lead_department"), []).append(f)
        got = figures.per_lead_department(scope, TODAY)
        assert {code: r.__dict__ for code, r in got} == {
            code: _expected_rectification(found) for code, found in groups.items()
        }, scope
        assert [r.findings for _c, r in got] == sorted((r.findings for _c, r in got), reverse=True)


def test_inspections_by_department_counts_inspections_with_a_member_of_it(data):
    for scope in _scopes(data):
        expected: dict = {}
        for i in _inspections(scope):
            for code in {m.department.code for m in i.members if m.department is not None}:
                total, done = expected.get(code, (0, 0))
                expected[code] = (total + 1, done + (i.status in ("submitted", "closed")))
        got = figures.inspections_by_department(scope)
        assert {code: (n, done) for code, _name, n, done in got} == expected, scope
    codes = [row[0] for row in figures.inspections_by_department(Scope(YEAR))]
    assert {"CAC", "PSB"} <= set(codes)


def test_repeat_offenders_without_a_limit_names_every_unit(data):
    scope = Scope(YEAR)
    units = {f.unit_id for f in _findings(scope) if f.repeat_of_id}
    assert {r[0] for r in figures.repeat_offenders(scope, limit=None)} == units


def test_a_unit_inspected_twice_in_a_round_has_one_row_with_both_inspections_findings(data, make):
    unit, first_round = data["units"][0], data["rounds"][0]
    again = make.inspection(unit=unit, round=first_round, status="submitted")
    for n, state in enumerate(("open", "submitted", "returned")):
        make.finding(again, status=state, due_date=TODAY - timedelta(days=3 + n))
    db.session.commit()
    for scope in (Scope(YEAR), Scope(YEAR, round_id=first_round.id)):
        grid = figures.findings_grid(scope, TODAY)
        unit_scope = Scope(YEAR, scope.round_id, unit_id=unit.id)
        assert grid.units[unit.id][2].__dict__ == _expected_rectification(_findings(unit_scope))
    rows = {r.round_id: r for r in figures.per_round(Scope(YEAR), TODAY)}
    round_scope = Scope(YEAR, round_id=first_round.id)
    assert rows[first_round.id].figures.__dict__ == _expected_rectification(_findings(round_scope))


def test_a_units_visits_not_its_checklists_are_held_against_the_yearly_cap(ctx, make):
    """The dashboard and the year workbook said 5 / 4 (over the cap) for a unit visited three
    times, two visits with two checklists each; round planning, counting visits, said 3 of 4."""
    from inspect_app.rounds.services import year_counts

    unit = make.unit(code="CAP1")
    year = 2031
    first, second = make.round(year=year, seq=1), make.round(year=year, seq=2)
    for rnd in (first, second):
        one = make.inspection(unit=unit, round=rnd)
        make.inspection(unit=unit, round=rnd, visit=db.session.get(Visit, one.visit_id))
    make.inspection(unit=unit, round=second)
    db.session.commit()
    [row] = figures.per_unit(Scope(year), date(year, 12, 1))
    assert (row.inspections, row.visits) == (5, 3)
    assert year_counts(year, [unit.id]) == {unit.id: row.visits}
