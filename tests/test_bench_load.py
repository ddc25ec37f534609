"""bench/load.py, the load bench of issue 13 §1, run small: two tablets for two seconds on
PostgreSQL behind the real gunicorn. Its figures are not checked here (they are a benchmark's);
that it runs, and that its count of what the clients were told holds, are."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _reachable(url: str) -> bool:
    engine = sa.create_engine(url)
    try:
        with engine.connect():
            return True
    except sa.exc.OperationalError:
        return False
    finally:
        engine.dispose()


def test_the_load_bench_runs_its_three_phases_and_every_acknowledged_change_is_stored_once():
    if not _reachable(PG):
        pytest.skip("no PostgreSQL at 127.0.0.1:5432 (the bench measures on PostgreSQL)")
    done = subprocess.run(
        [sys.executable, "bench/load.py", "--clients", "2", "--seconds", "2", "--database-url", PG],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    lines = done.stdout.splitlines()
    checks = json.loads(next(line for line in lines if line.startswith("checks:"))[7:])
    assert checks["acknowledged"] > 0
    assert checks["lost"] == 0 and checks["stored_unsent"] == 0
    assert checks["answers_not_last_acknowledged"] == 0
    assert checks["floor_rows"] == checks["floor_acknowledged"] > 0
    assert checks["audit_chain"] == "ok"
    phases = [json.loads(line) for line in lines if line.startswith("{")]
    assert [p["phase"] for p in phases] == ["floor", "answers", "paced"]
    # the floor and the answers interleaved in four slices each, two seconds in all each
    assert [p["slices"] for p in phases] == [4, 4, 1]
    assert all(1.9 <= p["seconds"] <= 4 for p in phases), phases
    assert all(p["errors"] == 0 for p in phases), phases
    # paced at one batch a second, two tablets send about two batches each in two seconds
    assert 2 <= phases[2]["requests"] <= 8, phases[2]
