"""The dashboard at a year's full size: SQL statements per page load and server time as a ratio to
a hello-world route measured in the same run.

    .venv/bin/python bench/dashboard.py                 # scale 1 on SQLite in a temporary folder
    .venv/bin/python bench/dashboard.py --scale 0.25 --database-url postgresql+psycopg://...

Scale 1 is the issue's year (6 rounds × 400 inspections × 120 items: 270,000 answers with the
sixth round under way, about 27,500 findings), built by tests/dashboard/builders.py. Measured, logged in as a viewer:
GET /healthz (the floor); the dashboard with its figures computed at every load (cold, the
cache off) and kept while the data is unchanged (warm, the default); one chart (warm, drawn);
and the annual report (warm).
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

from bench.fill_page import _database  # noqa: E402
from inspect_app import create_app  # noqa: E402
from inspect_app.extensions import db  # noqa: E402

YEAR = 2026
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


def _measure(fn, runs: int, counter: Statements) -> dict:
    fn()  # warm up (and fill the cache, when it is on)
    samples, statements = [], []
    for _ in range(runs):
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
            {
                "TESTING": True,
                "SECRET_KEY": "bench" * 8,
                "SQLALCHEMY_DATABASE_URI": url,
                "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
                "UPLOAD_DIR": str(folder / "uploads"),
                "AUDIT_ANCHOR_FILE": str(folder / "anchors.log"),
                "MFA_REQUIRED_ROLES": (),
            }
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
        app.config["DASHBOARD_CACHE_SECONDS"] = 300
        results["dashboard_warm"] = _measure(get(page), args.runs, counter)
        results["chart_warm"] = _measure(
            get(f"/dashboard/charts/rounds.svg?year={YEAR}"), args.runs, counter
        )
        results["annual_warm"] = _measure(get(f"/dashboard/annual?year={YEAR}"), args.runs, counter)
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", counter)
        floor = results["floor"]["median_ms"]
        for name in ("dashboard_cold", "dashboard_warm", "chart_warm", "annual_warm"):
            results[name]["ratio_to_floor"] = round(results[name]["median_ms"] / floor, 1)
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        drop()
    print(json.dumps(results, indent=2, ensure_ascii=False))
    print(f"\n{'route':16} {'median ms':>10} {'p95 ms':>8} {'× floor':>8} {'statements':>10}")
    for name in ("floor", "dashboard_cold", "dashboard_warm", "chart_warm", "annual_warm"):
        r = results[name]
        print(
            f"{name:16} {r['median_ms']:>10} {r['p95_ms']:>8} "
            f"{r.get('ratio_to_floor', 1.0):>8} {r['statements']:>10}"
        )
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (out / f"dashboard-{results['backend']}-{args.scale}-{stamp}.json").write_text(
        json.dumps(results, indent=2, ensure_ascii=False)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
