"""Load on PostgreSQL: answer batches from many tablets, against a floor route in the same run.

    .venv/bin/python bench/load.py                      # 32 and 64 clients, 60 s each
    .venv/bin/python bench/load.py --clients 32 --seconds 20

It creates a PostgreSQL database of its own (dropped at the end), migrates it and builds one
120-item checklist (real items from the shipped files), 32 inspections and 64 inspectors, two
per inspection; starts gunicorn with the project's gunicorn.conf.py (4 workers × 4 threads,
Redis for the login limits) serving `bench/load_app.py`, the app plus the floor route; then, for
each client count:

- **floor**: every client sends `POST /bench/floor` (the session loaded, CSRF checked, one row
  written) as fast as it is answered;
- **answers**: every client sends answer batches to its inspection as a tablet's outbox does
  (`POST /api/v1/inspections/<id>/answers`, 1–5 changes, each with a new change_id and the
  version it was made on), as fast as they are answered. The two inspectors of
  an inspection answer different items, except that one change in ten goes to one of four items
  both answer, so some changes meet a newer version (`conflict`: the tablet takes the server's
  answer, as fill.js does). Clients are closed loops with no think time: the worst case of a
  team syncing a morning's work at once.

The two run interleaved in `--slices` slices each (default 4: floor, answers, answers, floor,
floor, answers, answers, floor; --seconds in all for each), so that a drift of the machine's
speed, or the work one leaves the database (autovacuum, a checkpoint), falls on both alike.
Then **paced**: the same tablets each send one batch every `--pace` seconds.

Reported per phase: throughput, p50/p95/p99 of the client's wall time, errors (a status other
than 200, a connection error, a `rejected` change), and the ratio of answer batches per second to
floor requests per second. Afterwards it counts in the database that every change a client was
told is applied is stored exactly once (change_id is the key), that nothing is stored that no
client sent, that every answer holds its last acknowledged version and note, and that the audit
chain verifies. Goals (issue 13): zero errors; throughput ≥ 0.5× the floor's; p95 ≤ 250 ms at 32
clients. Results go to bench/results/ (git-ignored). `--profile DIR` profiles every request
(cProfile, werkzeug's ProfilerMiddleware: slower, for finding where the time goes, not for the
figures).

The fault drill: `--restart-postgres 10` restarts the local PostgreSQL cluster (pg_ctlcluster,
as root) ten seconds into each answers phase. The app is not restarted: requests caught by the
restart get a 503 (or no answer), the tablets send the same batch again until it is answered,
and the same count afterwards shows every acknowledged change stored exactly once. Stop
anything else that uses the server first.
"""

from __future__ import annotations

import argparse
import http.client
import http.cookies
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

SHARED_ITEMS = 4  # items both inspectors of an inspection answer
SHARED_SHARE = 0.1  # of the changes


# ---- the client ------------------------------------------------------------------------------


class Client:
    """One tablet: a kept-alive connection, its cookies and its CSRF token."""

    def __init__(self, port: int):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookies: dict[str, str] = {}
        self.token = ""

    def request(self, method: str, path: str, body: bytes | None = None, headers=None):
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
                break
            except (http.client.HTTPException, OSError):
                # The server closed a kept-alive connection (worker recycled): one new try.
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                if attempt == 2:
                    raise
        for value in response.headers.get_all("Set-Cookie") or []:
            cookie = http.cookies.SimpleCookie()
            cookie.load(value)
            for name, morsel in cookie.items():
                self.cookies[name] = morsel.value
        return response.status, data

    def login(self, username: str, password: str) -> None:
        status, page = self.request("GET", "/auth/login")
        token = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', page)
        if status != 200 or not token:
            raise RuntimeError(f"login page: HTTP {status}")
        form = urllib.parse.urlencode(
            {"csrf_token": token.group(1).decode(), "username": username, "password": password}
        ).encode()
        self.request(
            "POST", "/auth/login", form, {"Content-Type": "application/x-www-form-urlencoded"}
        )
        status, body = self.request("GET", "/api/v1/csrf")
        if status != 200:
            raise RuntimeError(f"login as {username}: /api/v1/csrf HTTP {status}")
        self.token = json.loads(body)["csrf_token"]

    def post_json(self, path: str, payload) -> tuple[int, bytes]:
        headers = {"Content-Type": "application/json", "X-CSRFToken": self.token}
        return self.request("POST", path, json.dumps(payload).encode(), headers)


