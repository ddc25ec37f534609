"""The dashboard: who sees it, bounded filters, and every number equal to the figures service."""

from __future__ import annotations

import pytest
from flask import Flask

from inspect_app.clock import local_today
from inspect_app.dashboard.routes import Links, percent
from inspect_app.reports import figures
from inspect_app.reports.figures import Scope

from .conftest import kpis, rows, text_of

YEAR = 2026


@pytest.mark.parametrize("role", ["admin", "coordinator", "viewer"])
def test_readers_see_the_dashboard(login_as, role):
    response = login_as(role).get(f"/dashboard/?year={YEAR}")
    assert response.status_code == 200
    assert 'data-kpi="findings"' in response.get_data(as_text=True)


@pytest.mark.parametrize("role", ["inspector", "unit"])
def test_inspectors_and_unit_users_cannot_open_the_dashboard_its_charts_or_the_report(
    login_as, role
):
    b = login_as(role)
    for url in ("/dashboard/", "/dashboard/charts/severity.svg", "/dashboard/annual"):
        assert b.get(url).status_code == 403, url


def test_anonymous_visitors_are_sent_to_the_login_page(client):
    for url in ("/dashboard/", "/dashboard/charts/rounds.svg", "/dashboard/annual"):
        response = client.get(url)
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


@pytest.mark.parametrize("role", ["coordinator", "viewer"])
def test_the_home_of_coordinators_and_viewers_is_the_dashboard(login_as, role):
    html = login_as(role).get("/").get_data(as_text=True)
    assert 'data-kpi="findings"' in html and 'action="/dashboard/"' in html


def test_admins_keep_their_home_page(login_as):
    html = login_as("admin").get("/").get_data(as_text=True)
    assert 'data-kpi="findings"' not in html and 'class="tiles"' in html


def test_an_inspectors_home_is_their_inspections_not_tiles(login_as):
    html = login_as("inspector").get("/").get_data(as_text=True)
    assert 'data-kpi="findings"' not in html and 'class="tiles"' not in html
    assert 'href="/inspections/"' in html  # all my inspections


def test_a_units_home_is_its_rectification_work(login_as):
    html = login_as("unit").get("/").get_data(as_text=True)
    assert 'data-kpi="findings"' not in html and 'class="tiles"' not in html
    assert "rect-group" in html or "整改事项" in html


def test_the_menu_links_the_dashboard_for_readers_only(login_as):
    assert 'data-nav="dashboard.index"' in login_as("viewer").get("/").get_data(as_text=True)
    assert 'data-nav="dashboard.index"' not in login_as("inspector").get("/").get_data(as_text=True)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("year=1999", "年份"),
        ("year=2101", "年份"),
        ("year=abc", "年份"),
        ("round=x", "轮次"),
        ("round=99999999999999", "轮次"),
        ("department=NOPE", "未知的部门"),
        ("kind=palace", "未知的单位类型"),
    ],
)
def test_filters_out_of_bounds_are_a_400_that_says_which(login_as, query, message):
    b = login_as("coordinator")
    for path in ("/dashboard/", "/dashboard/charts/severity.svg", "/"):
        response = b.get(f"{path}?{query}")
        assert response.status_code == 400, (path, query)
        assert message in response.get_data(as_text=True), (path, query)


def test_the_annual_report_refuses_a_year_out_of_bounds(login_as):
    b = login_as("viewer")
    for year in ("1999", "20260", "二〇二六"):
        response = b.get(f"/dashboard/annual?year={year}")
        assert response.status_code == 400 and "年份" in response.get_data(as_text=True)


def _page(b, scope: Scope) -> str:
    query = {"year": scope.year}
    if scope.round_id:
        query["round"] = scope.round_id
    if scope.department:
        query["department"] = scope.department
    if scope.unit_kind:
        query["kind"] = scope.unit_kind
    response = b.get("/dashboard/", query_string=query)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _scopes(data) -> list[Scope]:
    return [
        Scope(YEAR),
        Scope(YEAR, round_id=data["rounds"][0].id),
        Scope(YEAR, department="PSB"),
        Scope(YEAR, unit_kind="soe"),
        Scope(2024),  # a year without rounds
    ]


