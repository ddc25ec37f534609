"""Writing and verifying the audit chain.

Each event's hash covers the previous event's hash and a canonical JSON of the event, so editing
or deleting any row breaks the chain from that row on. The canonical form must never change.

Events are hashed with HMAC-SHA256 under a key kept outside the database ("hmac-v1"), so someone
who can write the database but lacks the key cannot recompute the chain after an edit. Events
written before the chain was keyed keep their plain SHA-256 hash ("sha256") and verify the old
way; none may follow a keyed event. See docs/audit.md.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import random
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from blinker import Namespace
from flask import current_app, has_app_context
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from ..extensions import db
from ..models import AuditEvent, AuditHead, User, unit_of, utcnow
from ..models.base import json_insert, json_rows
from .keys import Keyring, keyring

GENESIS = "0" * 64
# Sent with the app after each commit holding an event that may change a summary figure
# (may_change_figures); the dashboard listens (dashboard/snapshots.py).
figures_changed = Namespace().signal("figures-changed")
# The client address of the request being served, set by the web layer for each request, so
# services need not pass it and this module never reads the request itself. Jobs and commands
# leave it empty or pass `ip=` to record().
_client_address: ContextVar[str] = ContextVar("audit_client_address", default="")


def set_client_address(address: str) -> None:
    """Say which client the following events come from (the web layer, once per request)."""
    _client_address.set(address or "")


LEGACY = "sha256"  # plain SHA-256, no key: events written before the chain was keyed
HMAC_V1 = "hmac-v1"  # HMAC-SHA256 over scheme, key id, prev_hash and the canonical JSON


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


def _payload(ev: AuditEvent | Recorded) -> dict[str, Any]:
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


def legacy_hash(ev: AuditEvent) -> str:
    """The unkeyed hash of the events written before the chain was keyed."""
    return hashlib.sha256((ev.prev_hash + canonical(_payload(ev))).encode()).hexdigest()


def keyed_hash(ev: AuditEvent | Recorded, key_id: str, key: bytes, body: str | None = None) -> str:
    """The hmac-v1 hash of `ev` (`body`: its canonical JSON, when already made)."""
    body = canonical(_payload(ev)) if body is None else body
    message = f"{HMAC_V1}\n{key_id}\n{ev.prev_hash}{body}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def compute_hash(ev: AuditEvent, ring: Keyring | None = None) -> str | None:
    """The hash `ev` should carry under its own scheme; None when its key is not configured."""
    if ev.hash_scheme == LEGACY:
        return legacy_hash(ev)
    if ev.hash_scheme == HMAC_V1:
        key = (ring or keyring()).get(ev.key_id)
        return keyed_hash(ev, ev.key_id, key) if key is not None else None
    return None


def snapshot(obj: Any, fields: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """The named attributes of obj as JSON-ready values, for before/after."""
    return {f: _jsonable(getattr(obj, f)) for f in fields}


_EVENTS = AuditEvent.__table__
_HEADS = AuditHead.__table__
_EVENT_COLUMNS = [c.name for c in _EVENTS.columns if c.name != "id"]


# Actions that change no figure of the dashboard, its charts or the annual report: an answer of
# an inspection not yet done (the figures read the answers of done inspections only, which are
# read-only), logins, two-step login, background jobs, evidence files, a user's language, a
# workbook downloaded.
_FIGURE_NEUTRAL_ACTIONS = frozenset(
    {"answer.update", "evidence.add", "evidence.delete", "user.locale", "export.download"}
)
_FIGURE_NEUTRAL_PREFIXES = ("auth.", "mfa.", "job.")


def may_change_figures(action: str) -> bool:
    """Whether an event of this action may change a summary figure (every action not known to
    change none: a new action counts until it is listed)."""
    return action not in _FIGURE_NEUTRAL_ACTIONS and not action.startswith(_FIGURE_NEUTRAL_PREFIXES)


def _advance_head(
    conn, statements: _HeadStatements, n: int, k: int
) -> tuple[int, str, list[int] | None]:
    """Lock a chain's head to the end of the transaction and count `n` more events on it;
    returns the chain, its hash before them and, on PostgreSQL, `n` new event ids drawn from
    the events' sequence under the lock (so in the chain's order; SQLite: None). `k` of the `n`
    may change a summary figure (may_change_figures).

    The lowest chain no other writer holds is taken, in one statement (FOR UPDATE SKIP LOCKED on
    PostgreSQL), so writers committing at the same time do not queue on one head; only when all
    AUDIT_CHAINS are held does a writer wait for one. SQLite transactions already hold the
    database's write lock (see create_app): there every event is in chain 1.
    """
    chains, postgres = statements.chains, statements.postgres
    row = conn.execute(statements.take, {"n": n, "k": k}).first()
    if row is None:  # every chain is held, or their heads are not made yet
        insert = pg_insert if postgres else sqlite_insert
        conn.execute(
            insert(_HEADS)
            .values(
                [
                    dict(id=c, last_event_id=0, hash=GENESIS, count=0, figure_events=0)
                    for c in range(1, chains + 1)
                ]
            )
            .on_conflict_do_nothing(index_elements=[_HEADS.c.id])
        )
        row = (
            conn.execute(statements.take, {"n": n, "k": k}).first()
            or conn.execute(
                _count_on(_HEADS.c.id == random.randint(1, chains), postgres),  # wait for one
                {"n": n, "k": k},
            ).first()
        )
    return row.id, row.hash, sorted(row.ids) if postgres else None


@dataclass(frozen=True)
class Rider:
    """PostgreSQL: a transaction's own writes, sent in the statement that writes its audit
    events and moves the chain's head instead of in one of their own (an answer batch's:
    bench/README.md, "Load on PostgreSQL"). `ctes` are data-modifying CTEs ("name AS (…), …";
    no name `events`, no parameter `rows`, `chain`, `last` or `hash`), and `returning` what
    the statement reads back of them, for the rider's check."""

    ctes: str
    returning: str

    def alone(self) -> sa.TextClause:
        """The rider as a statement of its own."""
        return _rider_alone(self)


