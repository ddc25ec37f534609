"""The load of deploy/local-cluster.sh: tablets sending answer batches through nginx, then a
count of what the database holds against what they were told.

    python deploy/cluster_load.py load --base URL --seconds 20 --out result.json USER:INSPECTION...
    python deploy/cluster_load.py job --base URL --user viewer --year 2026
    python deploy/cluster_load.py verify result.json       # INSPECT_* variables name the app

`load` uses only the standard library (it is a client). Every thread logs in as an inspector and
sends batches of three note changes on its own inspection, each change with a new change_id and
the version it was made on, like the tablet's outbox. A batch that fails (connection error, 5xx)
is sent again, unchanged, until it is answered. `verify` then counts, in the database: every
change a client was told is applied or duplicate is stored exactly once, no change is stored
that no client sent, and every answer's version and note are those of its last applied change.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import re
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

PASSWORD = "demo-pass-2026"
RETRIABLE = {502, 503, 504}
BATCH = 3


class Client:
    """A logged-in session through the proxy (cookies kept, CSRF header sent)."""

    def __init__(self, base: str):
        self.base = base.rstrip("/")
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        self.token = ""

    def request(self, method: str, path: str, body: bytes | None = None, headers=None):
        req = urllib.request.Request(
            self.base + path, data=body, method=method, headers=headers or {}
        )
        try:
            with self.opener.open(req, timeout=15) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as err:
            return err.code, err.read()

    def login(self, username: str) -> None:
        status, page = self.request("GET", "/auth/login")
        token = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', page)
        if status != 200 or not token:
            raise RuntimeError(f"login page: HTTP {status}")
        form = urllib.parse.urlencode(
            {"csrf_token": token.group(1).decode(), "username": username, "password": PASSWORD}
        ).encode()
        status, _ = self.request(
            "POST", "/auth/login", form, {"Content-Type": "application/x-www-form-urlencoded"}
        )
        me_status, _ = self.request("GET", "/api/v1/me")
        if me_status != 200:
            raise RuntimeError(f"login as {username} failed (HTTP {status}, /me {me_status})")
        self.token = json.loads(self.request("GET", "/api/v1/csrf")[1])["csrf_token"]

    def post_json(self, path: str, payload) -> tuple[int, bytes]:
        headers = {"Content-Type": "application/json", "X-CSRFToken": self.token}
        return self.request("POST", path, json.dumps(payload).encode(), headers)


@dataclass
class Tally:
    sent: int = 0  # changes sent (each once; its retries are not counted here)
    batches: int = 0
    retries: int = 0  # batches sent again after a connection error or 5xx
    statuses: dict[str, int] = field(default_factory=dict)
    acked: dict[str, dict] = field(default_factory=dict)  # change_id -> outcome
    unanswered: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)


def run_tablet(base, username, inspection_id, stop_at, tally, lock, pause) -> None:
    client = Client(base)
    try:
        client.login(username)
        status, body = client.request("GET", f"/api/v1/inspections/{inspection_id}")
        if status != 200:
            raise RuntimeError(f"inspection {inspection_id}: HTTP {status}")
        detail = json.loads(body)
    except (RuntimeError, OSError, ValueError) as exc:
        with lock:
            tally.errors.append(f"{username}/{inspection_id}: {exc}")
        return
    items = [item["id"] for item in detail["items"]]
    versions = {item_id: 0 for item_id in items}
    versions.update({a["item_id"]: a["version"] for a in detail["answers"]})
    path = f"/api/v1/inspections/{inspection_id}/answers"
    n = 0
    while time.monotonic() < stop_at:
        changes = []
        for _ in range(BATCH):
            item_id = items[n % len(items)]
            n += 1
            changes.append(
                {
                    "change_id": str(uuid.uuid4()),
                    "item_id": item_id,
                    "base_version": versions[item_id],
                    "note": f"cluster load {username} #{n}",
                }
            )
        results = None
        for attempt in range(40):  # the same batch, unchanged, until it is answered
            started = time.monotonic()
            try:
                status, body = client.post_json(path, {"changes": changes})
            except OSError as exc:
                status, body = 0, str(exc).encode()
            if status == 200:
                results = json.loads(body)["results"]
                with lock:
                    tally.latencies.append(time.monotonic() - started)
                break
            if status and status not in RETRIABLE:
                with lock:
                    tally.errors.append(f"HTTP {status}: {body[:200]!r}")
                break
            with lock:
                tally.retries += 1
            time.sleep(min(0.2 * (attempt + 1), 2))
        with lock:
            tally.sent += len(changes)
            tally.batches += 1
            if results is None:
                tally.unanswered += [c["change_id"] for c in changes]
                continue
            for change, outcome in zip(changes, results, strict=True):
                tally.statuses[outcome["status"]] = tally.statuses.get(outcome["status"], 0) + 1
                if outcome["status"] in ("applied", "duplicate"):
                    versions[change["item_id"]] = outcome["answer"]["version"]
                    tally.acked[change["change_id"]] = {
                        "inspection": inspection_id,
                        "item": change["item_id"],
                        "note": change["note"],
                        "version": outcome["answer"]["version"],
                    }
                else:
                    tally.errors.append(f"{change['change_id']}: {outcome['status']}")
        time.sleep(pause)


def load(args) -> int:
    tally, lock = Tally(), threading.Lock()
    started = datetime.now(UTC).replace(tzinfo=None) - timedelta(seconds=1)
    stop_at = time.monotonic() + args.seconds
    threads = []
    for spec in args.tablets:
        username, inspection = spec.split(":")
        threads.append(
            threading.Thread(
                target=run_tablet,
                args=(args.base, username, int(inspection), stop_at, tally, lock, args.pause),
            )
        )
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    lat = sorted(tally.latencies) or [0.0]
    summary = {
        "batches": tally.batches,
        "changes_sent": tally.sent,
        "outcomes": tally.statuses,
        "client_retries": tally.retries,
        "unanswered": len(tally.unanswered),
        "errors": tally.errors[:20],
        "p50_ms": round(lat[len(lat) // 2] * 1000),
        "p95_ms": round(lat[int(len(lat) * 0.95)] * 1000),
    }
    print(json.dumps(summary, ensure_ascii=False))
    with open(args.out, "w") as fh:
        json.dump(
            {
                **summary,
                "started": started.isoformat(),
                "inspections": sorted({int(t.split(":")[1]) for t in args.tablets}),
                "acked": tally.acked,
                "unanswered_ids": tally.unanswered,
            },
            fh,
        )
    return 1 if tally.errors or tally.unanswered or not tally.batches else 0


def job(args) -> int:
    """A year workbook started through the proxy, built by the consumer, fetched again."""
    client = Client(args.base)
    client.login(args.user)
    status, page = client.request("GET", "/exports/")
    token = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', page)
    form = urllib.parse.urlencode(
        {"csrf_token": token.group(1).decode(), "kind": "export.year", "year": args.year}
    ).encode()
    req_headers = {"Content-Type": "application/x-www-form-urlencoded"}
    status, page = client.request("POST", "/exports/start", form, req_headers)
    job_id = re.search(rb"/jobs/([0-9a-f-]{36})/status", page) or re.search(
        rb"/jobs/([0-9a-f-]{36})", page
    )
    if status != 200 or not job_id:
        print(f"job: could not start (HTTP {status})")
        return 1
    job_id = job_id.group(1).decode()
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        status, body = client.request("GET", f"/jobs/{job_id}/status")
        state = json.loads(body) if status == 200 else {"status": f"HTTP {status}"}
        if state.get("status") in ("done", "failed"):
            break
        time.sleep(1)
    if state.get("status") != "done":
        print(f"job {job_id}: {state.get('status')} {state.get('error') or ''}")
        return 1
    status, data = client.request("GET", f"/jobs/{job_id}/file")
    ok = status == 200 and data[:2] == b"PK"
    print(f"job {job_id}: done by the consumer, {len(data)} bytes fetched through nginx")
    return 0 if ok else 1


def tablets(args) -> int:
    """Print USERNAME:INSPECTION for up to --count inspections open for filling (demo data)."""
    import sqlalchemy as sa

    from inspect_app import create_app
    from inspect_app.extensions import db
    from inspect_app.models import Inspection, InspectionMember, Round, User

    app = create_app()
    with app.app_context():
        rows = db.session.execute(
            sa.select(Inspection.id, sa.func.min(InspectionMember.user_id))
            .join(Round, Round.id == Inspection.round_id)
            .join(InspectionMember, InspectionMember.inspection_id == Inspection.id)
            .where(Inspection.status.in_(("planned", "in_progress")), Round.status == "active")
            .group_by(Inspection.id)
            .order_by(Inspection.id)
            .limit(args.count)
        ).all()
        print(" ".join(f"{db.session.get(User, user).username}:{ident}" for ident, user in rows))
    return 0 if rows else 1


def verify(args) -> int:
    import sqlalchemy as sa

    from inspect_app import create_app
    from inspect_app.extensions import db
    from inspect_app.models import Answer, AppliedChange

    with open(args.result) as fh:
        result = json.load(fh)
    acked, unanswered = result["acked"], set(result["unanswered_ids"])
    inspections = set(result["inspections"])
    app = create_app()
    with app.app_context():
        stored = set(
            db.session.scalars(
                sa.select(AppliedChange.change_id).where(
                    AppliedChange.inspection_id.in_(inspections),
                    AppliedChange.created_at >= datetime.fromisoformat(result["started"]),
                )
            )
        )
        unknown = stored - set(acked) - unanswered  # stored, yet no client sent it
        lost = sorted(set(acked) - stored)
        answers = {
            (a.inspection_id, a.item_id): a
            for a in db.session.scalars(
                sa.select(Answer).where(Answer.inspection_id.in_(inspections))
            )
        }
    last = {}
    for change in acked.values():
        key = (change["inspection"], change["item"])
        if key not in last or change["version"] > last[key]["version"]:
            last[key] = change
    wrong = [
        f"{key}: stored v{answers[key].version} {answers[key].note!r}, expected v{c['version']}"
        for key, c in last.items()
        if key not in answers
        or answers[key].version != c["version"]
        or answers[key].note != c["note"]
    ]
    print(
        f"verify: {len(acked)} changes acknowledged to clients, {len(stored)} stored "
        f"(each once: change_id is the key), {len(lost)} lost, {len(unknown)} stored that no "
        f"client sent, {len(wrong)} answers differing from their last acknowledged change"
    )
    for line in lost[:10] + sorted(unknown)[:10] + wrong[:10]:
        print("  ", line)
    return 1 if lost or unknown or wrong or not acked else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("load")
    p.add_argument("--base", required=True)
    p.add_argument("--seconds", type=float, default=20)
    p.add_argument("--pause", type=float, default=0.1, help="seconds between a tablet's batches")
    p.add_argument("--out", required=True)
    p.add_argument("tablets", nargs="+", help="USERNAME:INSPECTION_ID, one thread each")
    p = sub.add_parser("job")
    p.add_argument("--base", required=True)
    p.add_argument("--user", default="viewer")
    p.add_argument("--year", required=True)
    p.add_argument("--timeout", type=float, default=120)
    p = sub.add_parser("tablets")
    p.add_argument("--count", type=int, default=4)
    p = sub.add_parser("verify")
    p.add_argument("result")
    args = parser.parse_args()
    commands = {"load": load, "job": job, "tablets": tablets, "verify": verify}
    return commands[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
