"""`flask audit anchor`: the verified head, appended to a 0600 file (and syslog), checked by verify."""

from __future__ import annotations

import os
import re
import socket
import stat
import tempfile
from pathlib import Path

import pytest

from .conftest import run_cli
from .test_tamper import _record

LINE = re.compile(
    r"^v1 at=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ event=(\d+) hash=([0-9a-f]{64}) count=(\d+) "
    r"key=[0-9a-f]{8} mac=[0-9a-f]{64}$"
)


def _anchor_file(app) -> Path:
    return Path(app.config["AUDIT_ANCHOR_FILE"])


def test_anchor_appends_the_verified_head_to_a_file_only_its_owner_can_read(own_app, attacker):
    _record(own_app, 2)
    assert run_cli(own_app, "audit", "anchor").exit_code == 0
    ids = _record(own_app, 1)
    result = run_cli(own_app, "audit", "anchor")
    assert result.exit_code == 0
    assert f"Anchored event {ids[0]} (3 events, hash " in result.output

    path = _anchor_file(own_app)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    lines = path.read_text().splitlines()
    assert len(lines) == 2
    event_id, hash_, count = LINE.match(lines[1]).groups()
    assert (int(event_id), hash_, int(count)) == (ids[0], attacker.events()[-1].hash, 3)
    assert "The log still holds event" in run_cli(own_app, "audit", "verify").output


def test_anchor_of_an_empty_log_verifies(own_app):
    assert run_cli(own_app, "audit", "anchor").exit_code == 0
    assert " event=0 " in _anchor_file(own_app).read_text()
    assert run_cli(own_app, "audit", "verify").exit_code == 0


def test_verify_without_an_anchor_passes_but_says_one_is_missing(own_app):
    _record(own_app, 1)
    result = run_cli(own_app, "audit", "verify")
    assert result.exit_code == 0
    assert "No anchor yet in" in result.output


def test_anchor_refuses_to_vouch_for_a_broken_log(own_app, attacker):
    ids = _record(own_app, 2)
    attacker.drop_triggers()
    attacker.sql("UPDATE audit_events SET action = 'x' WHERE id = :id", id=ids[0])
    result = run_cli(own_app, "audit", "anchor")
    assert result.exit_code == 1
    assert f"BROKEN at audit event {ids[0]}" in result.stderr
    assert "No anchor was written: the log is broken." in result.stderr
    assert not _anchor_file(own_app).exists()


def test_an_edited_anchor_line_is_reported(own_app):
    _record(own_app, 3)
    assert run_cli(own_app, "audit", "anchor").exit_code == 0
    path = _anchor_file(own_app)
    path.write_text(path.read_text().replace(" count=3 ", " count=2 "))
    result = run_cli(own_app, "audit", "verify")
    assert result.exit_code == 1
    assert f"BROKEN: line 1 of the anchor file {path} is not a valid anchor" in result.stderr


def test_an_anchor_signed_with_an_unknown_key_is_reported(own_app):
    _record(own_app, 1)
    assert run_cli(own_app, "audit", "anchor").exit_code == 0
    own_app.config["AUDIT_HMAC_KEY"] = "a-key-that-never-signed-anything-" + "z" * 20
    result = run_cli(own_app, "audit", "verify")
    assert result.exit_code == 1
    assert "was signed with audit key" in result.stderr


@pytest.fixture
def syslog_socket():
    """A stand-in for /dev/log: a Unix datagram socket in a short path (sun_path is 108 bytes)."""
    folder = tempfile.mkdtemp(prefix="log", dir="/tmp")
    address = os.path.join(folder, "log")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(address)
    sock.settimeout(5)
    yield sock, address
    sock.close()
    os.unlink(address)
    os.rmdir(folder)


def test_anchor_with_syslog_sends_the_same_line_to_syslog(own_app, syslog_socket):
    sock, address = syslog_socket
    own_app.config["AUDIT_SYSLOG_ADDRESS"] = address
    _record(own_app, 2)
    result = run_cli(own_app, "audit", "anchor", "--syslog")
    assert result.exit_code == 0, result.output
    assert "The anchor was also sent to syslog." in result.output
    message = sock.recv(4096).decode()
    line = _anchor_file(own_app).read_text().strip()
    assert message.startswith("<")  # a syslog priority, then the tag
    assert f"inspect-audit: {line}" in message


def test_anchor_with_syslog_and_no_syslog_socket_fails_clearly_and_writes_nothing(
    own_app, tmp_path
):
    own_app.config["AUDIT_SYSLOG_ADDRESS"] = str(tmp_path / "no-such-log")
    _record(own_app, 1)
    result = run_cli(own_app, "audit", "anchor", "--syslog")
    assert result.exit_code == 1
    assert f"Cannot send to syslog at {tmp_path / 'no-such-log'}" in result.stderr
    assert not _anchor_file(own_app).exists()
    chinese = {"LC_ALL": "zh_CN.UTF-8", "LANG": "zh_CN.UTF-8"}
    result = own_app.test_cli_runner().invoke(args=["audit", "anchor", "--syslog"], env=chinese)
    assert result.exit_code == 1 and "没有该套接字" in result.stderr, result.stderr


def test_an_anchor_line_with_non_ascii_text_is_reported_not_a_crash(own_app):
    _record(own_app, 1)
    assert run_cli(own_app, "audit", "anchor").exit_code == 0
    path = _anchor_file(own_app)
    path.write_text(path.read_text().rstrip()[:-4] + "改过的\n", encoding="utf-8")
    result = run_cli(own_app, "audit", "verify")
    assert result.exit_code == 1
    assert "is not a valid anchor" in result.stderr