@dataclass
class Phase:
    name: str
    clients: int
    seconds: float = 0.0
    requests: int = 0
    changes: int = 0
    latencies: list[float] = field(default_factory=list)
    outcomes: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    acked: dict[str, dict] = field(default_factory=dict)  # change_id -> what was applied
    failed_attempts: int = 0  # connection errors and 5xx, each followed by the same batch again
    failures: dict[str, int] = field(default_factory=dict)  # by status (0: no connection)
    restart: dict = field(default_factory=dict)  # the PostgreSQL restart, when one was made
    slices: int = 0  # the runs it was measured in (run_phase adds one each time)

    def summary(self) -> dict:
        lat = sorted(self.latencies) or [0.0]

        def pct(p: float) -> float:
            return round(lat[min(len(lat) - 1, int(len(lat) * p))] * 1000, 1)

        return {
            "phase": self.name,
            "clients": self.clients,
            "slices": self.slices,
            "seconds": round(self.seconds, 1),
            "requests": self.requests,
            "requests_per_s": round(self.requests / self.seconds, 1) if self.seconds else 0,
            "changes": self.changes,
            "changes_per_s": round(self.changes / self.seconds, 1) if self.seconds else 0,
            "p50_ms": pct(0.50),
            "p95_ms": pct(0.95),
            "p99_ms": pct(0.99),
            "mean_ms": round(statistics.fmean(lat) * 1000, 1),
            "outcomes": self.outcomes,
            "errors": len(self.errors),
            "first_errors": self.errors[:5],
            "failed_attempts_sent_again": self.failed_attempts,
            "failures": self.failures,
            **({"postgres_restart": self.restart} if self.restart else {}),
        }


class Tablet:
    """An inspector's tablet sending its outbox for one inspection."""

    def __init__(self, client: Client, inspection_id: int, items: list[int], parity: int, seed):
        self.client = client
        self.inspection_id = inspection_id
        self.shared = items[:SHARED_ITEMS]
        self.own = items[SHARED_ITEMS:][parity::2]
        self.versions: dict[int, int] = {}
        self.kinds: dict[int, str] = {}
        self.rng = random.Random(seed)
        self.n = 0
        self.user = ""

    def load(self) -> None:
        status, body = self.client.request("GET", f"/api/v1/inspections/{self.inspection_id}")
        if status != 200:
            raise RuntimeError(f"inspection {self.inspection_id}: HTTP {status}")
        detail = json.loads(body)
        self.kinds = {item["id"]: item["kind"] for item in detail["items"]}
        self.versions = {item_id: 0 for item_id in self.kinds}
        self.versions.update({a["item_id"]: a["version"] for a in detail["answers"]})

    def batch(self) -> list[dict]:
        size = self.rng.randint(1, 5)
        chosen: list[int] = []
        while len(chosen) < size:
            if self.rng.random() < SHARED_SHARE:
                item = self.rng.choice(self.shared)
            else:
                item = self.own[self.n % len(self.own)]
                self.n += 1
            if item not in chosen:
                chosen.append(item)
        changes = []
        for item in chosen:
            change = {
                "change_id": str(uuid.uuid4()),
                "item_id": item,
                "base_version": self.versions[item],
                "note": f"现场查看 {self.user} #{self.n} {self.rng.randrange(10**6)}",
            }
            if self.kinds[item] == "yes_no":
                change["result"] = self.rng.choice(("compliant", "compliant", "noncompliant"))
            changes.append(change)
        return changes

    def send(self, phase: Phase, lock: threading.Lock) -> None:
        """One batch, sent again unchanged after a connection error or a 5xx until it is
        answered (as the outbox does); its latency is the whole wait."""
        changes = self.batch()
        path = f"/api/v1/inspections/{self.inspection_id}/answers"
        started = time.perf_counter()
        for attempt in range(120):
            try:
                status, body = self.client.post_json(path, {"changes": changes})
            except OSError as exc:
                status, body = 0, str(exc).encode()
            if status == 200 or 400 <= status < 500:
                break
            with lock:
                phase.failed_attempts += 1
                phase.failures[str(status)] = phase.failures.get(str(status), 0) + 1
            time.sleep(min(0.1 * (attempt + 1), 1))
        took = time.perf_counter() - started
        with lock:
            phase.requests += 1
            phase.changes += len(changes)
            phase.latencies.append(took)
            if status != 200:
                phase.errors.append(f"HTTP {status}: {body[:200]!r}")
                return
        results = json.loads(body)["results"]
        with lock:
            for change, outcome in zip(changes, results, strict=True):
                kind = outcome["status"]
                phase.outcomes[kind] = phase.outcomes.get(kind, 0) + 1
                if kind in ("applied", "duplicate"):  # duplicate: applied by an earlier attempt
                    self.versions[change["item_id"]] = outcome["answer"]["version"]
                    phase.acked[change["change_id"]] = {
                        "inspection": self.inspection_id,
                        "item": change["item_id"],
                        "note": change["note"],
                        "version": outcome["answer"]["version"],
                    }
                elif kind == "conflict":  # the tablet takes the server's answer (fill.js)
                    self.versions[change["item_id"]] = outcome["server"]["version"]
                else:
                    phase.errors.append(f"{change['change_id']}: {kind} {outcome}")


