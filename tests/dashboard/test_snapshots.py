"""Figures computed ahead: each commit that may change a figure queues the refresh task (run inline
in the tests' immediate mode), which stores the year's overview and annual report for the data
version; a worker whose own cache misses reads them in one statement, and never reads figures
of another version, of another day's key, or older than the cache's bound."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from inspect_app import audit
from inspect_app.clock import local_today
from inspect_app.dashboard import services, snapshots
from inspect_app.dashboard.cache import data_version, figures_cache
from inspect_app.extensions import db
from inspect_app.models import FigureSnapshot, Round, utcnow
from inspect_app.reports.figures import Scope

from .conftest import StatementCounter, kpis


@pytest.fixture
def ahead(app):
    """The cache on, with the refresh task (the default), and this process's cache empty."""
    app.config.update(DASHBOARD_CACHE_SECONDS=300, DASHBOARD_REFRESH=True)
    app.extensions.pop(snapshots.QUIET_UNTIL, None)
    app.extensions.pop(snapshots.ASKED_RECENTLY, None)
    with app.app_context():
        figures_cache().clear()
    yield
    app.extensions.pop(snapshots.QUIET_UNTIL, None)
    app.extensions.pop(snapshots.ASKED_RECENTLY, None)
    app.config.update(DASHBOARD_CACHE_SECONDS=0)
    with app.app_context():
        figures_cache().clear()


def _year() -> int:
    return local_today().year


def _load(app, b) -> tuple[dict, int]:
    with app.app_context():
        figures_cache().clear()  # another worker: nothing of its own kept
    with StatementCounter() as counter:
        html = b.get(f"/dashboard/?year={_year()}").get_data(as_text=True)
    return kpis(html), len(counter.statements)


def _change(app, action: str = "rectification.verify") -> None:
    with app.app_context():
        audit.record(None, action, object_type="RectificationItem", object_id=1)
        db.session.commit()


def _due() -> int:
    """What a refresh computes now: the home, its charts in each language, the annual report,
    and the same for the round under way if there is one (in an app context)."""
    return len(snapshots.targets(local_today()))


def _rows(app) -> dict[str, int]:
    with app.app_context():
        return dict(db.session.execute(sa.select(FigureSnapshot.key, FigureSnapshot.version)).all())


def test_the_stored_form_gives_back_equal_figures(app, data):
    with app.app_context():
        today = local_today()
        for value in (
            services.overview(Scope(year=_year()), today),
            services.annual_report(_year(), today),
        ):
            text = json.dumps(snapshots.encode(value), ensure_ascii=False)
            assert snapshots.decode(json.loads(text)) == value


def test_a_chart_is_served_as_stored_in_the_users_language(app, login_as, data, ahead):
    """The home's charts are computed ahead in each language (their titles and labels)."""
    b = login_as("viewer")
    _change(app)
    drawings = {}
    for language in ("zh_Hans_CN", "en"):
        with app.app_context():
            figures_cache().clear()
        with StatementCounter() as counter:
            response = b.get(f"/dashboard/charts/severity.svg?year={_year()}&lang={language}")
        assert response.status_code == 200
        drawings[language] = (response.headers["ETag"], response.get_data(as_text=True))
        # the stored chart, in this language: no statement counts a finding
        assert any("figure_snapshots.payload" in s for s in counter.statements)
        assert not [s for s in counter.statements if "findings" in s]
    with app.app_context():
        figures_cache().clear()
    app.config["DASHBOARD_REFRESH"] = False
    with app.app_context():
        db.session.execute(sa.delete(FigureSnapshot))
        db.session.commit()
    computed = b.get(f"/dashboard/charts/severity.svg?year={_year()}&lang=zh_Hans_CN")
    # the same data and drawing (the ETag is their digest; the SVG's element ids are random)
    assert drawings["zh_Hans_CN"][0] == computed.headers["ETag"]
    assert "Problems by risk level" in drawings["en"][1]
    assert "按风险等级统计问题" in drawings["zh_Hans_CN"][1]


def test_only_the_figure_classes_are_decoded():
    with pytest.raises(KeyError):
        snapshots.decode({"$": "Popen", "v": [["sh", "-c", "true"]]})
    with pytest.raises(TypeError):
        snapshots.encode(object())