def ride_on_commit(rider: Rider, params: dict[str, Any], check: Callable[[sa.Row], None]) -> bool:
    """Send `rider` with `params` in the statement that writes this transaction's audit events
    at its commit; `check` gets the row it returns, and what it raises comes out of the commit
    (the caller rolls back). False, and nothing is kept, when the rider cannot go that way (not
    PostgreSQL, no event recorded yet, or inside a savepoint): the caller sends it itself."""
    session = db.session()
    if (
        session.in_nested_transaction()
        or not session.info.get("audit_pending")
        or "audit_rider" in session.info  # one rider a transaction: another goes on its own
        or session.get_bind().dialect.name != "postgresql"
    ):
        return False
    session.info["audit_rider"] = (rider, params, check)
    return True


@functools.cache
def _events_write(rider: Rider | None) -> sa.TextClause:
    """PostgreSQL: the events (:rows) written and the head moved, in one statement (a
    data-modifying WITH runs to completion whether or not the UPDATE reads it); with a rider's
    CTEs before and its `returning` read back."""
    events = f"events AS ({json_insert(_EVENTS.name, ['id', *_EVENT_COLUMNS], 'rows')})"
    head = f"UPDATE {_HEADS.name} SET last_event_id = :last, hash = :hash WHERE id = :chain"
    if rider is None:
        return sa.text(f"WITH {events} {head}")
    return sa.text(f"WITH {rider.ctes}, {events} {head} RETURNING {rider.returning}")


@functools.cache
def _rider_alone(rider: Rider) -> sa.TextClause:
    return sa.text(f"WITH {rider.ctes} SELECT {rider.returning}")


@dataclass(frozen=True)
class _HeadStatements:
    chains: int  # AUDIT_CHAINS, within 1–64
    postgres: bool
    take: sa.Update  # the lowest free head, counted on by :n events (:k may change a figure)
    insert: sa.Insert  # SQLite: the events, their ids back in order
    move: sa.Update  # SQLite: the head to :last and :hash