def test_every_key_figure_equals_the_figures_service(app, login_as, data):
    b = login_as("coordinator")
    today = local_today()
    for scope in _scopes(data):
        got = kpis(_page(b, scope))
        with app.app_context(), app.test_request_context():
            counts = figures.inspection_counts(scope)
            rect = figures.rectification(scope, today)
            comp = figures.compliance(scope)
            expected = {
                "inspections": str(counts.total),
                "findings": str(rect.findings),
                "compliance": percent(comp.rate),
                "rate": percent(rect.rate),
                "on_time": percent(rect.on_time_rate),
                "overdue": str(rect.overdue),
                "repeats": str(rect.repeats),
            }
        assert got == expected, scope


def test_the_tables_equal_the_figures_service(app, login_as, data):
    b = login_as("viewer")
    today = local_today()
    for scope in _scopes(data):
        html = _page(b, scope)
        with app.app_context():
            severity = figures.findings_by(scope, "severity")
            departments = figures.findings_by(scope, "lead_department")
            units = figures.per_unit(scope, today)
            rounds = figures.per_round(scope, today)
            rect = figures.rectification(scope, today)
            overdue = figures.overdue_items(scope, today)
        assert {k: int(v[1]) for k, v in rows(html, "t-severity", "severity").items()} == dict(
            severity
        )
        assert {k: int(v[1]) for k, v in rows(html, "t-departments", "department").items()} == dict(
            departments
        )
        statuses = {k: int(v[1]) for k, v in rows(html, "t-status", "status").items()}
        assert statuses == {
            s: getattr(rect, s)
            for s in ("open", "returned", "submitted", "closed", "risk_accepted", "escalated")
            if getattr(rect, s)
        }
        if units:
            table = rows(html, "t-units", "unit")
            assert list(table) == [str(u.unit_id) for u in units]  # in the service's order
            for u in units:
                cells = table[str(u.unit_id)]
                assert cells[1] == str(u.inspections)
                if not scope.round_id:  # the year's visits against the cap
                    assert cells.pop(2) == (f"{u.visits} / {u.cap}" if u.cap else str(u.visits))
                assert cells[2:5] == [
                    str(u.figures.findings),
                    str(u.figures.high_open),
                    str(u.figures.closed),
                ]
                assert cells[6:8] == [str(u.figures.overdue), str(u.figures.repeats)]
        if rounds:
            table = rows(html, "t-rounds", "round")
            assert list(table) == [str(r.round_id) for r in rounds]
            for r in rounds:
                assert table[str(r.round_id)][2:] == [
                    str(r.inspections.total),
                    str(r.inspections.in_progress),
                    str(r.inspections.done),
                    str(r.figures.findings),
                    str(r.figures.closed),
                    str(r.figures.overdue),
                ]
        if overdue:
            assert list(rows(html, "t-overdue", "item")) == [str(o.item_id) for o in overdue]


def test_the_current_round_is_shown_beside_the_year(app, login_as, data):
    from inspect_app.extensions import db
    from inspect_app.models import Round

    rnd = data["rounds"][1]
    with app.app_context():
        db.session.get(Round, rnd.id).status = "active"
        db.session.commit()
    html = login_as("viewer").get(f"/dashboard/?year={YEAR}").get_data(as_text=True)
    assert "当前轮次：" + rnd.name in text_of(html)
    assert f"round={rnd.id}" in html  # "show this round only"


def test_a_round_of_another_year_shows_the_whole_year_and_says_so(login_as, data):
    last_year = data["rounds"][3]  # 2025
    html = login_as("viewer").get(f"/dashboard/?year={YEAR}&round={last_year.id}")
    text = text_of(html.get_data(as_text=True))
    assert html.status_code == 200
    assert "所选轮次不属于2026年" in text and "2026年工作概览" in text