def test_a_change_stores_the_home_and_the_annual_report_for_its_version(app, data, ahead):
    _change(app)
    with app.app_context():
        version = data_version()
        today = local_today()
        keys = snapshots.targets(today)
        assert {snapshots.stored_key(k): version for k in keys} == _rows(app)
        # what is stored is what the page would compute
        for key, compute in keys.items():
            assert snapshots.read(key, version) == compute()


def test_a_worker_reads_the_stored_figures_in_one_statement(app, login_as, data, ahead):
    b = login_as("viewer")
    _change(app)
    served, statements = _load(app, b)
    app.config["DASHBOARD_REFRESH"] = False
    with app.app_context():
        db.session.execute(sa.delete(FigureSnapshot))
        db.session.commit()
    computed, cold = _load(app, b)
    assert served == computed
    # the login, the data version, the stored figures and the bell: against the figures' own
    assert statements <= 5 < cold


def test_figures_of_another_version_are_never_served(app, login_as, data, make, ahead):
    b = login_as("viewer")
    _change(app)
    before, _n = _load(app, b)
    app.config["DASHBOARD_REFRESH"] = False  # the task has not run yet
    with app.app_context():
        rnd = db.session.get(Round, data["rounds"][0].id)
        inspection = make.inspection(round=rnd, status="submitted")
        finding_id = make.finding(inspection).id
        audit.record(None, "finding.create", object_type="Finding", object_id=finding_id)
        db.session.commit()
    after, statements = _load(app, b)
    assert int(after["findings"]) == int(before["findings"]) + 1
    assert statements > 5  # computed: the stored figures are of the version before


def test_answers_and_logins_queue_no_refresh(app, data, ahead):
    _change(app)
    stored = _rows(app)
    with app.app_context():
        made = db.session.scalar(sa.select(sa.func.max(FigureSnapshot.made_at)))
    for action in ("answer.update", "auth.login"):
        _change(app, action)
    assert _rows(app) == stored
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.max(FigureSnapshot.made_at))) == made


def test_a_task_finding_its_version_stored_computes_nothing(app, data, ahead):
    _change(app)
    with app.app_context():
        assert snapshots.refresh() == 0
        db.session.execute(sa.delete(FigureSnapshot))
        db.session.commit()
        assert snapshots.refresh() == _due()


def test_figures_older_than_the_cache_bound_are_not_served(app, login_as, data, ahead):
    b = login_as("viewer")
    _change(app)
    fresh, read = _load(app, b)
    with app.app_context():
        db.session.execute(
            sa.update(FigureSnapshot).values(made_at=utcnow() - timedelta(seconds=301))
        )
        db.session.commit()
    again, computed = _load(app, b)
    assert again == fresh and computed > read  # counted, not read


def test_stored_figures_are_kept_in_a_process_no_longer_than_the_bound(
    app, login_as, data, ahead, monkeypatch
):
    """Made 290 s ago by the task, they are kept 10 s more, not 300: then looked up again."""
    b = login_as("viewer")
    _change(app)
    with app.app_context():
        db.session.execute(
            sa.update(FigureSnapshot).values(made_at=utcnow() - timedelta(seconds=290))
        )
        db.session.commit()
    clock = [1000.0]
    monkeypatch.setattr("inspect_app.dashboard.cache.time.monotonic", lambda: clock[0])

    def payload_reads() -> int:
        with StatementCounter() as counter:
            b.get(f"/dashboard/?year={_year()}")
        return sum("figure_snapshots.payload" in s for s in counter.statements)

    with app.app_context():
        figures_cache().clear()
    assert payload_reads() == 1
    clock[0] += 9
    assert payload_reads() == 0  # kept
    clock[0] += 2
    assert payload_reads() == 1  # expired after 10 s: looked up again


def test_the_task_deletes_rows_of_earlier_days(app, data, ahead):
    _change(app)
    with app.app_context():
        db.session.add(
            FigureSnapshot(
                key="0" * 64, version=1, payload="[]", made_at=utcnow() - timedelta(days=3)
            )
        )
        db.session.execute(sa.delete(FigureSnapshot).where(FigureSnapshot.key != "0" * 64))
        db.session.commit()
        snapshots.refresh()
        assert db.session.get(FigureSnapshot, "0" * 64) is None


def test_an_unreadable_row_is_computed_again(app, data, ahead):
    _change(app)
    with app.app_context():
        db.session.execute(sa.update(FigureSnapshot).values(payload='{"$": "Popen", "v": []}'))
        key = next(iter(snapshots.targets(local_today())))
        assert snapshots.read(key, data_version()) is None