def _floor_once(client: Client, phase: Phase, lock: threading.Lock, n: int) -> None:
    started = time.perf_counter()
    try:
        status, body = client.post_json("/bench/floor", {"n": n})
    except OSError as exc:
        status, body = 0, str(exc).encode()
    took = time.perf_counter() - started
    with lock:
        phase.requests += 1
        phase.latencies.append(took)
        if status != 200:
            phase.errors.append(f"HTTP {status}: {body[:200]!r}")
        else:
            phase.outcomes["ok"] = phase.outcomes.get("ok", 0) + 1


def _restart_postgres(phase: Phase, after: float) -> None:
    """Restart the local PostgreSQL cluster (Debian's pg_ctlcluster) `after` seconds in."""
    time.sleep(after)
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    began = time.perf_counter()
    done = subprocess.run(
        ["pg_ctlcluster", version, "main", "restart"], capture_output=True, text=True
    )
    phase.restart = {
        "at_s": after,
        "took_s": round(time.perf_counter() - began, 1),
        "ok": done.returncode == 0,
        "output": (done.stdout + done.stderr).strip()[:300],
    }


def run_phase(
    phase: Phase, tablets: list[Tablet], seconds: float, restart_at=None, pace: float = 0
) -> Phase:
    """Every tablet in a closed loop for `seconds`: as fast as it is answered, or with `pace`,
    one batch every `pace` seconds (from the start of one to the start of the next; at once
    when the last took longer, as the outbox sends what waits), the tablets' starts spread
    over the first interval."""
    lock = threading.Lock()
    start = threading.Barrier(len(tablets) + 1)
    stop_at = [0.0]

    def loop(tablet: Tablet, index: int) -> None:
        start.wait()
        n = 0
        next_at = time.perf_counter() + pace * index / len(tablets)
        while time.perf_counter() < stop_at[0]:
            if phase.name == "floor":
                n += 1
                _floor_once(tablet.client, phase, lock, index * 1_000_000 + n)
                continue
            if pace:
                wait = next_at - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
                if time.perf_counter() >= stop_at[0]:
                    break
                next_at = max(next_at + pace, time.perf_counter())
            tablet.send(phase, lock)

    threads = [threading.Thread(target=loop, args=(t, i)) for i, t in enumerate(tablets)]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    stop_at[0] = began + seconds
    start.wait()
    if restart_at is not None:
        restarter = threading.Thread(target=_restart_postgres, args=(phase, restart_at))
        restarter.start()
        threads.append(restarter)
    for thread in threads:
        thread.join()
    phase.slices += 1
    phase.seconds += time.perf_counter() - began  # a phase run in slices: their sum
    return phase


