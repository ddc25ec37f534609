"""Anchors: the chain's head written outside the database, so truncating the log shows.

`flask audit anchor` appends one line per run to an append-only file (AUDIT_ANCHOR_FILE) and,
optionally, to syslog:

    v1 at=2026-12-01T10:00:00Z event=1453 hash=<64 hex> count=1453 key=<key id> mac=<64 hex>

The MAC is HMAC-SHA256 of the line before " mac=" under the audit key, so a line cannot be forged
or edited without the key. `flask audit verify` checks the log against the last line.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import logging.handlers
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from flask_babel import gettext as _

from ..extensions import db
from ..models import AuditEvent
from .keys import Keyring, keyring
from .services import ChainProblem, ChainWalk, walk_chain

VERSION = "v1"
_FIELDS = ("at", "event", "hash", "count", "key")


class AnchorError(Exception):
    """An anchor could not be written or read; `reason` picks the message, `detail` fills it."""

    def __init__(self, reason: str, **detail):
        super().__init__(reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class Anchor:
    at: datetime
    event_id: int
    hash: str
    count: int
    key_id: str
    line_no: int = 0

    def body(self) -> str:
        at = self.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return (
            f"{VERSION} at={at} event={self.event_id} hash={self.hash} count={self.count} "
            f"key={self.key_id}"
        )


def _mac(key: bytes, body: str) -> str:
    return hmac.new(key, b"inspect-audit-anchor\n" + body.encode(), hashlib.sha256).hexdigest()


def format_line(anchor: Anchor, ring: Keyring) -> str:
    body = anchor.body()
    return f"{body} mac={_mac(ring.by_id[anchor.key_id], body)}"


def parse_line(line: str, line_no: int, ring: Keyring) -> Anchor:
    """The anchor on one line, its MAC checked. Raises AnchorError("anchor_invalid"|"anchor_key")."""
    body, sep, mac = line.strip().rpartition(" mac=")
    parts = body.split(" ")
    fields = dict(p.split("=", 1) for p in parts[1:] if "=" in p)
    if not sep or parts[0] != VERSION or tuple(fields) != _FIELDS:
        raise AnchorError("anchor_invalid", line=line_no)
    key = ring.get(fields["key"])
    if key is None:
        raise AnchorError("anchor_key", line=line_no, key_id=fields["key"])
    if not hmac.compare_digest(_mac(key, body).encode(), mac.encode()):
        raise AnchorError("anchor_invalid", line=line_no)
    try:
        at = datetime.strptime(fields["at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        return Anchor(
            at, int(fields["event"]), fields["hash"], int(fields["count"]), fields["key"], line_no
        )
    except ValueError:
        raise AnchorError("anchor_invalid", line=line_no) from None


def last_anchor(path: str | os.PathLike, ring: Keyring) -> Anchor | None:
    """The newest anchor in the file, None when there is no file or no line yet."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as err:
        raise AnchorError("anchor_unreadable", path=str(path), error=str(err)) from None
    for line_no in range(len(lines), 0, -1):
        if lines[line_no - 1].strip():
            return parse_line(lines[line_no - 1], line_no, ring)
    return None


def check_against(anchor: Anchor) -> ChainProblem | None:
    """The log must still hold the anchored event with the anchored hash, and as many events."""
    at = anchor.at.strftime("%Y-%m-%d %H:%M:%S UTC")
    detail = {"at": at, "hash": anchor.hash, "count": anchor.count}
    if anchor.event_id:
        anchored = db.session.get(AuditEvent, anchor.event_id)
        if anchored is None:
            return ChainProblem(anchor.event_id, "anchor_gone", detail)
        if anchored.hash != anchor.hash:
            return ChainProblem(anchor.event_id, "anchor_hash", detail)
    count = db.session.scalar(sa.select(sa.func.count(AuditEvent.id)))
    if count < anchor.count:
        return ChainProblem(anchor.event_id, "anchor_count", {**detail, "now": count})
    return None


def append_line(path: str | os.PathLike, line: str) -> None:
    """Append to the anchor file: created 0600, opened O_APPEND, flushed to disk."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, (line + "\n").encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)


class _SysLog(logging.handlers.SysLogHandler):
    def handleError(self, record):  # noqa: N802 (logging's name)
        raise  # the caller reports it: an anchor that did not reach syslog must not look sent


def open_syslog(address: str) -> logging.Handler:
    """A handler for the local syslog socket. Raises AnchorError("syslog") when there is none."""
    if not os.path.exists(address):
        raise AnchorError("syslog", address=address, error=_("no such socket"))
    try:
        handler = _SysLog(address=address, facility=logging.handlers.SysLogHandler.LOG_AUTHPRIV)
    except OSError as err:
        raise AnchorError("syslog", address=address, error=str(err)) from None
    handler.ident = "inspect-audit: "
    return handler


def send_to_syslog(handler: logging.Handler, line: str) -> None:
    """Send one anchor line, then close. Raises AnchorError("syslog") when it fails."""
    record = logging.LogRecord("inspect.audit", logging.INFO, __file__, 0, line, None, None)
    try:
        handler.emit(record)
    except OSError as err:
        raise AnchorError("syslog", address=str(handler.address), error=str(err)) from None
    finally:
        handler.close()


@dataclass
class Verdict:
    """What `verify_log` found: the chain walk, every problem (the chain's first), the anchor."""

    walk: ChainWalk
    problems: list[ChainProblem]
    anchor: Anchor | None

    @property
    def checked(self) -> int:
        return self.walk.checked


def verify_log(path: str | os.PathLike) -> Verdict:
    """Check the chain, then the log against the last anchor in `path` (if there is one)."""
    walk = walk_chain()
    problems = [walk.problem] if walk.problem else []
    anchor = None
    try:
        anchor = last_anchor(path, keyring())
    except AnchorError as err:
        problems.append(ChainProblem(0, err.reason, {"path": str(path), **err.detail}))
    if anchor is not None and (problem := check_against(anchor)) is not None:
        problems.append(problem)
    return Verdict(walk, problems, anchor)


def anchor_log(
    path: str | os.PathLike, *, now: datetime | None = None, syslog_address: str | None = None
) -> tuple[Anchor | None, Verdict]:
    """Append an anchor of the verified chain's end to `path` (and syslog, given an address).

    Writes nothing when the log is broken (the verdict says why): anchoring a tampered log would
    vouch for it. Raises AnchorError when syslog or the file cannot be written.
    """
    handler = open_syslog(syslog_address) if syslog_address else None
    try:
        verdict = verify_log(path)
        if verdict.problems:
            return None, verdict
        ring = keyring()
        walk = verdict.walk
        anchor = Anchor(
            now or datetime.now(UTC), walk.last_id, walk.last_hash, walk.checked, ring.current_id
        )
        line = format_line(anchor, ring)
        try:
            append_line(path, line)
        except OSError as err:
            raise AnchorError("anchor_write", path=str(path), error=str(err)) from None
        if handler is not None:
            try:
                send_to_syslog(handler, line)
            except AnchorError as err:
                raise AnchorError("syslog_after_file", path=str(path), **err.detail) from None
            finally:
                handler = None
        return anchor, verdict
    finally:
        if handler is not None:
            handler.close()