def test_a_queue_that_cannot_be_reached_costs_the_change_nothing(app, data, ahead, monkeypatch):
    def down(name):
        raise ConnectionError("the queue is down")

    monkeypatch.setattr(app.extensions["jobs"], "call", down)
    _change(app)
    with app.app_context():
        assert data_version() is not None
    assert _rows(app) == {}


def test_nothing_is_computed_ahead_with_the_cache_off(app, data):
    assert app.config["DASHBOARD_CACHE_SECONDS"] == 0  # the tests' setting
    _change(app)
    assert _rows(app) == {}


def test_the_renewal_computes_again_what_is_half_as_old_as_the_bound(app, data, ahead):
    _change(app)
    with app.app_context():
        assert snapshots.renew() == 0  # all just made
        overview = snapshots.stored_key(next(iter(snapshots.targets(local_today()))))
        db.session.execute(
            sa.update(FigureSnapshot)
            .where(FigureSnapshot.key == overview)
            .values(made_at=utcnow() - timedelta(seconds=151))
        )
        db.session.commit()
        assert snapshots.renew() == 1
        made = db.session.get(FigureSnapshot, overview).made_at
        assert made > utcnow() - timedelta(seconds=5)


def test_the_renewal_runs_every_minute_on_consumers_with_periodic_tasks(app):
    runtime = app.extensions["jobs"]
    registered = {task.name: task for task in runtime.huey._registry.periodic_tasks}
    task = registered[snapshots.RENEW_TASK]
    assert task.validate_datetime(datetime(2026, 12, 7, 10, 17))
    assert snapshots.TASK not in registered  # queued by the changes, not by the clock


def _lock(app, made_at):
    with app.app_context():
        db.session.add(FigureSnapshot(key=snapshots.LOCK, version=0, payload="", made_at=made_at))
        db.session.commit()


def test_a_refresh_finding_another_running_leaves_at_once(app, data, ahead):
    _lock(app, utcnow())
    _change(app)  # its task found the lock taken
    assert set(_rows(app)) == {snapshots.LOCK}
    with app.app_context():
        assert snapshots.refresh() == 0


def test_a_lock_left_by_a_killed_consumer_is_taken_over(app, data, ahead):
    _lock(app, utcnow() - snapshots.LOCK_STALE - timedelta(seconds=1))
    _change(app)
    rows = _rows(app)
    assert snapshots.LOCK not in rows  # taken, then let go
    with app.app_context():
        assert len(rows) == _due()


def test_a_change_made_while_a_refresh_computes_is_computed_before_it_leaves(
    app, data, ahead, monkeypatch
):
    """The change's own task leaves (the lock is held); the running refresh sees the version
    moved once it lets the lock go, and computes again. (The change is made as the lock is let
    go: in the tests every session shares one connection, and the computation's snapshot is
    rolled back at its end.)"""
    real = snapshots._let_go
    changed = []

    def let_go(mark):
        if not changed:
            changed.append(True)
            _change(app)  # committed while the lock is held, from another app context
        real(mark)

    monkeypatch.setattr(snapshots, "_let_go", let_go)
    with app.app_context():
        before = data_version()
        assert snapshots.refresh() == 2 * len(snapshots.targets(local_today()))
        assert data_version() == before + 1
    assert set(_rows(app).values()) == {before + 1}


def test_a_refresh_that_keeps_meeting_changes_queues_itself_again(app, data, ahead, monkeypatch):
    real = snapshots._let_go
    queued = []

    def let_go(mark):
        _change(app)  # every round meets a change
        real(mark)

    monkeypatch.setattr(snapshots, "_let_go", let_go)
    monkeypatch.setattr(snapshots, "ROUNDS", 2)
    monkeypatch.setattr(snapshots, "_queue_refresh", lambda app: queued.append(app))
    with app.app_context():
        due = _due()
        assert snapshots.refresh() == 2 * due  # two rounds, then queued again
    assert queued == [app]
    monkeypatch.setattr(snapshots, "_let_go", real)
    with app.app_context():  # the task queued again
        assert snapshots.refresh() == due
        version = data_version()
    assert set(_rows(app).values()) == {version}


def test_a_holder_whose_lock_was_taken_over_leaves_the_new_one(app, ahead):
    old, new = utcnow() - timedelta(minutes=3), utcnow()
    _lock(app, new)  # taken over from the holder that took it at `old`
    with app.app_context():
        snapshots._let_go(old)
        assert db.session.get(FigureSnapshot, snapshots.LOCK).made_at == new