# ---- the server and its data -----------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _build(inspections: int) -> tuple[list[tuple[str, int]], list[int], str]:
    """Migrate the scratch database and make the data; returns (username, inspection) pairs in
    client order, the checklist's item ids, and the users' password."""
    sys.path.insert(0, str(ROOT / "tests"))
    from flask_migrate import upgrade

    from inspect_app import create_app
    from inspect_app.extensions import db
    from tests.factories import TEST_PASSWORD, Factory
    from tests.inspections.test_fill_page import shipped_items

    app = create_app({"PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
    with app.app_context():
        upgrade()
        with db.engine.begin() as conn:  # the floor route's table (bench/load_app.py)
            conn.exec_driver_sql(
                "CREATE TABLE bench_floor (id serial PRIMARY KEY, user_id integer NOT NULL,"
                " n integer NOT NULL, at timestamp NOT NULL)"
            )
        make = Factory()
        items = shipped_items(120)
        for item in items:
            item["evidence"] = "optional"
        template = make.template(key="LOAD", items=items, title="负载测试清单")
        rnd = make.round(year=2026, seq=6)
        dept = make.department(code="LOADD")
        pairs: list[tuple[str, int]] = []
        for n in range(inspections):
            team = [
                make.user(role="inspector", username=f"load{n:02d}{side}", department=dept)
                for side in "ab"
            ]
            inspection = make.inspection(
                template=template, unit=make.unit(code=f"L{n:03d}"), round=rnd, members=team
            )
            pairs += [(team[0].username, inspection.id), (team[1].username, inspection.id)]
        item_ids = [item.id for item in template.items]
        db.session.remove()
        db.engine.dispose()
    return pairs, item_ids, TEST_PASSWORD


def _wait_healthy(port: int, server: subprocess.Popen, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("gunicorn stopped while starting; see its log")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError("gunicorn did not answer /healthz")


def _verify(phases: list[Phase]) -> dict:
    """Count in the database what the clients were told; run the audit chain check."""
    from inspect_app import create_app
    from inspect_app.audit.services import verify_chain
    from inspect_app.extensions import db
    from inspect_app.models import Answer, AppliedChange, AuditEvent

    acked: dict[str, dict] = {}
    floor_ok = 0
    for phase in phases:
        acked.update(phase.acked)
        if phase.name == "floor":
            floor_ok += phase.outcomes.get("ok", 0)
    app = create_app()
    with app.app_context():
        stored = set(db.session.scalars(sa.select(AppliedChange.change_id)))
        counted = db.session.scalar(sa.select(sa.func.count()).select_from(AppliedChange))
        floor_rows = db.session.scalar(sa.text("SELECT count(*) FROM bench_floor"))
        answers = {(a.inspection_id, a.item_id): a for a in db.session.scalars(sa.select(Answer))}
        events, chain = verify_chain()
        chains = db.session.scalar(sa.select(sa.func.count(sa.distinct(AuditEvent.chain))))
        db.engine.dispose()
    last: dict[tuple[int, int], dict] = {}
    for change in acked.values():
        key = (change["inspection"], change["item"])
        if key not in last or change["version"] > last[key]["version"]:
            last[key] = change
    wrong = [
        key
        for key, c in last.items()
        if key not in answers
        or (answers[key].version, answers[key].note) != (c["version"], c["note"])
    ]
    return {
        "acknowledged": len(acked),
        "stored": counted,
        "lost": len(set(acked) - stored),
        "stored_unsent": len(stored - set(acked)),
        "answers_not_last_acknowledged": len(wrong),
        "floor_acknowledged": floor_ok,
        "floor_rows": floor_rows,
        "audit_events": events,
        "audit_chain": "ok" if chain is None else f"event {chain.event_id}: {chain.reason}",
        "audit_chains_used": chains,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/9")
    parser.add_argument("--clients", type=int, nargs="+", default=[32, 64])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument(
        "--pace",
        type=float,
        default=1.0,
        metavar="SECONDS",
        help="after the closed loops, a paced phase: each tablet sends a batch every SECONDS"
        " (0: none)",
    )
    parser.add_argument(
        "--slices",
        type=int,
        default=4,
        help="run the floor and answers phases in this many slices each, interleaved, for"
        " SECONDS in all (default 4; the drill runs one)",
    )
    parser.add_argument("--profile", help="profile every request into this folder (slow)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder and logs")
    parser.add_argument(
        "--restart-postgres",
        type=float,
        metavar="SECONDS",
        help="the fault drill: restart the local PostgreSQL this many seconds into each answers"
        " phase (needs root; stop anything else using the server first)",
    )
    args = parser.parse_args()
    if not 1 <= args.slices <= 60:
        parser.error("--slices: 1 to 60")
    if any(c < 2 or c % 2 or c > 200 for c in args.clients):
        parser.error("--clients: even numbers from 2 to 200 (two tablets per inspection)")

    base = make_url(args.database_url)
    if base.get_backend_name() != "postgresql":
        parser.error("--database-url: a PostgreSQL server (the load is measured on PostgreSQL)")
    name = f"inspect_load_{secrets.token_hex(4)}"
    # No pool: the drill restarts the server, and a kept connection would be dead after it.
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    work = Path(tempfile.mkdtemp(prefix="inspect-load-"))
    port = _free_port()
    run = name.removeprefix("inspect_")
    os.environ.update(
        {
            "INSPECT_DATABASE_URL": base.set(database=name).render_as_string(hide_password=False),
            "INSPECT_REDIS_URL": args.redis_url,
            "INSPECT_RATELIMIT_KEY_PREFIX": f"inspect-{run}",
            "INSPECT_JOBS_QUEUE_NAME": f"inspect-{run}",
            "INSPECT_SECRET_KEY": secrets.token_hex(32),
            "INSPECT_AUDIT_HMAC_KEY": secrets.token_hex(32),
            "INSPECT_UPLOAD_DIR": str(work / "evidence"),
            "INSPECT_JOBS_DIR": str(work / "jobs"),
            "INSPECT_EXPORT_DIR": str(work / "exports"),
            "INSPECT_AUDIT_ANCHOR_FILE": str(work / "anchors.log"),
            "INSPECT_GUNICORN_WORKERS": str(args.workers),
            "INSPECT_GUNICORN_THREADS": str(args.threads),
            "PYTHONPATH": str(ROOT),
        }
    )
    if args.profile:
        Path(args.profile).mkdir(parents=True, exist_ok=True)
        os.environ["BENCH_PROFILE_DIR"] = str(Path(args.profile).resolve())
    server = None
    phases: list[Phase] = []
    try:
        print(f"building data in {name} ...", flush=True)
        pairs, item_ids, password = _build(max(args.clients) // 2)
        log = (work / "gunicorn.log").open("w")  # closed with the work folder
        server = subprocess.Popen(  # noqa: SIM115
            [
                str(ROOT / ".venv" / "bin" / "gunicorn"),
                "--config",
                str(ROOT / "gunicorn.conf.py"),
                "--bind",
                f"127.0.0.1:{port}",
                "bench.load_app:app",
            ],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        _wait_healthy(port, server)
        print(
            f"gunicorn on :{port}, {args.workers} workers × {args.threads} threads; "
            f"{len(pairs) // 2} inspections of {len(item_ids)} items",
            flush=True,
        )
        for count in args.clients:
            tablets = []
            for index, (username, inspection_id) in enumerate(pairs[:count]):
                client = Client(port)
                client.login(username, password)
                tablet = Tablet(client, inspection_id, item_ids, index % 2, seed=index)
                tablet.user = username
                tablet.load()
                tablets.append(tablet)
            warm = Phase("warm-up", count)  # each tablet's first batch starts its inspection
            for tablet in tablets:
                tablet.send(warm, threading.Lock())
            phases.append(warm)
            floor, answers = Phase("floor", count), Phase("answers", count)
            if args.restart_postgres is not None:  # the drill: one answers phase, restarted
                run_phase(floor, tablets, args.seconds)
                run_phase(answers, tablets, args.seconds, args.restart_postgres)
            else:
                # Interleaved in slices, in turn first (floor, answers, answers, floor, …), so a
                # drift of the machine's speed, or the work one kind leaves the database
                # (autovacuum, a checkpoint), falls on both kinds alike.
                for n in range(args.slices):
                    pair = (floor, answers) if n % 2 == 0 else (answers, floor)
                    for phase in pair:
                        run_phase(phase, tablets, args.seconds / args.slices)
            for phase in (floor, answers):
                phases.append(phase)
                print(json.dumps(phase.summary(), ensure_ascii=False), flush=True)
            if args.pace and args.restart_postgres is None:
                phase = run_phase(Phase("paced", count), tablets, args.seconds, pace=args.pace)
                phases.append(phase)
                print(json.dumps(phase.summary(), ensure_ascii=False), flush=True)
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
    try:
        checks = _verify(phases) if phases else {}
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
        if args.keep:
            print(f"work folder kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    report = {"workers": args.workers, "threads": args.threads, "phases": [], "checks": checks}
    failed = []
    for count in args.clients:
        floor = next(p for p in phases if p.name == "floor" and p.clients == count)
        answers = next(p for p in phases if p.name == "answers" and p.clients == count)
        paced = next((p for p in phases if p.name == "paced" and p.clients == count), None)
        f, a = floor.summary(), answers.summary()
        ratio = a["requests_per_s"] / f["requests_per_s"] if f["requests_per_s"] else 0
        report["phases"] += [f, a]
        if paced is not None:
            report["phases"].append(paced.summary())
        print(
            f"{count:>3} clients: floor {f['requests_per_s']:.0f}/s p95 {f['p95_ms']} ms; "
            f"answers {a['requests_per_s']:.0f} batches/s ({a['changes_per_s']:.0f} changes/s) "
            f"p50 {a['p50_ms']} p95 {a['p95_ms']} p99 {a['p99_ms']} ms; "
            f"ratio {ratio:.2f}; errors {f['errors'] + a['errors']}; "
            f"sent again {a['failed_attempts_sent_again']} {a['failures'] or ''}"
        )
        if paced is not None:
            p = paced.summary()
            print(
                f"{count:>3} tablets paced at one batch per {args.pace:g} s: "
                f"{p['requests_per_s']:.0f} batches/s p50 {p['p50_ms']} p95 {p['p95_ms']} "
                f"p99 {p['p99_ms']} ms; errors {p['errors']}"
            )
            if p["errors"]:
                failed.append(f"{count} tablets paced: errors")
        if f["errors"] or a["errors"]:
            failed.append(f"{count} clients: errors")
        if args.restart_postgres is None and (
            f["failed_attempts_sent_again"] or a["failed_attempts_sent_again"]
        ):
            failed.append(f"{count} clients: requests failed and were sent again")
        if args.restart_postgres is not None and not answers.restart.get("ok"):
            failed.append(f"{count} clients: PostgreSQL was not restarted")
        if set(a["failures"]) - {"0", "502", "503", "504"}:  # a retry, yes; a 500, never
            failed.append(f"{count} clients: failures other than 503 {a['failures']}")
        if args.restart_postgres is not None:
            continue  # the drill: no speed goals, only that nothing is lost
        if ratio < 0.5:
            failed.append(f"{count} clients: throughput {ratio:.2f}× the floor (goal ≥ 0.5)")
        if count == 32 and a["p95_ms"] > 250:
            failed.append(f"32 clients: p95 {a['p95_ms']} ms (goal ≤ 250)")
    print("checks:", json.dumps(checks, ensure_ascii=False))
    if checks.get("lost") or checks.get("answers_not_last_acknowledged"):
        failed.append("changes lost or answers not at their last acknowledged version")
    if checks.get("floor_rows") != checks.get("floor_acknowledged"):
        failed.append("floor rows differ from the floor requests acknowledged")
    if checks.get("audit_chain") != "ok":
        failed.append(f"audit chain: {checks.get('audit_chain')}")
    report["goals_missed"] = failed
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / f"load-{time.strftime('%Y%m%d-%H%M%S')}.json").write_text(
        json.dumps(report, indent=2, ensure_ascii=False)
    )
    print("goals: all met" if not failed else "goals missed: " + "; ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
