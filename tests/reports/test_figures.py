"""Every figure equals a count taken straight from the rows, computed here independently in
Python over the ORM objects (the service does it in SQL)."""

from datetime import date, datetime, timedelta

import pytest

from inspect_app.extensions import db
from inspect_app.models import (
    Answer,
    Department,
    Finding,
    Inspection,
    InspectionMember,
    RectificationItem,
    Round,
)
from inspect_app.reports import figures
from inspect_app.reports.figures import Scope

TODAY = date(2026, 9, 1)
YEAR = 2026


@pytest.fixture
def data(ctx, make):
    return build_rows(make)


def build_rows(make) -> dict:
    """Three units of two kinds, rounds 1–3 and one of last year, inspections in every status,
    answers, and findings whose items are in every state, on time, late, overdue, repeated.
    Commits; call it in an app context (tests/dashboard builds it in one of its own)."""
    cac, psb = make.department(code="CAC"), make.department(code="PSB")
    t1 = make.template(
        key="RA",
        items=[
            {"code": "RA-01", "text": "一？", "lead_department": "CAC"},
            {"code": "RA-02", "text": "二？", "lead_department": "PSB"},
            {"code": "RA-03", "text": "三？", "lead_department": "CAC"},
        ],
    )
    units = [
        make.unit(code="RU1", kind="party_gov"),
        make.unit(code="RU2", kind="soe"),
        make.unit(code="RU3", kind="soe", inspection_cap=2),
    ]
    rounds = [make.round(year=YEAR, seq=s) for s in (1, 2, 3)] + [make.round(year=2025, seq=6)]
    insp_cac = make.user(role="inspector", department=cac)
    insp_psb = make.user(role="inspector", department=psb)
    n = 0
    for r_index, rnd in enumerate(rounds):
        for u_index, unit in enumerate(units):
            status = ("submitted", "closed", "in_progress", "planned")[(r_index + u_index) % 4]
            team = [insp_cac, insp_psb] if u_index != 1 else [insp_psb, make.user(role="inspector")]
            inspection = make.inspection(
                template=t1, unit=unit, round=rnd, members=team, status=status
            )
            for i, item in enumerate(t1.items):
                result = ("compliant", "noncompliant", "not_applicable")[(i + n) % 3]
                db.session.add(
                    Answer(inspection_id=inspection.id, item_id=item.id, result=result, version=1)
                )
            n += 1
            if status not in ("submitted", "closed"):
                continue
            for i, item in enumerate(t1.items[: 1 + (n % 3)]):
                state = ("open", "submitted", "returned", "closed", "risk_accepted", "escalated")[
                    (n + i) % 6
                ]
                due = TODAY + timedelta(days=((n * 7 + i * 11) % 40) - 20)
                finding = make.finding(
                    inspection,
                    status=state,
                    due_date=due if (n + i) % 5 else None,
                    item_id=item.id,
                    severity=("high", "medium", "low")[(n + i) % 3],
                    category=("mlps", "data_pi")[i % 2],
                )
                rect = finding.rectification
                if state == "closed":
                    due_day = rect.due_date or TODAY
                    # on time (23:00 UTC the day before is the due date in Beijing), late, and
                    # late only in Beijing (20:00 UTC on the due date is the next day there)
                    rect.closed_at = [
                        datetime.combine(due_day - timedelta(days=1), datetime.min.time())
                        + timedelta(hours=23),
                        datetime.combine(due_day + timedelta(days=3), datetime.min.time()),
                        datetime.combine(due_day, datetime.min.time()) + timedelta(hours=20),
                    ][n % 3]
                earlier = (
                    db.session.query(Finding)
                    .filter(Finding.unit_id == unit.id, Finding.id < finding.id)
                    .first()
                )
                if earlier is not None and (n + i) % 2 == 0:
                    finding.repeat_of_id = earlier.id
    db.session.commit()
    return {"units": units, "rounds": rounds, "departments": {"CAC": cac, "PSB": psb}}