def test_no_signal_after_a_rollback(app, ahead):
    sent = []

    def receiver(sender, **kw):
        sent.append(sender)

    audit.services.figures_changed.connect(receiver)
    try:
        with app.app_context():
            db.session.execute(sa.select(1))  # the transaction under way
            audit.record(None, "round.update", object_type="Round", object_id=1)
            db.session.rollback()
            db.session.commit()  # nothing left to tell
            assert sent == []
            audit.record(None, "round.update", object_type="Round", object_id=1)
            db.session.commit()
            assert len(sent) == 1
    finally:
        audit.services.figures_changed.disconnect(receiver)


def test_a_failing_computation_lets_the_lock_go_and_stores_nothing(app, data, ahead, monkeypatch):
    def broken(today):
        made = dict(real(today))
        made[list(made)[-1]] = lambda: 1 / 0  # after the others were written
        return made

    real = snapshots.targets
    monkeypatch.setattr(snapshots, "targets", broken)
    with app.app_context(), pytest.raises(ZeroDivisionError):
        snapshots.refresh()
    assert _rows(app) == {}


def test_each_charts_figures_are_counted_once_for_every_language(app, data, ahead, monkeypatch):
    counted = []
    real = services.chart_figures

    def counting(name, scope, today):
        counted.append(name)
        return real(name, scope, today)

    monkeypatch.setattr(services, "chart_figures", counting)
    with app.app_context():
        scopes = len([k for k in snapshots.targets(local_today()) if k[0] == "overview"])
        assert snapshots.refresh() == 1 + scopes * (1 + 5 * len(app.config["LANGUAGES"]))
    assert sorted(counted) == sorted(list(services.CHARTS) * scopes)


def test_only_the_keys_the_task_may_store_are_looked_for(app, ahead):
    with app.app_context():
        today = local_today()
        home = Scope(year=today.year)
        assert snapshots.storable(("overview", home, today))
        assert snapshots.storable(("annual", today.year, today))
        assert snapshots.storable(("chart", "severity", home, today, "en"))
        assert set(snapshots.targets(today)) == {
            key for key in snapshots.targets(today) if snapshots.storable(key)
        }
        # another day's, another year's or a department's or unit kind's are never looked for
        assert not snapshots.storable(("overview", home, today - timedelta(days=1)))
        assert not snapshots.storable(("annual", today.year - 1, today))
        assert not snapshots.storable(("overview", Scope(year=today.year - 1), today))
        assert snapshots.storable(("overview", Scope(year=today.year, round_id=1), today))
        # a view with a filter: stored once asked for (test_a_view_with_a_filter_is_kept_...)
        assert snapshots.storable(
            ("chart", "severity", Scope(year=today.year, department="PSB"), today, "en")
        )
        assert not snapshots.storable(("overview", Scope(year=today.year, unit_id=1), today))
        app.config["DASHBOARD_REFRESH"] = False
        assert not snapshots.storable(("overview", home, today))


def test_figures_made_in_the_future_by_a_clock_ahead_are_not_used(app, login_as, data, ahead):
    b = login_as("viewer")
    _change(app)
    with app.app_context():
        db.session.execute(
            sa.update(FigureSnapshot).values(made_at=utcnow() + timedelta(seconds=10))
        )
        db.session.commit()
    with app.app_context():
        figures_cache().clear()
    with StatementCounter() as counter:
        b.get(f"/dashboard/?year={_year()}")
    assert not any("figure_snapshots.payload" in s for s in counter.statements)


def test_the_bound_counts_from_when_the_data_was_read_not_written(app, data, ahead, monkeypatch):
    real = snapshots.targets
    first_computed = []

    def targets(today):
        made = dict(real(today))
        key = next(iter(made))
        compute = made[key]

        def timed():
            first_computed.append(utcnow())
            return compute()

        made[key] = timed
        return made

    monkeypatch.setattr(snapshots, "targets", targets)
    _change(app)
    with app.app_context():
        made = db.session.scalars(sa.select(FigureSnapshot.made_at)).all()
    assert made and max(made) <= first_computed[0]


