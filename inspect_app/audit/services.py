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

from ..auth.permissions import unit_of
from ..extensions import db
from ..models import AuditEvent, AuditHead, User, utcnow

GENESIS = "0" * 64


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


def _lock_head() -> AuditHead:
    """The chain head, locked to the end of the transaction (FOR UPDATE on PostgreSQL; SQLite
    transactions already hold the database's write lock, see create_app)."""
    session = db.session
    session.flush()  # events recorded earlier in this transaction are part of the chain first
    head = session.scalar(
        sa.select(AuditHead)
        .where(AuditHead.id == 1)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if head is None:  # a database made without the migration's first row
        head = AuditHead(id=1, last_event_id=0, hash=GENESIS, count=0)
        session.add(head)
    return head


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
    hidden_from_unit: bool = False,
) -> AuditEvent:
    """Add an audit event to the current session; the caller's commit writes it with the change.

    Appends queue on the locked chain head, so the chain never forks.
    """
    head = _lock_head()  # flushes, so a new obj has its id below
    ev = AuditEvent(
        created_at=utcnow(),
        actor_id=actor.id if actor is not None else None,
        actor_name=actor.username if actor is not None else "system",
        action=action,
        object_type=object_type or (type(obj).__name__ if obj is not None else ""),
        object_id=str(object_id if object_id is not None else getattr(obj, "id", "") or ""),
        # Untagged events stay out of the unit's own audit view (work on an inspection before
        # it is submitted is not the unit's to see).
        unit_id=None
        if hidden_from_unit
        else (unit_id if unit_id is not None else unit_of(obj) if obj is not None else None),
        before=_jsonable(before) if before is not None else None,
        after=_jsonable(after) if after is not None else None,
        ip=(request.remote_addr or "") if has_request_context() else "",
    )
    ev.prev_hash = head.hash
    ev.hash = compute_hash(ev)
    db.session.add(ev)
    db.session.flush()
    head.last_event_id, head.hash, head.count = ev.id, ev.hash, head.count + 1
    return ev


@dataclass
class ChainProblem:
    event_id: int
    reason: str


def verify_chain(batch: int = 2000) -> tuple[int, ChainProblem | None]:
    """Walk the chain in id order, then compare its end with the head.

    Returns (events checked, first problem or None). A problem names the first event that does
    not chain (edited, inserted or deleted before it) or, when the newest events were deleted,
    the newest event the head still remembers ("tail").
    """
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
            break
        for ev in rows:
            if ev.prev_hash != prev:
                return checked, ChainProblem(ev.id, "prev_hash")
            if compute_hash(ev) != ev.hash:
                return checked, ChainProblem(ev.id, "hash")
            prev = ev.hash
            checked += 1
            last_id = ev.id
        db.session.expunge_all()
    head = db.session.get(AuditHead, 1)
    if head is not None and (
        head.hash != prev or head.count != checked or head.last_event_id != last_id
    ):
        return checked, ChainProblem(head.last_event_id, "tail")
    return checked, None