def _findings(scope: Scope) -> list[Finding]:
    out = []
    for f in db.session.query(Finding).all():
        insp = f.inspection
        if insp.round.year != scope.year:
            continue
        if scope.round_id and insp.round_id != scope.round_id:
            continue
        if scope.unit_kind and f.unit.kind != scope.unit_kind:
            continue
        if scope.unit_id and f.unit_id != scope.unit_id:
            continue
        if scope.department and (f.item is None or f.item.lead_department != scope.department):
            continue
        out.append(f)
    return out


def _inspections(scope: Scope) -> list[Inspection]:
    out = []
    for i in db.session.query(Inspection).all():
        if i.round.year != scope.year:
            continue
        if scope.round_id and i.round_id != scope.round_id:
            continue
        if scope.unit_kind and i.unit.kind != scope.unit_kind:
            continue
        if scope.unit_id and i.unit_id != scope.unit_id:
            continue
        if scope.department and not any(
            m.department and m.department.code == scope.department for m in i.members
        ):
            continue
        out.append(i)
    return out


def _beijing_date(moment: datetime) -> date:
    return (moment + timedelta(hours=8)).date()


def _expected_rectification(findings: list[Finding]) -> dict:
    items = [f.rectification for f in findings]
    overdue = [
        r for r in items if r.status in ("open", "returned") and r.due_date and r.due_date < TODAY
    ]
    return {
        "findings": len(findings),
        "closed": sum(r.status == "closed" for r in items),
        "submitted": sum(r.status == "submitted" for r in items),
        "open": sum(r.status == "open" for r in items),
        "returned": sum(r.status == "returned" for r in items),
        "risk_accepted": sum(r.status == "risk_accepted" for r in items),
        "escalated": sum(r.status == "escalated" for r in items),
        "due": sum(
            r.status == "closed" or (r.due_date is not None and r.due_date < TODAY) for r in items
        ),
        "closed_on_time": sum(
            r.status == "closed"
            and r.due_date is not None
            and _beijing_date(r.closed_at) <= r.due_date
            for r in items
        ),
        "overdue": len(overdue),
        "overdue_days": sum((TODAY - r.due_date).days for r in overdue),
        "high_open": sum(
            f.severity == "high" and f.rectification.status != "closed" for f in findings
        ),
        "repeats": sum(f.repeat_of_id is not None for f in findings),
    }


def _scopes(data) -> list[Scope]:
    r1, r2 = data["rounds"][0], data["rounds"][1]
    return [
        Scope(YEAR),
        Scope(YEAR, round_id=r1.id),
        Scope(YEAR, round_id=r2.id),
        Scope(YEAR, department="CAC"),
        Scope(YEAR, department="PSB"),
        Scope(YEAR, unit_kind="soe"),
        Scope(YEAR, unit_id=data["units"][0].id),
        Scope(2025),
        Scope(2024),  # an empty year
    ]


def test_the_data_covers_what_the_figures_distinguish(data):
    statuses = {r.status for r in db.session.query(RectificationItem)}
    assert statuses == {"open", "submitted", "returned", "closed", "risk_accepted", "escalated"}
    expected = _expected_rectification(_findings(Scope(YEAR)))
    assert expected["overdue"] and expected["closed_on_time"] and expected["repeats"]
    assert expected["closed"] > expected["closed_on_time"]


def test_rectification_figures_equal_counts_of_the_rows(data):
    for scope in _scopes(data):
        got = figures.rectification(scope, TODAY)
        assert got.__dict__ == _expected_rectification(_findings(scope)), scope


def test_inspection_counts_equal_the_rows(data):
    for scope in _scopes(data):
        rows = _inspections(scope)
        got = figures.inspection_counts(scope)
        for status in ("planned", "in_progress", "submitted", "closed"):
            assert getattr(got, status) == sum(i.status == status for i in rows), (scope, status)


