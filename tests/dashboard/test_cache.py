"""Figures kept between page loads: reused while the data is unchanged, recomputed once the app
changes anything (the audit chain's head moves), and never shared between two apps."""

from __future__ import annotations

import pytest

from inspect_app import audit
from inspect_app.dashboard.cache import FigureCache, figures_cache
from inspect_app.extensions import db
from inspect_app.models import Round

from .conftest import StatementCounter, kpis

YEAR = 2026


@pytest.fixture
def cached(app):
    """The cache of this process alone: nothing computed ahead (test_snapshots.py)."""
    app.config.update(DASHBOARD_CACHE_SECONDS=300, DASHBOARD_REFRESH=False)
    with app.app_context():
        figures_cache().clear()
    yield
    app.config.update(DASHBOARD_CACHE_SECONDS=0, DASHBOARD_REFRESH=True)
    with app.app_context():
        figures_cache().clear()


def _load(b) -> tuple[dict, int]:
    with StatementCounter() as counter:
        html = b.get(f"/dashboard/?year={YEAR}").get_data(as_text=True)
    return kpis(html), len(counter.statements)


def test_a_second_load_reads_only_the_login_and_the_data_version(app, login_as, data, cached):
    b = login_as("viewer")
    first, cold = _load(b)
    again, warm = _load(b)
    assert again == first
    # the login (2), the audit head (1) and the bell's unread count (1); then the figures
    assert warm <= 4 < cold <= 10


def test_figures_are_recomputed_once_the_app_changes_something(app, login_as, data, make, cached):
    b = login_as("viewer")
    before, _n = _load(b)
    with app.app_context():
        rnd = db.session.get(Round, data["rounds"][0].id)
        inspection = make.inspection(round=rnd, status="submitted")
        finding_id = make.finding(inspection).id
    # The factory writes no audit event: the figures kept are still served...
    assert _load(b)[0] == before
    # ...until a command of the app writes one, as every command does with its change.
    with app.app_context():
        audit.record(None, "finding.create", object_type="Finding", object_id=finding_id)
        db.session.commit()
    after, _n = _load(b)
    assert int(after["findings"]) == int(before["findings"]) + 1


def test_answers_logins_and_jobs_keep_the_figures_and_a_rectification_step_does_not(
    app, login_as, data, cached
):
    """A field day's answer batches (to inspections not yet done: the figures read only done
    ones) change no figure, so they do not turn the figures kept cold; anything else does."""
    b = login_as("viewer")
    first, _n = _load(b)
    with app.app_context():
        for action in ("answer.update", "auth.login", "mfa.verify_failed", "job.done"):
            audit.record(None, action, object_type="X", object_id=1)
        db.session.commit()
    again, warm = _load(b)
    assert again == first and warm <= 4
    with app.app_context():
        audit.record(None, "rectification.verify", object_type="RectificationItem", object_id=1)
        db.session.commit()
    assert _load(b)[1] > 4  # counted again


def test_an_action_counts_as_changing_figures_unless_it_is_listed_as_changing_none():
    assert not audit.may_change_figures("answer.update")
    assert not audit.may_change_figures("auth.login_failed")
    assert audit.may_change_figures("inspection.submit")
    assert audit.may_change_figures("inspection.start")  # planned -> in progress: counted
    assert audit.may_change_figures("something.new")


def test_the_cache_can_be_turned_off(app, login_as, data):
    assert app.config["DASHBOARD_CACHE_SECONDS"] == 0  # the tests' setting
    b = login_as("viewer")
    assert _load(b)[1] == _load(b)[1] > 3


def test_entries_expire_and_the_oldest_make_room(app, monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr("inspect_app.dashboard.cache.time.monotonic", lambda: clock[0])
    app.config["DASHBOARD_CACHE_SECONDS"] = 60
    try:
        with app.app_context():
            cache = FigureCache(size=2)
            calls = []

            def compute(key):
                calls.append(key)
                return key

            for key in ("a", "a", "b", "c", "a"):
                cache.get(key, lambda k=key: compute(k))
            assert calls == ["a", "b", "c", "a"]  # "a" made room for "c", then came back
            clock[0] += 61
            cache.get("a", lambda: compute("a"))
            assert calls[-1] == "a" and len(calls) == 5
    finally:
        app.config["DASHBOARD_CACHE_SECONDS"] = 0


def test_each_app_has_a_cache_of_its_own(app):
    from flask import Flask

    other = Flask(__name__)
    with app.app_context():
        mine = figures_cache()
    with other.app_context():
        assert figures_cache() is not mine
