"""Redis down (issue 13 §3): logins still work and are still limited, per process."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Runs in a child process: Flask-Limiter's state is global to the extension object, so an app
# configured with a dead Redis must not share it with the rest of the suite.
SCRIPT = r"""
import json, sys
from flask_migrate import upgrade
from inspect_app import create_app
from tests.conftest import Browser, make_test_config
from tests.factories import Factory

config = make_test_config(sys.argv[1], __import__("pathlib").Path(sys.argv[2]))
config["RATELIMIT_STORAGE_URI"] = sys.argv[3]
config["LOGIN_RATE_LIMIT"] = "3 per minute"
config["LOGIN_LOCKOUT_THRESHOLD"] = 100
app = create_app(config)
with app.app_context():
    upgrade()
    name = Factory().user(role="inspector").username
ok = Browser(app.test_client()).login(name).status_code
stranger = Browser(app.test_client())
bad = [
    stranger.post("/auth/login", {"username": "nobody", "password": "x"}).status_code
    for _ in range(5)
]
print(json.dumps({"ok": ok, "bad": bad}))
"""


def _dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when this returns: nothing listens there


def test_login_works_and_is_still_limited_when_redis_is_down(tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            SCRIPT,
            "sqlite:///" + str(tmp_path / "db.sqlite"),
            str(tmp_path),
            f"redis://127.0.0.1:{_dead_port()}/0",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["ok"] == 302  # the login went through
    assert 429 in result["bad"]  # and the in-memory fallback still limits failures
