"""Writing and verifying the audit chain.

Each event's hash is SHA-256 over the previous hash and a canonical JSON of the event, so editing
or deleting any row breaks the chain from that row on. The canonical form must never change.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import has_request_context, request

from ..extensions import db
from ..models import AuditEvent, User, utcnow

GENESIS = "0" * 64
# Any fixed number: the advisory lock that serialises appends on PostgreSQL.
_PG_LOCK_KEY = 727_001


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    return value


def canonical(payload: dict[str, Any]) -> str:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _payload(ev: AuditEvent) -> dict[str, Any]:
    return {
        "created_at": ev.created_at.replace(tzinfo=None).isoformat(timespec="microseconds"),
        "actor_id": ev.actor_id,
        "actor_name": ev.actor_name,
        "action": ev.action,
        "object_type": ev.object_type,
        "object_id": ev.object_id,
        "unit_id": ev.unit_id,
        "before": ev.before,
        "after": ev.after,
        "ip": ev.ip,
    }


def compute_hash(ev: AuditEvent) -> str:
    return hashlib.sha256((ev.prev_hash + canonical(_payload(ev))).encode()).hexdigest()


def snapshot(obj: Any, fields: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """The named attributes of obj as JSON-ready values, for before/after."""
    return {f: _jsonable(getattr(obj, f)) for f in fields}


def _unit_id_of(obj: Any) -> int | None:
    if obj is None:
        return None
    if type(obj).__name__ == "Unit":
        return obj.id
    return getattr(obj, "unit_id", None)


def _last_hash() -> str:
    session = db.session
    # Flush first so events recorded earlier in this transaction are the ones we chain to.
    session.flush()
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
    last = session.scalar(sa.select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1))
    return last or GENESIS


def record(
    actor: User | None,
    action: str,
    obj: Any = None,
    *,
    before: dict | None = None,
    after: dict | None = None,
    object_type: str | None = None,
    object_id: Any = None,
    unit_id: int | None = None,
) -> AuditEvent:
    """Add an audit event to the current session; the caller's commit writes it with the change.

    On PostgreSQL an advisory lock held to the end of the transaction keeps the chain linear.
    """
    prev_hash = _last_hash()  # flushes, so a new obj has its id below
    ev = AuditEvent(
        created_at=utcnow(),
        actor_id=actor.id if actor is not None else None,
        actor_name=actor.username if actor is not None else "system",
        action=action,
        object_type=object_type or (type(obj).__name__ if obj is not None else ""),
        object_id=str(object_id if object_id is not None else getattr(obj, "id", "") or ""),
        unit_id=unit_id if unit_id is not None else _unit_id_of(obj),
        before=_jsonable(before) if before is not None else None,
        after=_jsonable(after) if after is not None else None,
        ip=(request.remote_addr or "") if has_request_context() else "",
    )
    ev.prev_hash = prev_hash
    ev.hash = compute_hash(ev)
    db.session.add(ev)
    return ev


@dataclass
class ChainProblem:
    event_id: int
    reason: str


def verify_chain(batch: int = 2000) -> tuple[int, ChainProblem | None]:
    """Walk the chain in id order. Returns (events checked, first problem or None)."""
    prev = GENESIS
    checked = 0
    last_id = 0
    while True:
        rows = db.session.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.id > last_id)
            .order_by(AuditEvent.id)
            .limit(batch)
        ).all()
        if not rows:
            return checked, None
        for ev in rows:
            if ev.prev_hash != prev:
                return checked, ChainProblem(ev.id, "prev_hash")
            if compute_hash(ev) != ev.hash:
                return checked, ChainProblem(ev.id, "hash")
            prev = ev.hash
            checked += 1
            last_id = ev.id
        db.session.expunge_all()
