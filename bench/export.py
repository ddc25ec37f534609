"""The year workbook against a floor: openpyxl write-only writing the same cells from tuples.

For each scale (1 = 6 rounds × 400 inspections × 120 items = 288,000 answers, about 30,000
findings) it fills a scratch database with bulk inserts, then, each in a fresh child process:
(a) our year export (queries, mapping, safe cells, styles, charts) and (b) the floor, which first
collects the very rows our export writes (untimed) and then times plain `ws.append` of them into
a write-only workbook with the same sheets (a third child collects those rows and pickles them,
so the floor's process holds its rows but never ran our export). Time is wall-clock (CPU time is
printed too: on a shared machine it is the steadier of the two). Memory is measured twice:
- peak RSS of each child process (VmHWM after the timed run, see _rss): everything the
  process held, the floor's input rows included (it cannot write them without holding them);
- tracemalloc's peak over a second, untimed run of each (tracing slows what it traces), counting
  only what the run itself allocates: the floor's rows, loaded before, are not counted.
The 1-minute load average before and after each scale is printed: figures taken under load
are not comparable.

    .venv/bin/python bench/export.py                       # scales 0.25 0.5 1 on SQLite
    .venv/bin/python bench/export.py --scales 0.25 --database-url postgresql+psycopg://...
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

YEAR = 2026
ITEMS = 120
PER_ROUND = 400
TODAY = date(2026, 12, 20)


def _config(url: str, folder: Path) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "bench-secret-key-not-for-production",
        "AUDIT_HMAC_KEY": "bench-audit-hmac-key-not-for-production-0123",
        "AUDIT_ANCHOR_FILE": str(folder / "anchors.log"),
        "SQLALCHEMY_DATABASE_URI": url,
        "UPLOAD_DIR": str(folder / "uploads"),
        "EXPORT_DIR": str(folder / "exports"),
        "MFA_REQUIRED_ROLES": (),
    }


def _database(url: str | None, folder: Path, scale: float):
    if not url:
        return f"sqlite:///{folder / f'bench-{scale}.sqlite'}", lambda: None
    base = make_url(url)
    name = f"inspect_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')

    def drop():
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()

    return base.set(database=name).render_as_string(hide_password=False), drop


# --- the synthetic year ---------------------------------------------------------------------------


def generate(scale: float) -> dict[str, int]:
    """Bulk-insert a year at this scale into the app's (migrated, empty) database."""
    from inspect_app.extensions import db
    from inspect_app.models import (
        Answer,
        ChecklistItem,
        ChecklistTemplate,
        Department,
        Finding,
        Inspection,
        RectificationEvent,
        RectificationItem,
        Round,
        Unit,
        User,
        Visit,
    )

    units = max(1, int(PER_ROUND * scale))
    conn = db.session.connection()

    def insert(model, rows):
        for start in range(0, len(rows), 20_000):
            conn.execute(sa.insert(model.__table__), rows[start : start + 20_000])

    insert(
        Department,
        [{"id": 1, "code": "CAC", "name": "网信"}, {"id": 2, "code": "PSB", "name": "公安"}],
    )
    insert(
        User,
        [
            {
                "id": 1,
                "username": "bench",
                "display_name": "王协调",
                "password_hash": "x",
                "role": "coordinator",
            }
        ],
    )
    insert(
        Unit,
        [
            {"id": u, "code": f"B{u:04d}", "name": f"基准测试单位{u}", "kind": "soe"}
            for u in range(1, units + 1)
        ],
    )
    insert(
        ChecklistTemplate,
        [
            {
                "id": 1,
                "key": "BENCH",
                "version": "1",
                "title": "基准清单",
                "target": "unit",
                "sha256": "0" * 64,
            }
        ],
    )
    insert(
        ChecklistItem,
        [
            {
                "id": i,
                "template_id": 1,
                "position": i,
                "code": f"BN-{i:03d}",
                "section_title": f"第{(i - 1) // 20 + 1}部分",
                "text": f"第{i}项：是否落实网络安全等级保护制度要求并留存相关记录？",
                "lead_department": ("CAC", "PSB")[i % 2],
                "legal_basis": [
                    {"law": "网络安全法", "article": "第23条", "article_pre2026": "第21条"}
                ],
            }
            for i in range(1, ITEMS + 1)
        ],
    )
    insert(
        Round,
        [
            {
                "id": s,
                "year": YEAR,
                "seq": s,
                "title": f"{YEAR}年第{s}轮检查",
                "start_date": date(YEAR, 2 * s - 1, 1),
                "end_date": date(YEAR, 2 * s - 1, 25),
                "status": "closed",
            }
            for s in range(1, 7)
        ],
    )
    inspections, visits, answers, findings, items, events = [], [], [], [], [], []
    statuses = ("open", "submitted", "returned", "closed", "closed", "risk_accepted")
    answer_id = finding_id = event_id = 0
    for seq in range(1, 7):
        for u in range(1, units + 1):
            iid = (seq - 1) * units + u
            served = date(YEAR, 2 * seq - 1, 10)
            visits.append(
                {
                    "id": iid,
                    "round_id": seq,
                    "unit_id": u,
                    "scheduled_on": served - timedelta(days=3),
                    "notice_status": "approved",
                    "notice_number": f"示网信整改〔{YEAR}〕第{iid}号",
                    "notice_served_on": served,
                }
            )
            inspections.append(
                {
                    "id": iid,
                    "round_id": seq,
                    "visit_id": iid,
                    "unit_id": u,
                    "template_id": 1,
                    "status": "submitted",
                    "scheduled_on": served - timedelta(days=3),
                }
            )
            bad = {((iid * 7 + k * 13) % ITEMS) + 1 for k in range(12 + iid % 2)}
            for item in range(1, ITEMS + 1):
                answer_id += 1
                noncompliant = item in bad
                answers.append(
                    {
                        "id": answer_id,
                        "inspection_id": iid,
                        "item_id": item,
                        "result": "noncompliant" if noncompliant else "compliant",
                        "note": "现场查看相关记录" if item % 3 else "",
                        "finding_description": "未落实该项要求，记录缺失" if noncompliant else "",
                        "version": 1,
                    }
                )
                if not noncompliant:
                    continue
                finding_id += 1
                status = statuses[finding_id % len(statuses)]
                findings.append(
                    {
                        "id": finding_id,
                        "code": f"{YEAR}-R{seq}-B{u:04d}-{finding_id}",
                        "inspection_id": iid,
                        "item_id": item,
                        "unit_id": u,
                        "description": f"检查发现：第{item}项要求未落实，相关日志留存不足六个月",
                        "category": "mlps",
                        "severity": ("high", "medium", "low")[item % 3],
                        "legal_basis": [{"law": "网络安全法", "article": "第23条"}],
                        "required_action": "立即整改并报送整改报告",
                        "repeat_of_id": finding_id - 1 if seq > 1 and item % 10 == 0 else None,
                    }
                )
                closed = status == "closed"
                items.append(
                    {
                        "id": finding_id,
                        "finding_id": finding_id,
                        "unit_id": u,
                        "due_date": served + timedelta(days=30),
                        "status": status,
                        "responsible_person": "赵六",
                        "responsible_phone": "13800000000",
                        "closed_at": datetime(YEAR, 2 * seq, 5, 2) if closed else None,
                        "closed_by_id": 1 if closed else None,
                    }
                )
                if status in ("submitted", "closed", "returned"):
                    event_id += 1
                    events.append(
                        {
                            "id": event_id,
                            "item_id": finding_id,
                            "kind": "response",
                            "actor_id": 1,
                            "data": {
                                "measures": "已制定制度并完成整改",
                                "completed_on": f"{YEAR}-0{min(seq, 9)}-01",
                            },
                        }
                    )
                if closed:
                    event_id += 1
                    events.append(
                        {
                            "id": event_id,
                            "item_id": finding_id,
                            "kind": "verified",
                            "actor_id": 1,
                            "data": {
                                "recheck": {
                                    "checked_on": f"{YEAR}-0{min(seq, 9)}-03",
                                    "checked_by": "李复查",
                                }
                            },
                        }
                    )
    insert(Visit, visits)
    insert(Inspection, inspections)
    insert(Answer, answers)
    insert(Finding, findings)
    insert(RectificationItem, items)
    insert(RectificationEvent, events)
    db.session.commit()
    return {"answers": len(answers), "findings": len(findings), "events": len(events)}