def test_the_round_under_way_is_computed_ahead_too(app, login_as, data, ahead):
    """The home links to the round under way: its dashboard and charts are stored as well, and
    loading it after a change counts nothing."""
    round_id = data["rounds"][0].id
    with app.app_context():
        db.session.execute(sa.update(Round).values(status="closed"))
        db.session.execute(
            sa.update(Round).where(Round.id == round_id).values(status="active", year=_year())
        )
        db.session.commit()
    b = login_as("viewer")
    _change(app)
    with app.app_context():
        figures_cache().clear()
        assert ("overview", Scope(year=_year(), round_id=round_id), local_today()) in (
            snapshots.targets(local_today())
        )
    for url in (
        f"/dashboard/?year={_year()}&round={round_id}",
        f"/dashboard/charts/status.svg?year={_year()}&round={round_id}",
    ):
        with StatementCounter() as counter:
            assert b.get(url).status_code == 200
        assert any("figure_snapshots.payload" in s for s in counter.statements), url
        assert not [s for s in counter.statements if "findings" in s], url


# --- views asked for ---------------------------------------------------------------------------


def _asked(app) -> list[Scope]:
    with app.app_context():
        payloads = db.session.scalars(
            sa.select(FigureSnapshot.payload)
            .where(FigureSnapshot.key.startswith(snapshots.ASKED))
            .order_by(FigureSnapshot.made_at.desc())
        )
        return [snapshots.decode(json.loads(p)) for p in payloads]


def _forget_asking(app) -> None:
    """Another worker: nothing kept, nothing asked for lately."""
    app.extensions.pop(snapshots.ASKED_RECENTLY, None)
    with app.app_context():
        figures_cache().clear()


def _get(b, url: str) -> tuple[str, list[str]]:
    with StatementCounter() as counter:
        response = b.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True), counter.statements


def _counted(statements: list[str]) -> bool:
    return any("findings" in s for s in statements)


@pytest.fixture
def consumer(app, monkeypatch):
    """The keep tasks page loads queue, run when the test says, after the request, as a consumer
    runs them. (Inline, in the tests' immediate mode, a task run inside a GET request commits
    into the request's savepoint, which the request rolls back at its end.)"""
    queued = []
    runtime = app.extensions["jobs"]
    real = runtime.call

    def call(task, *args):
        if task == snapshots.KEEP_TASK:
            queued.append(args)
        else:
            real(task, *args)

    monkeypatch.setattr(runtime, "call", call)

    def run() -> int:
        ran = len(queued)
        while queued:
            real(snapshots.KEEP_TASK, *queued.pop(0))
        return ran

    return run


def test_a_view_with_a_filter_is_kept_ahead_once_asked_for(app, login_as, data, ahead, consumer):
    """The first load of a department's view counts its figures and asks the task to keep the
    view; then it and its charts are read as stored, also after a change."""
    b = login_as("viewer")
    _change(app)
    view = f"/dashboard/?year={_year()}&department=PSB&kind=soe"
    chart = f"/dashboard/charts/severity.svg?year={_year()}&department=PSB&kind=soe"
    _forget_asking(app)
    first, statements = _get(b, view)
    assert _counted(statements)
    assert consumer() == 1
    assert _asked(app) == [Scope(year=_year(), department="PSB", unit_kind="soe")]
    for _turn in range(2):
        _forget_asking(app)
        for url in (view, chart):
            html, statements = _get(b, url)
            assert any("figure_snapshots.payload" in s for s in statements), url
            assert not _counted(statements), url
        assert kpis(html if url == view else _get(b, view)[0]) == kpis(first)
        _change(app)  # its refresh computes the view again, for the new version
    # what was stored is what the page computes
    _forget_asking(app)
    app.config["DASHBOARD_REFRESH"] = False
    computed, statements = _get(b, view)
    assert _counted(statements) and kpis(computed) == kpis(first)


def test_the_home_is_not_asked_for(app, login_as, data, ahead, monkeypatch):
    asked = []
    monkeypatch.setattr(snapshots, "_queue", lambda app, task, *args: asked.append(task))
    b = login_as("viewer")
    _forget_asking(app)
    _get(b, f"/dashboard/?year={_year()}")  # the task has not run: computed, not asked for
    assert asked == []
    _get(b, f"/dashboard/?year={_year()}&department=CAC")
    assert asked == [snapshots.KEEP_TASK]


