"""One dashboard page load issues at most 10 SQL statements, whatever the size of the year."""

from __future__ import annotations

import pytest

from .builders import build_year
from .conftest import StatementCounter

BUDGET = 10


def _count(b, url: str) -> int:
    with StatementCounter() as counter:
        response = b.get(url)
    assert response.status_code == 200
    assert 'data-kpi="findings"' in response.get_data(as_text=True)
    assert len(counter.statements) <= BUDGET, "\n\n".join(counter.statements)
    return len(counter.statements)


@pytest.fixture
def two_years(app):
    """A small year (2026) and one eight times larger (2027), with every state present."""
    with app.app_context():
        small = build_year(2026, 0.01, prefix="S")
        large = build_year(2027, 0.08, prefix="L")
    assert large["findings"] > 6 * small["findings"] and large["repeats"]
    return small, large


def test_a_page_load_stays_within_the_budget_and_does_not_grow_with_the_data(login_as, two_years):
    b = login_as("viewer")
    small = _count(b, "/dashboard/?year=2026")
    large = _count(b, "/dashboard/?year=2027")
    assert small == large


@pytest.mark.parametrize(
    "query", ["department=PSB", "kind=soe", "department=CAC&kind=party_gov", "units=all"]
)
def test_filters_stay_within_the_budget(login_as, two_years, query):
    _count(login_as("coordinator"), f"/dashboard/?year=2027&{query}")


def test_a_round_stays_within_the_budget(app, login_as, two_years):
    from inspect_app.extensions import db
    from inspect_app.models import Round

    with app.app_context():
        round_id = db.session.query(Round.id).filter_by(year=2027, seq=6).scalar()
    _count(login_as("viewer"), f"/dashboard/?year=2027&round={round_id}")


def test_the_home_page_of_a_viewer_stays_within_the_budget(login_as, two_years):
    _count(login_as("viewer"), "/")


@pytest.mark.parametrize("query", ["", "&department=PSB&kind=soe"])
def test_the_home_with_the_cache_on_stays_within_the_budget_before_its_figures_are_stored(
    app, login_as, monkeypatch, query
):
    """The data version and the look for figures computed ahead are one statement, so a load
    that finds none (the refresh task has not run) counts its figures within the budget, also
    when the login writes its once-a-minute last-seen time. The home is this year's; a view
    with a filter asks the queue to keep it (the consumer's work, not the page's: not run
    here)."""
    from inspect_app.dashboard import snapshots

    asked = []
    monkeypatch.setattr(snapshots, "_queue", lambda app, task, *args: asked.append(task))
    monkeypatch.setitem(app.extensions, snapshots.ASKED_RECENTLY, {})
    from datetime import timedelta

    import sqlalchemy as sa

    from inspect_app.clock import local_today
    from inspect_app.dashboard.cache import figures_cache
    from inspect_app.extensions import db
    from inspect_app.models import LoginSession, utcnow

    year = local_today().year
    with app.app_context():
        build_year(year, 0.01, prefix="H")
    b = login_as("viewer")
    app.config.update(DASHBOARD_CACHE_SECONDS=300, DASHBOARD_REFRESH=True)
    try:
        with app.app_context():
            figures_cache().clear()
            db.session.execute(
                sa.update(LoginSession).values(last_seen_at=utcnow() - timedelta(minutes=2))
            )
            db.session.commit()
        with StatementCounter() as counter:
            response = b.get(f"/dashboard/?year={year}{query}")
        assert response.status_code == 200
        assert asked == ([snapshots.KEEP_TASK] if query else [])
        statements = counter.statements
        assert any("UPDATE login_sessions" in s for s in statements)  # the last-seen write
        assert any("figure_snapshots" in s for s in statements)  # looked for, none found
        assert len(statements) <= BUDGET, "\n\n".join(statements)
    finally:
        app.config["DASHBOARD_CACHE_SECONDS"] = 0
        with app.app_context():
            figures_cache().clear()