@functools.cache
def _head_statements(chains: int, postgres: bool) -> _HeadStatements:
    """The chain's statements, built once (a commit with events runs them every time)."""
    free = (
        sa.select(_HEADS.c.id)
        .where(_HEADS.c.id <= chains)
        .order_by(_HEADS.c.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    return _HeadStatements(
        chains=chains,
        postgres=postgres,
        take=_count_on(_HEADS.c.id == free, postgres),
        insert=sa.insert(_EVENTS).returning(_EVENTS.c.id, sort_by_parameter_order=True),
        move=sa.update(_HEADS)
        .where(_HEADS.c.id == sa.bindparam("chain"))
        .values(last_event_id=sa.bindparam("last"), hash=sa.bindparam("hash")),
    )


def _count_on(which, postgres: bool):
    """Count :n more events (:k of them may change a figure) on the head `which` picks; returns
    it (and, on PostgreSQL, :n ids drawn for the events)."""
    n = sa.bindparam("n", type_=sa.Integer)
    returned = [_HEADS.c.id, _HEADS.c.hash]
    if postgres:  # n ids for the events, drawn only when a head was taken
        sequence = sa.func.pg_get_serial_sequence("audit_events", "id")
        # n behind a sub-select: PostgreSQL sizes generate_series(1, <a constant>) exactly, so
        # a plan made for one n looked cheaper than the generic one and it planned the
        # statement again at every commit (0.16 ms of its CPU; bench/README.md). Behind the
        # sub-select every n is the same guess and the first plan is kept.
        returned.append(
            sa.select(sa.func.array_agg(sa.func.nextval(sequence)))
            .select_from(sa.func.generate_series(1, sa.select(n).scalar_subquery()))
            .scalar_subquery()
            .label("ids")
        )
    return (
        sa.update(_HEADS)
        .where(which)
        .values(
            count=_HEADS.c.count + n,
            figure_events=_HEADS.c.figure_events + sa.bindparam("k", type_=sa.Integer),
        )
        .returning(*returned)
    )


@dataclass(slots=True)
class Recorded:
    """An audit event recorded in a transaction and written at its commit (_chain_pending), as
    the row of AuditEvent it becomes, with its id, chain and hash once committed. A plain
    object: the event is written by statement, never through the session, and a mapped
    object's bookkeeping cost an answer batch a few percent of its CPU time (bench/README.md)."""

    created_at: datetime
    actor_id: int | None
    actor_name: str
    action: str
    object_type: str
    object_id: str
    unit_id: int | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    ip: str
    id: int | None = None
    chain: int | None = None
    prev_hash: str | None = None
    hash: str | None = None
    hash_scheme: str | None = None
    key_id: str | None = None


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
    ip: str | None = None,
) -> Recorded:
    """Add an audit event to the current transaction; the caller's commit writes it with the change.

    `ip` is the client address; by default the one the web layer set for this request.
    The event is chained when the transaction commits (see _chain_pending): it has no id and no
    hash before then, and an event recorded inside a savepoint that is rolled back is dropped
    with it. Chaining at commit keeps the chain head locked only for the last moment of each
    transaction, not for the whole of it.
    """
    session = db.session()  # the session itself, not its scoped proxy
    if not session.in_transaction():
        # begun now (no statement is sent), so a rollback before any statement drops the event
        # too (_drop_rolled_back): with no transaction there would be nothing to roll back
        session.begin()
    if obj is not None and getattr(obj, "id", None) is None and object_id is None:
        session.flush()  # a new obj gets its id for the event
    ev = Recorded(
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
        ip=(ip if ip is not None else _client_address.get())[:45],
    )
    _pending(session).append((session.get_nested_transaction(), ev))
    return ev


def _pending(session) -> list:
    """The events recorded in this session's transaction and not yet chained, each with the
    savepoint (or None) it was recorded in."""
    return session.info.setdefault("audit_pending", [])


@sa.event.listens_for(Session, "before_commit")
def _chain_pending(session) -> None:
    """At the outermost commit: lock the head, chain the transaction's events in the order they
    were recorded, write them and move the head. Appends queue on the locked head (to the end
    of the commit), so the chain never forks and ids follow the chain.

    Other writers wait while the head is locked, so as little as possible happens then: the
    events' canonical JSON is made before, and the lock is taken (with the events' ids, on
    PostgreSQL) in one statement, then the events are written and the head moved in one more on
    PostgreSQL (two on SQLite), all from statements built once (bench/README.md; docs/deploy.md
    "Growth").
    """
    if session.in_nested_transaction():
        return
    if not session.info.get("audit_pending"):
        # a rider whose events were dropped since (never seen: ride_on_commit is refused in a
        # savepoint) still goes, on its own
        if "audit_rider" in session.info:
            rider, params, check = session.info.pop("audit_rider")
            check(session.connection().execute(rider.alone(), params).one())
        return
    events = [ev for _, ev in session.info.pop("audit_pending")]
    session.flush()  # the changes first: a failing flush leaves nothing chained
    ring = keyring()
    bodies = [canonical(_payload(ev)) for ev in events]
    conn = session.connection()
    statements = _head_statements(
        min(max(int(current_app.config["AUDIT_CHAINS"]), 1), 64),
        conn.dialect.name == "postgresql",
    )
    # the lock: to the end of the commit
    figures = sum(1 for ev in events if may_change_figures(ev.action))
    if figures:
        session.info["audit_figures_changed"] = True  # told after the commit (_tell_figures)
    chain, prev, ids = _advance_head(conn, statements, len(events), figures)
    rows = []
    for ev, body in zip(events, bodies, strict=True):
        ev.chain, ev.prev_hash, ev.hash_scheme, ev.key_id = chain, prev, HMAC_V1, ring.current_id
        ev.hash = prev = keyed_hash(ev, ring.current_id, ring.current, body)
        rows.append({name: getattr(ev, name) for name in _EVENT_COLUMNS})
    if ids is None:
        # SQLite: executemany, sent as one multi-row INSERT from a compiled form SQLAlchemy
        # keeps (a multi-row .values() is compiled again every time); the ids come back from
        # the INSERT, in the rows' order
        ids = conn.execute(statements.insert, rows).scalars().all()
        conn.execute(statements.move, {"chain": chain, "last": ids[-1], "hash": prev})
    else:  # PostgreSQL: the ids drawn under the head's lock; events and head in one statement,
        # with the rider's writes if one is waiting (ride_on_commit)
        for row, event_id in zip(rows, ids, strict=True):
            row["id"] = event_id
        rider, params, check = session.info.pop("audit_rider", None) or (None, {}, None)
        result = conn.execute(
            _events_write(rider),
            {**params, "rows": json_rows(rows), "chain": chain, "last": ids[-1], "hash": prev},
        )
        if check is not None:
            check(result.one())
    for ev, event_id in zip(events, ids, strict=True):
        ev.id = event_id


@sa.event.listens_for(Session, "after_commit")
def _tell_figures(session) -> None:
    """After a commit whose events may change a summary figure: the figures_changed signal,
    sent with the app (the dashboard computes its figures again ahead of the next page load)."""
    if session.info.pop("audit_figures_changed", None) and has_app_context():
        try:
            figures_changed.send(current_app._get_current_object())
        except Exception:  # the change is committed: a receiver's failure must not undo a reply
            current_app.logger.exception("A figures_changed receiver failed")


@sa.event.listens_for(Session, "after_soft_rollback")
def _drop_rolled_back(session, transaction) -> None:
    """Events recorded inside a transaction or savepoint that was rolled back go with it."""
    if transaction.parent is None:
        session.info.pop("audit_rider", None)  # its writes were never sent
    pending = session.info.get("audit_pending")
    if not pending:
        return
    if transaction.parent is None:
        pending.clear()
        return

    def inside(txn) -> bool:
        while txn is not None:
            if txn is transaction:
                return True
            txn = txn.parent
        return False

    pending[:] = [(txn, ev) for txn, ev in pending if not inside(txn)]


@sa.event.listens_for(Session, "after_transaction_end")
def _forget_uncommitted(session, transaction) -> None:
    """A session closed without committing leaves no event for its next transaction."""
    if transaction.parent is None and not transaction.nested:
        session.info.pop("audit_pending", None)
        session.info.pop("audit_rider", None)
        session.info.pop("audit_figures_changed", None)


@dataclass
class ChainProblem:
    """The first thing `verify_chain` found wrong: which event, why (reason), and details."""

    event_id: int
    reason: str
    detail: dict[str, Any] = field(default_factory=dict)


def _check_event(ev: AuditEvent, prev: str, newest_rank: int, ring: Keyring) -> str | None:
    """Why `ev` does not chain onto `prev`, or None.

    `newest_rank` is the rank of the newest key seen so far (-1: only unkeyed events): keyed
    events cover prev_hash, so nothing made without a key, or with a key retired before that one,
    may follow them.
    """
    if ev.prev_hash != prev:
        return "prev_hash"
    if ev.hash_scheme == LEGACY:
        return "unkeyed_after_keyed" if newest_rank >= 0 else _same(legacy_hash(ev), ev.hash)
    if ev.hash_scheme != HMAC_V1:
        return "scheme"
    key = ring.get(ev.key_id)
    if key is None:
        return "unknown_key"
    if ring.rank[ev.key_id] < newest_rank:
        return "retired_key"
    return _same(keyed_hash(ev, ev.key_id, key), ev.hash)


def _same(expected: str, actual: str) -> str | None:
    # bytes: compare_digest refuses str with non-ASCII characters, which an edited row may hold
    return None if hmac.compare_digest(expected.encode(), (actual or "").encode()) else "hash"


@dataclass
class ChainWalk:
    """What `walk_chain` saw: events checked, the last good one, and the first problem."""

    checked: int
    last_id: int
    last_hash: str
    problem: ChainProblem | None


def verify_chain(batch: int = 2000) -> tuple[int, ChainProblem | None]:
    """(events checked, first problem or None): see walk_chain."""
    walk = walk_chain(batch)
    return walk.checked, walk.problem


def walk_chain(batch: int = 2000) -> ChainWalk:
    """Walk the log in id order, each event on its chain, and check that each chain passes
    through its head.

    The problem, if any, names the first event that does not chain (edited, inserted, deleted
    before it, moved to another chain, rehashed without the key, marked unkeyed after a keyed
    event, made with a key that is not configured) or, when a chain's newest events were
    deleted, the newest event its head still remembers ("tail"). The heads are read first, so
    events appended while the walk runs are checked too and do not count as tampering. The walk
    ends on the newest event of all (last_id, last_hash: what an anchor records).
    """
    ring = keyring()
    heads = {
        h.id: (h.last_event_id, h.hash, h.count) for h in db.session.scalars(sa.select(AuditHead))
    }
    tails: dict[int, _Tail] = {}
    checked, last_id, last_hash, newest_rank = 0, 0, GENESIS, -1

    def result(problem: ChainProblem | None) -> ChainWalk:
        return ChainWalk(checked, last_id, last_hash, problem)

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
            tail = tails.get(ev.chain)
            if tail is None:
                tail = tails[ev.chain] = _Tail(*heads.get(ev.chain, (0, GENESIS, 0)))
            if not tail.head_reached and ev.id > tail.head_id:
                return result(ChainProblem(tail.head_id, "tail"))  # passed its head unmet
            reason = _check_event(ev, tail.prev, newest_rank, ring)
            if reason is not None:
                return result(ChainProblem(ev.id, reason, {"key_id": ev.key_id or ""}))
            if ev.hash_scheme == HMAC_V1:
                newest_rank = ring.rank[ev.key_id]
            tail.prev, tail.count, tail.last_id = ev.hash, tail.count + 1, ev.id
            checked, last_id, last_hash = checked + 1, ev.id, ev.hash
            if ev.id == tail.head_id and not tail.head_reached:
                if tail.prev != tail.head_hash or tail.count != tail.head_count:
                    return result(ChainProblem(tail.head_id, "tail"))
                tail.head_reached = True
        db.session.expunge_all()
    for chain, (head_id, _hash, head_count) in sorted(heads.items()):
        if (head_id or head_count) and (chain not in tails or not tails[chain].head_reached):
            return result(ChainProblem(head_id, "tail"))  # the chain ends before its head
    for chain, tail in sorted(tails.items()):
        if tail.last_id > tail.head_id:  # beyond the head read at the start: appended since?
            head = db.session.get(AuditHead, chain, populate_existing=True)
            if head is None or head.last_event_id < tail.last_id:
                detail = {"head": head.last_event_id if head else 0, "chain": chain}
                return result(ChainProblem(tail.last_id, "head_behind", detail))
    return result(None)


@dataclass
class _Tail:
    """One chain as far as the walk has come, and its head as read at the start."""

    head_id: int
    head_hash: str
    head_count: int
    prev: str = GENESIS
    count: int = 0
    last_id: int = 0
    head_reached: bool = field(init=False)

    def __post_init__(self):
        self.head_reached = self.head_id == 0 and self.head_count == 0  # an empty head
