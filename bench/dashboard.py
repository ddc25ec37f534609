"""The dashboard at a year's full size: SQL statements per page load and server time as a ratio to
a hello-world route measured in the same run.

    .venv/bin/python bench/dashboard.py                 # scale 1 on SQLite in a temporary folder
    .venv/bin/python bench/dashboard.py --scale 0.25 --database-url postgresql+psycopg://...

Scale 1 is the issue's year (6 rounds × 400 inspections × 120 items: 270,000 answers with the
sixth round under way, about 27,500 findings), built by tests/dashboard/builders.py. Measured, logged in as a viewer:
GET /healthz (the floor); the dashboard with its figures computed at every load (cold, the
cache off) and kept while the data is unchanged (warm, the default); the same with an answer
batch's audit event committed before each load (warm after answers: what a leader's page costs
while inspectors answer, which changes no figure); the first load after a change that moves a
figure, by a worker that has not computed them, once the job consumer's refresh task has stored
them (after change, ahead: dashboard/snapshots.py; the task is run here between loads, untimed);
one chart (warm, drawn); and the annual report (warm). Then a view with a filter (a lead
department): computed at every load (cold), and once it was asked for, the first load after a
change once the refresh task has stored it too (view after change, ahead). The cold load is
also split into the time of each statement and the rest (Python: the route, assembling the
figures, the template).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench.fill_page import _database, bench_config  # noqa: E402
from inspect_app import audit, create_app  # noqa: E402
from inspect_app.clock import local_today  # noqa: E402
from inspect_app.dashboard import snapshots  # noqa: E402
from inspect_app.dashboard.cache import figures_cache  # noqa: E402
from inspect_app.extensions import db  # noqa: E402
from inspect_app.reports.figures import Scope  # noqa: E402

# This year: the home the refresh task computes ahead is this year's (dashboard/snapshots.py).
YEAR = local_today().year
PASSWORD = "bench-password-42"
TRANSACTION = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


class Statements:
    def __init__(self):
        self.n = 0

    def __call__(self, conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(TRANSACTION):
            self.n += 1


def _build(app, scale: float) -> dict:
    from werkzeug.security import generate_password_hash

    from inspect_app.models import User
    from tests.dashboard.builders import build_year

    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        start = time.perf_counter()
        built = build_year(YEAR, scale)
        built["build_s"] = round(time.perf_counter() - start, 1)
        db.session.add(
            User(
                username="bench_viewer",
                role="viewer",
                password_hash=generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000"),
            )
        )
        db.session.commit()
        # A database at rest, as a served one is: planner statistics, and on SQLite the
        # write-ahead log folded back into the file (reads through a 300 MB log are slow).
        if db.engine.dialect.name == "sqlite":
            db.engine.dispose()
            with sqlite3.connect(db.engine.url.database) as raw:
                raw.execute("ANALYZE")
                raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        else:
            with db.engine.connect() as conn:
                conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
        return built


class Timings:
    """The time of each statement (from sending it to its result), for the cold load's profile."""

    def __init__(self):
        self.rows: list[tuple[float, str]] = []

    def before(self, conn, cursor, statement, parameters, context, executemany):
        context._bench_start = time.perf_counter()

    def after(self, conn, cursor, statement, parameters, context, executemany):
        head = " ".join(statement.split())[:70]
        self.rows.append((time.perf_counter() - context._bench_start, head))


def _profile(fn, runs: int) -> dict:
    """The cold load split into its statements and the rest (Python: the route, the figures'
    assembly, the template), each the median of the runs."""
    timings = Timings()
    sa.event.listen(sa.engine.Engine, "before_cursor_execute", timings.before)
    sa.event.listen(sa.engine.Engine, "after_cursor_execute", timings.after)
    totals, per_statement = [], []
    try:
        for _ in range(runs):
            timings.rows = []
            start = time.perf_counter()
            fn()
            totals.append(time.perf_counter() - start)
            per_statement.append(list(timings.rows))
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", timings.before)
        sa.event.remove(sa.engine.Engine, "after_cursor_execute", timings.after)
    sql = [sum(d for d, _head in rows) for rows in per_statement]
    statements = [
        {
            "ms": round(statistics.median(rows[i][0] for rows in per_statement) * 1000, 1),
            "sql": head,
        }
        for i, (_d, head) in enumerate(per_statement[0])
        if all(len(rows) > i for rows in per_statement)
    ]
    return {
        "total_ms": round(statistics.median(totals) * 1000, 1),
        "sql_ms": round(statistics.median(sql) * 1000, 1),
        "rest_ms": round(
            statistics.median(t - q for t, q in zip(totals, sql, strict=True)) * 1000, 1
        ),
        "statements": [s for s in statements if s["ms"] >= 0.5],
    }


