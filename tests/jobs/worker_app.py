"""A real job consumer for the tests: `flask jobs worker` in a subprocess, on the real app plus
the test kinds, configured through INSPECT_* variables like a deployment.

    flask --app tests.jobs.worker_app:make_app jobs worker
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from inspect_app import create_app

from .kinds import register_test_kinds

ROOT = Path(__file__).resolve().parents[2]
SECRET = "worker-test-secret-key-not-for-production"


def make_app():
    register_test_kinds()
    return create_app()


def start_worker(config: dict, log_path: Path) -> subprocess.Popen:
    """Start a consumer sharing the database, queue file and JOBS_DIR of `config` (an app's)."""
    from ..conftest import TEST_AUDIT_KEY

    env = {k: v for k, v in os.environ.items() if not k.startswith("INSPECT_")}
    env.update(
        {
            "INSPECT_DATABASE_URL": config["SQLALCHEMY_DATABASE_URI"],
            "INSPECT_SECRET_KEY": SECRET,
            "INSPECT_AUDIT_HMAC_KEY": TEST_AUDIT_KEY,
            "INSPECT_JOBS_SQLITE_FILE": config["JOBS_SQLITE_FILE"],
            "INSPECT_JOBS_DIR": config["JOBS_DIR"],
            "INSPECT_UPLOAD_DIR": config["UPLOAD_DIR"],
            "INSPECT_AUDIT_ANCHOR_FILE": config["AUDIT_ANCHOR_FILE"],
            "INSPECT_JOBS_PROGRESS_INTERVAL": json.dumps(config["JOBS_PROGRESS_INTERVAL"]),
            "INSPECT_JOBS_IMMEDIATE": "false",
            "INSPECT_JOBS_QUEUE_NAME": config["JOBS_QUEUE_NAME"],
        }
    )
    if config.get("REDIS_URL"):
        env["INSPECT_REDIS_URL"] = config["REDIS_URL"]
    command = [sys.executable, "-m", "flask", "--app", "tests.jobs.worker_app:make_app"]
    log = open(log_path, "wb")  # noqa: SIM115 - handed to the child, closed in stop_worker
    process = subprocess.Popen(
        [*command, "jobs", "worker", "--workers", "1"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    process.log = log
    return process


def stop_worker(process: subprocess.Popen) -> None:
    """SIGTERM (stop at once); idempotent."""
    if process.log.closed:
        return
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    process.log.close()
