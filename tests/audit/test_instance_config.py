"""scripts/make_instance_config.py gives every machine an audit key, old ones included."""

from __future__ import annotations

import os
import runpy
import stat
import subprocess
import sys
from pathlib import Path

from inspect_app import create_app

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "make_instance_config.py"


def _run(path: Path, **env) -> str:
    environ = {k: v for k, v in os.environ.items() if k != "INSPECT_AUDIT_HMAC_KEY"} | env
    done = subprocess.run(
        [sys.executable, str(SCRIPT), str(path)],
        env=environ,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def test_a_new_machine_gets_both_keys_in_a_file_only_its_owner_can_read(tmp_path):
    path = tmp_path / "instance" / "config.py"
    _run(path)
    settings = runpy.run_path(str(path))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(settings["SECRET_KEY"]) >= 32 and len(settings["AUDIT_HMAC_KEY"]) >= 32
    assert settings["SECRET_KEY"] != settings["AUDIT_HMAC_KEY"]
    app = create_app(
        {
            "SECRET_KEY": settings["SECRET_KEY"],
            "AUDIT_HMAC_KEY": settings["AUDIT_HMAC_KEY"],
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
        }
    )
    assert not app.testing  # production accepts what the script wrote


def test_a_machine_set_up_before_the_audit_key_gets_one_appended_once(tmp_path):
    path = tmp_path / "config.py"
    old = '"""Local settings."""\n\nSECRET_KEY = \'kept-exactly-as-it-was-0123456789\'\n'
    path.write_text(old)

    assert "added a new random AUDIT_HMAC_KEY" in _run(path)
    first = path.read_text()
    assert first.startswith(old)
    assert _run(path) == ""  # the next `make run` changes nothing
    assert path.read_text() == first
    settings = runpy.run_path(str(path))
    assert settings["SECRET_KEY"] == "kept-exactly-as-it-was-0123456789"
    assert len(settings["AUDIT_HMAC_KEY"]) >= 32


def test_a_key_given_in_the_environment_is_not_duplicated_into_the_file(tmp_path):
    path = tmp_path / "config.py"
    path.write_text("SECRET_KEY = 'x'\n")
    _run(path, INSPECT_AUDIT_HMAC_KEY="k" * 48)
    assert "AUDIT_HMAC_KEY" not in path.read_text()