# --- the two measurements (each in a child process) ---------------------------------------------


def _traced(fn) -> int:
    """Peak bytes Python allocated while fn ran (memory held before it is not counted)."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _rss() -> int:
    """This process's peak resident set so far, in bytes: VmHWM of /proc/self/status on Linux.
    Not getrusage's ru_maxrss: Linux carries that over execve from the forked parent, so every
    child would report at least the size of the bench process that filled the database."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _timed(fn) -> dict:
    start, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return {"seconds": time.perf_counter() - start, "cpu": time.process_time() - cpu, "out": out}


def child(mode: str, url: str, folder: Path) -> dict:
    """One measurement in a fresh process. "ours": time our export, note the process's peak
    RSS, then tracemalloc's peak over a second run (tracing slows what it traces, so it never
    runs during the timed one). "collect": run our export once, keeping every row it writes,
    and pickle them for "floor": load those rows (untimed), then time writing them plainly,
    note the peak RSS (the rows it must hold included), then trace a second write."""
    from inspect_app import create_app
    from inspect_app.exports import build_year

    app = create_app(_config(url, folder))
    rows_file = folder / "floor-rows.pickle"
    with app.app_context(), app.test_request_context():
        params = {"year": YEAR, "locale": "zh_Hans_CN"}
        if mode == "ours":

            def export():
                path, _name, _mime = build_year(params, None)
                size = os.path.getsize(path)
                os.unlink(path)
                return size

            start_rss = _rss()
            run = _timed(export)
            rss = _rss()
            return {
                "seconds": run["seconds"],
                "cpu": run["cpu"],
                "start_rss": start_rss,
                "rss": rss,
                "peak_bytes": _traced(export),
                "bytes": run["out"],
            }
        if mode == "collect":
            from inspect_app import xlsx as kit

            sheets: dict[str, list] = {}
            original = kit.TableSheet.row

            def collect(self, values):
                sheets.setdefault(self.ws.title, []).append(tuple(values))
                original(self, values)

            kit.TableSheet.row = collect
            path, _name, _mime = build_year(params, None)
            os.unlink(path)
            kit.TableSheet.row = original
            with rows_file.open("wb") as f:
                pickle.dump(sheets, f, protocol=pickle.HIGHEST_PROTOCOL)
            return {"rows": sum(len(r) for r in sheets.values())}
        # The floor: the rows our export writes, loaded untimed, then written plainly.
        from openpyxl import Workbook

        start_rss = _rss()
        with rows_file.open("rb") as f:
            sheets = pickle.load(f)
        rows_file.unlink()
        out = folder / "floor.xlsx"

        def write():
            wb = Workbook(write_only=True)
            for title, rows in sheets.items():
                ws = wb.create_sheet(title)
                for row in rows:
                    ws.append(["是" if v is True else "否" if v is False else v for v in row])
            wb.save(out)

        run = _timed(write)
        rss = _rss()
        size = out.stat().st_size
        peak = _traced(write)
        out.unlink()
        return {
            "seconds": run["seconds"],
            "cpu": run["cpu"],
            "start_rss": start_rss,
            "rss": rss,
            "peak_bytes": peak,
            "bytes": size,
        }