def test_a_process_asks_for_a_view_once_while_loads_race_the_task_then_hourly_while_used(
    app, data, ahead, monkeypatch
):
    asked = []
    monkeypatch.setattr(snapshots, "_queue", lambda app, task, *args: asked.append(args))
    clock = [1000.0]
    monkeypatch.setattr("inspect_app.dashboard.snapshots.time.monotonic", lambda: clock[0])
    with app.test_request_context():
        today = local_today()
        scope = Scope(year=today.year, department="CAC")
        for _load in range(3):  # loads before the task ran: one ask
            snapshots.computed(("overview", scope, today), None)
        for name in services.CHARTS:  # the page's charts: the page asked
            snapshots.computed(("chart", name, scope, today, "en"), None)
        snapshots.computed(("annual", today.year, today), None)  # stored anyway
        assert len(asked) == 1
        assert snapshots.decode(json.loads(asked[0][0])) == scope
        clock[0] += snapshots.QUIET + 1
        snapshots.used(("overview", scope, today))  # read as stored: asked again, then not
        clock[0] += snapshots.ASK_AGAIN - 1
        snapshots.used(("overview", scope, today))
        assert len(asked) == 2
        clock[0] += 2
        snapshots.used(("overview", scope, today))
        assert len(asked) == 3
        # a round that is not the year's: the page shows the year, nothing to keep
        dropped = Scope(year=today.year, round_id=999999)
        snapshots.computed(("overview", dropped, today), SimpleNamespace(round_dropped=True))
        snapshots.used(("overview", Scope(year=today.year), today))  # the home
        app.config["DASHBOARD_KEPT_VIEWS"] = 0
        try:
            snapshots.computed(("overview", Scope(year=today.year, department="PSB"), today), None)
        finally:
            app.config["DASHBOARD_KEPT_VIEWS"] = 12
        assert len(asked) == 3


def test_a_kept_view_in_use_stays_among_those_kept(app, login_as, data, ahead, consumer):
    """Its mark's time follows its use: a view read as stored asks again (once an hour in a
    process), so views opened once long ago go first."""
    app.config["DASHBOARD_KEPT_VIEWS"] = 2
    try:
        b = login_as("viewer")
        for code in ("CAC", "PSB"):
            _get(b, f"/dashboard/?year={_year()}&department={code}")
        assert consumer() == 2
        assert [s.department for s in _asked(app)] == ["PSB", "CAC"]
        _forget_asking(app)  # another process, or an hour later
        html, statements = _get(b, f"/dashboard/?year={_year()}&department=CAC")
        assert not _counted(statements)  # read as stored
        assert consumer() == 1
        assert [s.department for s in _asked(app)] == ["CAC", "PSB"]
        _get(b, f"/dashboard/?year={_year()}&department=MIIT")
        assert consumer() == 1
        assert [s.department for s in _asked(app)] == ["MIIT", "CAC"]  # PSB opened longest ago
    finally:
        app.config["DASHBOARD_KEPT_VIEWS"] = 12


def test_a_view_asked_for_while_another_refresh_runs_is_computed_by_the_renewal(app, data, ahead):
    scope = Scope(year=_year(), department="PSB")
    overview = snapshots.stored_key(("overview", scope, local_today()))
    _lock(app, utcnow())
    with app.app_context():
        assert snapshots.keep(json.dumps(snapshots.encode(scope))) == 0  # the lock is taken
    assert _asked(app) == [scope] and overview not in _rows(app)
    with app.app_context():
        db.session.execute(sa.delete(FigureSnapshot).where(FigureSnapshot.key == snapshots.LOCK))
        db.session.commit()
        assert snapshots.renew() > 0
    assert overview in _rows(app)


def test_a_mark_that_is_no_longer_a_view_of_the_year_is_dropped(app, data, ahead):
    round_id = data["rounds"][0].id
    with app.app_context():
        db.session.execute(sa.update(Round).where(Round.id == round_id).values(year=_year()))
        db.session.commit()
        gone = Scope(year=_year(), round_id=round_id)
        snapshots.keep(json.dumps(snapshots.encode(gone)))
        db.session.execute(sa.update(Round).where(Round.id == round_id).values(year=2000))
        db.session.commit()
        assert gone not in snapshots.asked_scopes(local_today(), set())
        snapshots.keep(json.dumps(snapshots.encode(Scope(year=_year(), department="CAC"))))
    assert _asked(app) == [Scope(year=_year(), department="CAC")]