def test_numbers_link_to_the_ledger_and_the_rounds(login_as, data):
    html = login_as("coordinator").get(f"/dashboard/?year={YEAR}").get_data(as_text=True)
    assert f"/rectification/?year={YEAR}&amp;status=overdue" in html
    assert f"/rounds/{data['rounds'][0].id}" in html  # inspections of a round: rounds.show


def test_ledger_links_carry_what_the_ledger_filters_on_and_nothing_it_cannot():
    app = Flask(__name__)
    from flask import Blueprint

    ledger = Blueprint("rectification", __name__, url_prefix="/rectification")
    ledger.add_url_rule("/", "index", lambda: "")
    ledger.add_url_rule("/items/<int:item_id>", "show", lambda item_id: "")
    app.register_blueprint(ledger)
    with app.test_request_context():
        year = Links(Scope(YEAR))
        assert year.ledger() == "/rectification/?year=2026"
        assert year.ledger(status="overdue", severity="high") == (
            "/rectification/?year=2026&status=overdue&severity=high"
        )
        assert year.ledger(unit=7, repeat=1) == "/rectification/?year=2026&unit=7&repeat=1"
        assert year.item(5) == "/rectification/items/5"
        rnd = Links(Scope(YEAR, round_id=3))
        assert rnd.ledger(status="closed") == "/rectification/?year=2026&round=3&status=closed"
        # The ledger has no lead-department filter: its list would not be the number.
        assert Links(Scope(YEAR, department="PSB")).ledger() is None
        assert Links(Scope(YEAR, department="PSB")).ledger(unit=7) is None
        # Nor a unit-kind one, but a unit implies its kind.
        kind = Links(Scope(YEAR, unit_kind="soe"))
        assert kind.ledger() is None
        assert kind.ledger(unit=7) == "/rectification/?year=2026&unit=7"
    bare = Flask(__name__)
    with bare.test_request_context():
        assert Links(Scope(YEAR)).ledger() is None and Links(Scope(YEAR)).item(5) is None


def test_the_unit_table_shows_the_first_units_until_all_are_asked_for(app, login_as, make):
    from inspect_app.dashboard.routes import UNIT_ROWS

    with app.app_context():
        rnd = make.round(year=YEAR, seq=1)
        template = make.template(key="UT")
        members = [make.user(role="inspector"), make.user(role="inspector")]
        for _n in range(UNIT_ROWS + 2):
            make.inspection(template=template, round=rnd, members=members)
    b = login_as("viewer")
    html = b.get(f"/dashboard/?year={YEAR}").get_data(as_text=True)
    assert len(rows(html, "t-units", "unit")) == UNIT_ROWS
    assert f"显示全部{UNIT_ROWS + 2}家单位" in html
    html = b.get(f"/dashboard/?year={YEAR}&units=all").get_data(as_text=True)
    assert len(rows(html, "t-units", "unit")) == UNIT_ROWS + 2


def test_unit_names_and_finding_text_are_escaped(app, login_as, make):
    from datetime import timedelta

    with app.app_context():
        unit = make.unit(name="<script>alert(1)</script>单位")
        inspection = make.inspection(unit=unit, round=make.round(year=YEAR), status="submitted")
        make.finding(
            inspection,
            description='<img src=x onerror="alert(2)">',
            due_date=local_today() - timedelta(days=3),
        )
    html = login_as("viewer").get(f"/dashboard/?year={YEAR}").get_data(as_text=True)
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html
    assert "<img src=x" not in html and "&lt;img src=x" in html


def test_the_page_is_readable_in_english(login_as, data):
    b = login_as("viewer")
    html = b.get(f"/dashboard/?year={YEAR}&lang=en").get_data(as_text=True)
    assert "Overview of 2026" in html and "Problems by risk level" in html
