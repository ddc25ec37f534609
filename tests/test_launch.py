"""scripts/launch.py: `make run` and `make serve` start the web server and the job consumer as
one command; Ctrl-C stops both, and one ending stops the other."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

LAUNCH = Path(__file__).resolve().parent.parent / "scripts" / "launch.py"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _child(tmp_path, name: str, body: str) -> str:
    """A child command that writes its pid to a file, then runs body."""
    script = tmp_path / f"{name}.py"
    script.write_text(
        f"import os, sys, time\nopen({str(tmp_path / name)!r}, 'w').write(str(os.getpid()))\n{body}\n"
    )
    return f"{name}={sys.executable} {script}"


def _pids(tmp_path, *names, timeout=20.0) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        files = [tmp_path / n for n in names]
        if all(f.exists() and f.read_text() for f in files):
            return [int(f.read_text()) for f in files]
        time.sleep(0.05)
    raise AssertionError("the children did not start")


def _gone(pids, timeout=20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(_alive(p) for p in pids):
            return True
        time.sleep(0.05)
    return False


def test_ctrl_c_stops_the_web_server_and_the_job_consumer(tmp_path):
    launcher = subprocess.Popen(
        [
            sys.executable,
            str(LAUNCH),
            _child(tmp_path, "web", "time.sleep(600)"),
            _child(tmp_path, "jobs", "time.sleep(600)"),
        ]
    )
    pids = _pids(tmp_path, "web", "jobs")
    launcher.send_signal(signal.SIGINT)
    assert launcher.wait(timeout=30) == 0
    assert _gone(pids)


def test_when_one_process_ends_the_other_is_stopped_and_its_code_returned(tmp_path):
    launcher = subprocess.Popen(
        [
            sys.executable,
            str(LAUNCH),
            _child(tmp_path, "web", "time.sleep(1); sys.exit(3)"),
            _child(tmp_path, "jobs", "time.sleep(600)"),
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    pids = _pids(tmp_path, "web", "jobs")
    assert launcher.wait(timeout=30) == 3
    assert "web exited with 3" in launcher.stderr.read()
    launcher.stderr.close()
    assert _gone(pids)


def test_a_bad_command_line_is_refused(tmp_path):
    done = subprocess.run(
        [sys.executable, str(LAUNCH), "no-equals-sign"], capture_output=True, text=True
    )
    assert done.returncode != 0 and "usage" in done.stderr