@pytest.mark.parametrize(
    "payload",
    [
        '{"$":"Scope","v":[2000,null,"PSB",null,null]}',  # another year
        '{"$":"Scope","v":[YEAR,null,null,null,null]}',  # the home: computed anyway
        '{"$":"Scope","v":[YEAR,null,"FBI",null,null]}',  # a department we do not know
        '{"$":"Scope","v":[YEAR,null,null,"bank",null]}',  # a unit kind we do not know
        '{"$":"Scope","v":[YEAR,null,["PSB"],null,null]}',  # not a code
        '{"$":"Scope","v":[YEAR,999999,null,null,null]}',  # not a round of this year
        '{"$":"Scope","v":[YEAR,null,"PSB",null,1]}',  # one unit: not a dashboard view
        '{"$":"Scope","v":[YEAR.0,null,"PSB",null,null]}',  # a year that is not a whole number
        '{"$":"Scope","v":[true,null,"PSB",null,null]}',
        '{"$":"Scope","v":[YEAR]}',
        '{"$":"Popen","v":[]}',
        "not json",
    ],
)
def test_a_view_the_dashboard_does_not_show_is_not_kept(app, data, ahead, payload):
    with app.app_context():
        assert snapshots.keep(payload.replace("YEAR", str(_year()))) == 0
    assert _asked(app) == []


def test_a_round_of_this_year_is_a_view_to_keep(app, data, ahead):
    round_id = data["rounds"][0].id
    with app.app_context():
        db.session.execute(sa.update(Round).where(Round.id == round_id).values(year=_year()))
        db.session.commit()
        scope = Scope(year=_year(), round_id=round_id, department="CAC")
        assert snapshots.keep(json.dumps(snapshots.encode(scope))) > 0
        assert ("overview", scope, local_today()) in snapshots.targets(local_today())
    assert _asked(app) == [scope]


def test_only_the_views_asked_for_last_are_kept(app, data, ahead, monkeypatch):
    app.config["DASHBOARD_KEPT_VIEWS"] = 2
    try:
        with app.app_context():
            for code in ("CAC", "PSB", "MIIT"):
                scope = Scope(year=_year(), department=code)
                snapshots.keep(json.dumps(snapshots.encode(scope)))
            # asked for again: the newest now
            snapshots.keep(json.dumps(snapshots.encode(Scope(year=_year(), department="PSB"))))
            kept = {k[1] for k in snapshots.targets(local_today()) if k[0] == "overview"}
        assert [s.department for s in _asked(app)] == ["PSB", "MIIT"]
        assert set(_asked(app)) <= kept
        assert Scope(year=_year(), department="CAC") not in kept
    finally:
        app.config["DASHBOARD_KEPT_VIEWS"] = 12


def test_a_view_not_asked_for_in_a_week_is_dropped(app, data, ahead):
    with app.app_context():
        for code in ("CAC", "PSB"):
            snapshots.keep(json.dumps(snapshots.encode(Scope(year=_year(), department=code))))
        for code, days in (("CAC", 6), ("PSB", 8)):
            key = snapshots._asked_key(Scope(year=_year(), department=code))
            db.session.execute(
                sa.update(FigureSnapshot)
                .where(FigureSnapshot.key == key)
                .values(made_at=utcnow() - timedelta(days=days))
            )
        db.session.commit()
        snapshots.refresh()
    assert [s.department for s in _asked(app)] == ["CAC"]


def test_no_view_is_kept_when_none_are_to_be(app, login_as, data, ahead, consumer):
    app.config["DASHBOARD_KEPT_VIEWS"] = 0
    try:
        b = login_as("viewer")
        _forget_asking(app)
        _get(b, f"/dashboard/?year={_year()}&department=PSB")
        assert consumer() == 0  # not asked
        with app.app_context():
            assert (
                snapshots.keep(json.dumps(snapshots.encode(Scope(year=_year(), department="PSB"))))
                == 0
            )
        assert _asked(app) == []
    finally:
        app.config["DASHBOARD_KEPT_VIEWS"] = 12


def test_a_queue_that_cannot_be_reached_costs_the_view_nothing(
    app, login_as, data, ahead, monkeypatch
):
    def down(name, *args):
        raise ConnectionError("the queue is down")

    monkeypatch.setattr(app.extensions["jobs"], "call", down)
    b = login_as("viewer")
    _forget_asking(app)
    html, _statements = _get(b, f"/dashboard/?year={_year()}&department=PSB")
    assert kpis(html)
    assert _asked(app) == []
    assert app.extensions[snapshots.QUIET_UNTIL] > 0
