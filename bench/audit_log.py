"""The audit page over a large log: server time of its pages as ratios to a hello-world floor
measured in the same run.

    .venv/bin/python bench/audit_log.py                         # 2,000,000 events, SQLite
    .venv/bin/python bench/audit_log.py --events 500000 --database-url postgresql+psycopg://...

The log is filled by one INSERT … SELECT (no chain: the page does not read it) with what a
region's years look like: 200 accounts, every labelled action (answers nine events in ten),
objects of every kind, one event a minute going back. Measured, logged in as a coordinator:
GET /healthz (the floor); the newest page; a page far back (older than a tenth of the log);
one object's events (type and id); one actor's (by account); a family of actions; one
day. `--old` measures the same views as the code before audit/browse.py asked for them
(`?page=` for the page far back): run it from a checkout of that code.
"""

from __future__ import annotations

import argparse
import json
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
from inspect_app import create_app  # noqa: E402
from inspect_app.extensions import db  # noqa: E402
from inspect_app.labels import AUDIT_ACTION_LABELS  # noqa: E402

PASSWORD = "bench-password-42"
USERS = 200


def _fill(app, events: int) -> None:
    from werkzeug.security import generate_password_hash

    from inspect_app.models import User

    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        hashed = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
        db.session.add(User(username="bench_office", role="coordinator", password_hash=hashed))
        for n in range(USERS):
            db.session.add(
                User(
                    username=f"inspector{n:03d}",
                    display_name=f"检查员{n:03d}",
                    role="viewer",  # any role: the page reads only their ids and names
                    password_hash=hashed,
                )
            )
        db.session.commit()
        first_user = db.session.scalar(sa.select(sa.func.min(User.id)).where(User.role == "viewer"))
        others = [a for a in AUDIT_ACTION_LABELS if a != "answer.update"]
        conn = db.session.connection()
        postgres = conn.dialect.name == "postgresql"
        # Nine events in ten are answers; the rest every other action in turn.
        action = (
            "CASE WHEN g % 10 <> 0 THEN 'answer.update' ELSE (ARRAY[{}])[1 + (g / 10) % {}] END"
            if postgres
            else "CASE WHEN g % 10 <> 0 THEN 'answer.update' ELSE json_extract('[{}]', '$[' || ((g / 10) % {}) || ']') END"
        )
        quoted = ",".join(f"'{a}'" if postgres else f'"{a}"' for a in others)
        action = action.format(quoted, len(others))
        created = (
            "now() - make_interval(mins => :n - g)"
            if postgres
            else "datetime('now', '-' || (:n - g) || ' minutes')"
        )
        series = (
            "generate_series(1, :n) AS s(g)"
            if postgres
            else "(WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < :n) SELECT g FROM s)"
        )
        hashed_text = "md5(g::text) || md5((g + 1)::text)" if postgres else "printf('%064d', g)"
        name = (
            f"'inspector' || lpad((g % {USERS})::text, 3, '0')"
            if postgres
            else f"printf('inspector%03d', g % {USERS})"
        )
        conn.execute(
            sa.text(
                f"""INSERT INTO audit_events (created_at, actor_id, actor_name, action, object_type,
                  object_id, ip, chain, prev_hash, hash, hash_scheme)
                SELECT {created}, :first + g % {USERS}, {name},
                  {action}, CASE WHEN g % 10 <> 0 THEN 'Answer' ELSE 'Inspection' END,
                  CAST(g / 3 AS TEXT), '10.0.0.1', 1, '', {hashed_text}, 'bench'
                FROM {series}"""
            ),
            {"n": events, "first": first_user},
        )
        db.session.commit()
        # At rest, as autovacuum leaves an append-only table (PostgreSQL 13+ vacuums after
        # inserts too): statistics, and the visibility map that lets a count read only an index.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as rest:
            rest.execute(sa.text("VACUUM ANALYZE audit_events" if postgres else "ANALYZE"))


def _measure(client, url: str, runs: int) -> dict:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        response = client.get(url)
        samples.append(time.perf_counter() - start)
        assert response.status_code == 200
    return {"median_ms": statistics.median(samples) * 1000, "max_ms": max(samples) * 1000}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", help="PostgreSQL server to create a scratch database on")
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--old", action="store_true", help="the views as the older code asks")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="inspect-bench-"))
    url, drop = _database(args.database_url, folder)
    try:
        app = create_app(bench_config(url, folder))
        start = time.perf_counter()
        _fill(app, args.events)
        built_s = time.perf_counter() - start
        client = app.test_client()
        token = client.get("/api/v1/csrf").get_json()["csrf_token"]
        client.post(
            "/auth/login",
            data={"username": "bench_office", "password": PASSWORD, "csrf_token": token},
        )
        with app.app_context():
            newest = db.session.scalar(sa.text("SELECT max(id) FROM audit_events"))
            day = db.session.scalar(sa.text("SELECT min(created_at) FROM audit_events"))
        day = str(day)[:10]
        far = newest - args.events // 10
        views = {
            "floor": "/healthz",
            "newest page": "/audit/",
            "page far back": f"/audit/?page={args.events // 10 // 25}"
            if args.old
            else f"/audit/?before={far}",
            "one object": f"/audit/?object_type=Answer&object_id={args.events // 6}",
            "one actor": "/audit/?actor=inspector042",
            "a family": "/audit/?action=round." if args.old else "/audit/?action=round",
            "one day": f"/audit/?since={day}&until={day}",
        }
        results = {name: _measure(client, view, args.runs) for name, view in views.items()}
        floor = results["floor"]["median_ms"]
        backend = make_url(url).get_backend_name()
        print(f"\n{backend}, {args.events:,} events (filled in {built_s:.0f} s), {args.runs} runs")
        print(f"{'view':16} {'median ms':>10} {'max ms':>8} {'× floor':>8}")
        for name, r in results.items():
            r["ratio_to_floor"] = round(r["median_ms"] / floor, 1)
            print(f"{name:16} {r['median_ms']:>10.1f} {r['max_ms']:>8.1f} {r['ratio_to_floor']:>8}")
        out = ROOT / "bench" / "results"
        out.mkdir(exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        (out / f"audit_log-{backend}-{stamp}.json").write_text(json.dumps(results, indent=2))
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        drop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