def _measure(fn, runs: int, counter: Statements, between=None) -> dict:
    fn()  # warm up (and fill the cache, when it is on)
    samples, statements = [], []
    for _ in range(runs):
        if between is not None:
            between()  # not timed
        counter.n = 0
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
        statements.append(counter.n)
    ordered = sorted(samples)
    return {
        "median_ms": round(statistics.median(ordered) * 1000, 2),
        "p95_ms": round(ordered[max(int(len(ordered) * 0.95) - 1, 0)] * 1000, 2),
        "statements": max(statements),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--database-url", help="PostgreSQL server to create a scratch database on")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="inspect-bench-"))
    url, drop = _database(args.database_url, folder)
    try:
        app = create_app(
            bench_config(
                url,
                folder,
                # no consumer here: the tasks wait in a queue file of the bench's own, and the
                # bench runs the refresh task itself (after_change_ahead)
                JOBS_SQLITE_FILE=str(folder / "jobs.sqlite"),
                JOBS_DIR=str(folder / "jobs"),
            )
        )
        built = _build(app, args.scale)
        client = app.test_client()
        token = client.get("/api/v1/csrf").get_json()["csrf_token"]
        client.post(
            "/auth/login",
            data={"username": "bench_viewer", "password": PASSWORD, "csrf_token": token},
        )
        counter = Statements()
        sa.event.listen(sa.engine.Engine, "before_cursor_execute", counter)

        def get(url):
            def fetch():
                response = client.get(url)
                assert response.status_code == 200, (url, response.status_code)

            return fetch

        page = f"/dashboard/?year={YEAR}"
        results = {
            "backend": make_url(url).get_backend_name(),
            "scale": args.scale,
            "runs": args.runs,
            "data": built,
            "floor": _measure(get("/healthz"), args.runs, counter),
        }
        app.config["DASHBOARD_CACHE_SECONDS"] = 0
        cold_runs = max(3, args.runs // 5)
        results["dashboard_cold"] = _measure(get(page), cold_runs, counter)
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", counter)
        results["dashboard_cold_profile"] = _profile(get(page), cold_runs)
        sa.event.listen(sa.engine.Engine, "before_cursor_execute", counter)
        app.config["DASHBOARD_CACHE_SECONDS"] = 300
        results["dashboard_warm"] = _measure(get(page), args.runs, counter)

        def answered():  # what an answer batch adds: an answer.update event, committed
            with app.app_context():
                audit.record(None, "answer.update", object_type="Answer", object_id=1)
                db.session.commit()

        results["warm_after_answers"] = _measure(get(page), args.runs, counter, answered)

        def changed():  # a change that moves a figure, then what the job consumer does after it
            with app.app_context():
                audit.record(
                    None, "rectification.verify", object_type="RectificationItem", object_id=1
                )
                db.session.commit()
                started = time.perf_counter()
                snapshots.refresh()
                refreshes.append(time.perf_counter() - started)
                figures_cache().clear()  # the page loaded by a worker that computed nothing

        refreshes: list[float] = []
        results["after_change_ahead"] = _measure(get(page), args.runs, counter, changed)
        # the consumer's work after each such change: the home, its charts in each language and
        # the annual report, computed and stored
        results["refresh_task_ms"] = round(statistics.median(refreshes) * 1000, 1)
        # a view with a filter: computed, then kept once asked for (the page asks; no consumer
        # here, so the bench runs the keep task itself, untimed)
        view = f"/dashboard/?year={YEAR}&department=PSB"
        app.config["DASHBOARD_CACHE_SECONDS"] = 0
        results["view_cold"] = _measure(get(view), cold_runs, counter)
        app.config["DASHBOARD_CACHE_SECONDS"] = 300
        with app.app_context():
            snapshots.keep(json.dumps(snapshots.encode(Scope(year=YEAR, department="PSB"))))
        refreshes.clear()
        results["view_after_change_ahead"] = _measure(get(view), args.runs, counter, changed)
        results["refresh_task_with_view_ms"] = round(statistics.median(refreshes) * 1000, 1)
        results["chart_warm"] = _measure(
            get(f"/dashboard/charts/rounds.svg?year={YEAR}"), args.runs, counter
        )
        results["annual_warm"] = _measure(get(f"/dashboard/annual?year={YEAR}"), args.runs, counter)
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", counter)
        floor = results["floor"]["median_ms"]
        for name in (
            "dashboard_cold",
            "dashboard_warm",
            "warm_after_answers",
            "after_change_ahead",
            "chart_warm",
            "annual_warm",
            "view_cold",
            "view_after_change_ahead",
        ):
            results[name]["ratio_to_floor"] = round(results[name]["median_ms"] / floor, 1)
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        drop()
    print(json.dumps(results, indent=2, ensure_ascii=False))
    print(f"\n{'route':23} {'median ms':>10} {'p95 ms':>8} {'× floor':>8} {'statements':>10}")
    for name in (
        "floor",
        "dashboard_cold",
        "dashboard_warm",
        "warm_after_answers",
        "after_change_ahead",
        "chart_warm",
        "annual_warm",
        "view_cold",
        "view_after_change_ahead",
    ):
        r = results[name]
        print(
            f"{name:23} {r['median_ms']:>10} {r['p95_ms']:>8} "
            f"{r.get('ratio_to_floor', 1.0):>8} {r['statements']:>10}"
        )
    print(
        f"\nthe refresh task after a change (in the job consumer, not a page load): median"
        f" {results['refresh_task_ms']} ms; with one view kept: {results['refresh_task_with_view_ms']} ms"
    )
    profile = results["dashboard_cold_profile"]
    print(
        f"\ncold load, median of {cold_runs}: {profile['total_ms']} ms = SQL {profile['sql_ms']} ms"
        f" + the rest (Python) {profile['rest_ms']} ms; statements of 0.5 ms or more:"
    )
    for row in profile["statements"]:
        print(f"  {row['ms']:>7} ms  {row['sql']}")
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (out / f"dashboard-{results['backend']}-{args.scale}-{stamp}.json").write_text(
        json.dumps(results, indent=2, ensure_ascii=False)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