def _run_child(mode: str, url: str, folder: Path) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, "--url", url, "--folder", str(folder)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scales", nargs="+", type=float, default=[0.25, 0.5, 1.0])
    parser.add_argument("--database-url", help="PostgreSQL server to create scratch databases on")
    parser.add_argument("--child", choices=("ours", "collect", "floor"), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.url, Path(args.folder))))
        return 0
    from inspect_app import create_app

    folder = Path(tempfile.mkdtemp(prefix="inspect-bench-export-"))
    results = []
    for scale in args.scales:
        url, drop = _database(args.database_url, folder, scale)
        try:
            app = create_app(_config(url, folder))
            start = time.perf_counter()
            with app.app_context():
                from flask_migrate import upgrade

                upgrade()
                counts = generate(scale)
            made = time.perf_counter() - start
            load = os.getloadavg()[0]
            ours = _run_child("ours", url, folder)
            collected = _run_child("collect", url, folder)
            floor = _run_child("floor", url, folder)
            mib = 2**20
            row = {
                "scale": scale,
                **counts,
                "generate_s": round(made, 1),
                "ours_s": round(ours["seconds"], 1),
                "floor_s": round(floor["seconds"], 1),
                "time_ratio": round(ours["seconds"] / floor["seconds"], 2),
                "ours_cpu_s": round(ours["cpu"], 1),
                "floor_cpu_s": round(floor["cpu"], 1),
                "cpu_ratio": round(ours["cpu"] / floor["cpu"], 2),
                "ours_rss_mib": round(ours["rss"] / mib, 1),
                "floor_rss_mib": round(floor["rss"] / mib, 1),
                "rss_ratio": round(ours["rss"] / floor["rss"], 2),
                "ours_start_rss_mib": round(ours["start_rss"] / mib, 1),
                "floor_start_rss_mib": round(floor["start_rss"] / mib, 1),
                "ours_mib": round(ours["peak_bytes"] / mib, 1),
                "floor_mib": round(floor["peak_bytes"] / mib, 1),
                "memory_ratio": round(ours["peak_bytes"] / max(floor["peak_bytes"], 1), 2),
                "rows": collected["rows"],
                "load_1min": f"{load:.1f}–{os.getloadavg()[0]:.1f}",
                "file_mb": round(ours["bytes"] / 1e6, 1),
            }
            results.append(row)
            print(json.dumps(row, ensure_ascii=False), flush=True)
        finally:
            drop()
    print()
    print(
        "| scale | answers | findings | rows | ours s | floor s | time × | CPU × "
        "| ours RSS MiB | floor RSS MiB | RSS × | ours traced MiB | floor traced MiB "
        "| traced × | file MB | load |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r['scale']} | {r['answers']:,} | {r['findings']:,} | {r['rows']:,} "
            f"| {r['ours_s']} | {r['floor_s']} | {r['time_ratio']} | {r['cpu_ratio']} "
            f"| {r['ours_rss_mib']} | {r['floor_rss_mib']} | {r['rss_ratio']} "
            f"| {r['ours_mib']} | {r['floor_mib']} | {r['memory_ratio']} | {r['file_mb']} "
            f"| {r['load_1min']} |"
        )
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / f"export-{datetime.now():%Y%m%d-%H%M%S}.json").write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