def test_compliance_counts_answers_of_done_inspections(data):
    for scope in _scopes(data):
        answers = [
            a
            for i in _inspections(scope)
            if i.status in ("submitted", "closed")
            for a in db.session.query(Answer).filter_by(inspection_id=i.id)
        ]
        got = figures.compliance(scope)
        assert got.compliant == sum(a.result == "compliant" for a in answers)
        assert got.noncompliant == sum(a.result == "noncompliant" for a in answers)


@pytest.mark.parametrize("dimension", figures.DIMENSIONS)
def test_findings_by_every_dimension_equal_the_rows(data, dimension):
    def key(f: Finding):
        return {
            "severity": f.severity,
            "lead_department": (f.item.lead_department if f.item else "") or "",
            "category": f.category,
            "checklist": f.inspection.template.key,
            "round": f.inspection.round.seq,
            "unit": f.unit_id,
            "status": f.rectification.status,
        }[dimension]

    for scope in _scopes(data):
        expected: dict = {}
        for f in _findings(scope):
            expected[key(f)] = expected.get(key(f), 0) + 1
        assert dict(figures.findings_by(scope, dimension)) == expected, (scope, dimension)


def test_per_unit_rows_equal_the_rows(data):
    for scope in _scopes(data):
        rows = {r.unit_id: r for r in figures.per_unit(scope, TODAY)}
        inspected = {i.unit_id for i in _inspections(scope)}
        assert set(rows) == inspected
        for unit_id, row in rows.items():
            unit_scope = Scope(
                scope.year, scope.round_id, scope.department, scope.unit_kind, unit_id
            )
            assert row.inspections == len(_inspections(unit_scope))
            assert row.figures.__dict__ == _expected_rectification(_findings(unit_scope))
    rows = {r.code: r for r in figures.per_unit(Scope(YEAR), TODAY)}
    assert rows["RU3"].cap == 2 and rows["RU1"].cap == 6  # its own cap, else its kind's


def test_per_round_rows_equal_the_rows(data):
    rows = figures.per_round(Scope(YEAR), TODAY)
    assert [r.seq for r in rows] == [1, 2, 3]
    for row in rows:
        scope = Scope(YEAR, round_id=row.round_id)
        assert row.figures.__dict__ == _expected_rectification(_findings(scope))
        assert row.inspections.total == len(_inspections(scope))


def test_overdue_list_and_repeat_offenders(data):
    scope = Scope(YEAR)
    overdue = figures.overdue_items(scope, TODAY, limit=None)
    expected = [
        f.rectification.id
        for f in _findings(scope)
        if f.rectification.status in ("open", "returned")
        and f.rectification.due_date
        and f.rectification.due_date < TODAY
    ]
    assert sorted(r.item_id for r in overdue) == sorted(expected)
    assert [r.days for r in overdue] == sorted((r.days for r in overdue), reverse=True)
    repeats = figures.repeat_offenders(scope)
    counts: dict = {}
    for f in _findings(scope):
        if f.repeat_of_id:
            counts[f.unit_id] = counts.get(f.unit_id, 0) + 1
    assert {r[0]: r[3] for r in repeats} == counts


def test_a_round_filter_on_unknown_ids_is_empty_not_an_error(ctx):
    assert figures.rectification(Scope(YEAR, round_id=987654), TODAY).findings == 0
    assert figures.per_unit(Scope(YEAR), TODAY) == []
    assert figures.inspection_counts(Scope(YEAR)).total == 0


def test_department_rows_exist(data):
    assert db.session.query(Department).count() >= 2
    assert db.session.query(InspectionMember).count() > 0
    assert db.session.query(Round).count() == 4


def test_a_rate_is_rounded_once_where_it_is_shown(app):
    """5 of 11 closed is 45.45…%: the figures kept 0.4545, which the dashboard then showed as
    45.4% (half to even) and Excel as 45.5%. The figure is exact; only its display rounds."""
    from flask_babel import force_locale

    from inspect_app.dashboard.routes import percent
    from inspect_app.reports.figures import Rectification

    rate = Rectification(findings=11, closed=5).rate
    assert rate == 5 / 11
    with app.test_request_context(), force_locale("zh_Hans_CN"):
        assert percent(rate) == "45.5%"
