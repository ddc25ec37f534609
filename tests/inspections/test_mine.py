"""My inspections and the inspector's home: today's and this round's work, filters by year, round
and status (bounded query arguments)."""

import pytest

from inspect_app.clock import local_today

from ..conftest import Browser


@pytest.fixture
def mine(app, make):
    """An inspector on: today's inspection (active round), an older submitted one in a closed
    round of the same year, and one of last year's closed rounds."""
    with app.app_context():
        today = local_today()
        lead = make.user(role="inspector")
        member = make.user(role="inspector")
        active = make.round(year=today.year, seq=2, status="active")
        closed = make.round(year=today.year, seq=1, status="closed")
        old = make.round(year=today.year - 1, seq=6, status="closed")
        team = [lead, member]
        ids = {
            "today": make.inspection(
                unit=make.unit(name="今日单位"), round=active, members=team, scheduled_on=today
            ).id,
            "closed": make.inspection(
                unit=make.unit(name="已结束轮次单位"),
                round=closed,
                members=team,
                status="submitted",
            ).id,
            "old": make.inspection(
                unit=make.unit(name="去年单位"), round=old, members=team, status="submitted"
            ).id,
        }
        return {"lead": lead.username, "ids": ids, "active": active.id, "year": today.year}


def _page(b, url):
    r = b.get(url)
    assert r.status_code == 200, r.status_code
    return r.get_data(as_text=True)


def test_the_inspectors_home_lists_todays_and_this_rounds_inspections(app, mine):
    b = Browser(app.test_client())
    b.login(mine["lead"])
    html = _page(b, "/")
    assert "今日单位" in html and 'id="g-today"' in html
    assert "已结束轮次单位" not in html and "去年单位" not in html  # earlier work is one tap away
    assert 'class="tiles"' not in html and 'href="/inspections/"' in html


def test_my_inspections_filters_by_year_round_and_status(app, mine):
    b = Browser(app.test_client())
    b.login(mine["lead"])
    everything = _page(b, "/inspections/")
    assert (
        "今日单位" in everything and "已结束轮次单位" in everything and "去年单位" not in everything
    )
    last_year = _page(b, f"/inspections/?year={mine['year'] - 1}")
    assert "去年单位" in last_year and "已结束轮次单位" not in last_year
    in_round = _page(b, f"/inspections/?round={mine['active']}")
    assert "今日单位" in in_round and "已结束轮次单位" not in in_round
    submitted = _page(b, "/inspections/?status=submitted")
    assert "已结束轮次单位" in submitted and "今日单位" not in submitted
    assert 'option value="submitted" selected' in submitted


@pytest.mark.parametrize(
    "query", ["year=1999", "year=abc", "round=-1", "round=99999999999999", "status=deleted"]
)
def test_bad_filters_are_a_clear_400_not_a_500(app, mine, query):
    b = Browser(app.test_client())
    b.login(mine["lead"])
    assert b.get(f"/inspections/?{query}").status_code == 400
