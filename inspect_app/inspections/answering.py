"""Answering: an inspector's changes to answers, sent in batches by the tablet's outbox (the fill
page, the API), each checked and applied by compare-and-set on its answer's version, replayed
safely by its change_id, and written with its audit events in one transaction.

A batch reads and writes a few rows as plain values, not mapped objects, from statements built
once: the ORM's bookkeeping and building each statement again were most of a batch's CPU time
(bench/README.md, "Load on PostgreSQL").
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from .. import audit, inputs
from ..auth import permissions
from ..errors import NotFound, ValidationFailed
from ..extensions import db
from ..models import (
    Answer,
    AppliedChange,
    ChecklistItem,
    Inspection,
    InspectionMember,
    User,
    utcnow,
)
from ..models.base import json_insert, json_rows
from ..models.inspection import ANSWER_RESULTS
from .services import ANSWER_FIELDS, ensure_started, items_of, load, require_fill

SEVERITIES = ("high", "medium", "low")
MAX_TEXT = 5000

# Counts and sizes on a checklist; a larger number is a typing error (or an attack on float()).
MAX_NUMBER = 1e15


def _clean_change(item: ChecklistItem | _Item, change: dict[str, Any]) -> dict[str, Any]:
    """The answer fields of one change, checked against the item. Raises ValidationFailed."""
    fields = {k: change[k] for k in ANSWER_FIELDS if k in change}
    if not fields:
        raise ValidationFailed(_("The change has no answer field."))
    if "result" in fields:
        result = fields["result"]
        if result is not None and result not in ANSWER_RESULTS:
            raise ValidationFailed(_("Unknown result %(value)s.", value=str(result)[:40]))
        if item.kind != "yes_no" and result not in (None, "not_applicable"):
            raise ValidationFailed(_("Only yes/no items take a compliance result."))
    if "value" in fields and fields["value"] is not None:
        fields["value"] = _clean_value(item, fields["value"])
    for key in ("note", "finding_description"):
        if key in fields:
            fields[key] = _clean_text(fields[key] if fields[key] is not None else "")
    if "finding_severity" in fields and fields["finding_severity"] not in (None, *SEVERITIES):
        raise ValidationFailed(_("The risk level must be high, medium or low."))
    if "finding_deadline_days" in fields and fields["finding_deadline_days"] is not None:
        days = fields["finding_deadline_days"]
        if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 365:
            raise ValidationFailed(_("The deadline must be a whole number of days from 1 to 365."))
    return fields


def _clean_text(text: Any) -> str:
    if not isinstance(text, str) or len(text) > MAX_TEXT:
        raise ValidationFailed(_("Text may have at most %(n)d characters.", n=MAX_TEXT))
    if not inputs.storable(text):
        raise ValidationFailed(
            _("The text contains a NUL character or broken characters that cannot be stored.")
        )
    return text


def _clean_value(item: ChecklistItem | _Item, value: Any) -> Any:
    if item.kind == "yes_no":
        raise ValidationFailed(_("Yes/no items take a result, not a value."))
    if item.kind == "choice":
        allowed = [o.get("value") for o in item.options or []]
        if value not in allowed:
            raise ValidationFailed(_("Choose one of the listed options."))
        return value
    if item.kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            try:
                value = float(str(value).strip())
            except ValueError:
                raise ValidationFailed(_("Enter a number.")) from None
        if value != value or abs(value) > MAX_NUMBER:  # NaN, infinite or absurd
            raise ValidationFailed(
                _("Enter a number between -%(n)s and %(n)s.", n=f"{MAX_NUMBER:,.0f}")
            )
        return int(value) if float(value).is_integer() else value
    if item.kind == "date":
        try:
            return date.fromisoformat(str(value)).isoformat()
        except ValueError:
            raise ValidationFailed(_("Enter a date as YYYY-MM-DD.")) from None
    return _clean_text(str(value))


def answer_dict(answer: Answer, item: ChecklistItem | None = None) -> dict[str, Any]:
    item = item or answer.item
    return _answer_out(
        answer,
        item.code if item else None,
        answer.updated_by.username if answer.updated_by else None,
    )


def _answer_out(answer: Answer | _Answer, item_code: str | None, updated_by: str | None):
    """An answer as the API returns it (answer_dict), from a mapped answer or a batch's row."""
    return {
        "item_id": answer.item_id,
        "item_code": item_code,
        "result": answer.result,
        "value": answer.value,
        "note": answer.note,
        "finding_description": answer.finding_description,
        "finding_severity": answer.finding_severity,
        "finding_deadline_days": answer.finding_deadline_days,
        "version": answer.version,
        "updated_by": updated_by,
        "updated_at": answer.updated_at.isoformat() + "Z" if answer.updated_at else None,
    }


def _request_hash(change: dict[str, Any]) -> str:
    return hashlib.sha256(
        # surrogatepass: a lone surrogate must be hashable to be rejected by the field check.
        json.dumps(change, sort_keys=True, ensure_ascii=False, default=str).encode(
            "utf-8", "surrogatepass"
        )
    ).hexdigest()


def apply_changes(
    inspection_id: int, changes: list[dict[str, Any]], *, actor: User, now: datetime | None = None
) -> list[dict[str, Any]]:
    """Apply a batch of answer changes made on a tablet, each {change_id, item_id, base_version,
    <fields>}. Returns one outcome per change, in order: `applied` (with the new answer),
    `duplicate` (already applied: nothing changes), `conflict` (made on a stale version: the
    server's answer is returned and nothing changes) or `rejected` (bad input, with a message).

    Raises NotFound/NotAllowed/InvalidTransition for the inspection as a whole, ValidationFailed
    for a malformed batch. One transaction; commits.
    """
    if not isinstance(changes, list) or not changes:
        raise ValidationFailed(_("Send a non-empty list of changes."))
    if len(changes) > 500:
        raise ValidationFailed(_("Send at most 500 changes at a time."))
    if now is not None and now.tzinfo is not None:  # every datetime column holds naive UTC
        now = now.astimezone(UTC).replace(tzinfo=None)
    # The first try takes every change_id for new, which nearly all are, and reads none; the
    # INSERT that stores them says otherwise (a batch sent again after a lost reply, or the same
    # change sent at once to another inspection), and then the batch is worked out again,
    # reading the known ones first.
    for attempt in range(3):
        try:
            return _apply_batch(inspection_id, changes, actor=actor, now=now, fresh=attempt == 0)
        except _Retry:
            # Nothing of the try is kept: the batch is worked out again on what is committed.
            db.session.rollback()
    raise _Retry("the batch met a concurrent writer three times")  # a 500: never seen in tests


class _Retry(Exception):
    """The batch must be worked out again from the start (apply_changes rolls back)."""


@dataclass(slots=True)
class _Item:
    """Of a checklist item, what a change is checked and answered with."""

    id: int
    code: str
    kind: str
    options: list | None


@dataclass(slots=True)
class _Answer:
    """An answer row as a batch reads it and, change by change, will write it."""

    id: int
    item_id: int
    result: str | None
    value: Any
    note: str | None
    finding_description: str | None
    finding_severity: str | None
    finding_deadline_days: int | None
    version: int
    updated_by_id: int | None
    updated_at: datetime | None
    updated_by: str | None  # the username, as the API returns it


@dataclass(slots=True)
class _Seen:
    """A change_id already applied: stored before, or earlier in this batch."""

    inspection_id: int
    request_hash: str
    response: dict[str, Any]


@dataclass
class _Batch:
    """What one batch will write, once its outcomes are known: its answers (as their latest
    state in memory, with the version each had when loaded) and its new change_ids."""

    inspection: Inspection
    actor: User
    now: datetime
    items: dict[int, _Item]
    answers: dict[int, _Answer]
    seen: dict[str, _Seen]
    loaded_version: dict[int, int] = field(default_factory=dict)
    touched: dict[int, _Answer] = field(default_factory=dict)
    remembered: list[dict[str, Any]] = field(default_factory=list)


def _apply_batch(inspection_id, changes, *, actor: User, now: datetime | None, fresh: bool):
    """One try at a batch, in the same few statements whatever its size (bench/load.py): the
    inspection (locked), the named items with their answers, the known change_ids (unless
    `fresh`: taken for new), then the new change_ids and the answers (_write: on PostgreSQL
    sent with the audit events at the commit)."""
    # Only the items and answers this batch names are loaded: a batch touches a few of the
    # checklist's items, and loading all of them was most of its cost (bench/load.py).
    named = {
        c["item_id"]
        for c in changes
        if isinstance(c, dict)
        and type(c.get("item_id")) is int
        and 1 <= c["item_id"] <= inputs.DB_INT_MAX  # a larger one is no item: rejected below
    }
    conn = db.session.connection()
    inspection = _locked(conn, inspection_id)
    if inspection is None or not permissions.is_visible(actor, inspection):
        raise NotFound(_("No such inspection."))
    require_fill(actor, inspection)
    # Read once the lock is held: on PostgreSQL the rows a statement reads are those of its
    # start, so answers read in the statement that waited for the lock would be the ones from
    # before the writer it waited for.
    items, answers = _items_and_answers_named(conn, inspection, named)
    if inspection.status == "planned" or len(answers) < len(items):
        inspection = load(
            inspection_id, actor=actor, action="inspection.fill", lock=True, team_only=True
        )
        ensure_started(inspection, actor, items_of(inspection))
        db.session.flush()
        items, answers = _items_and_answers_named(conn, inspection, named)
    ids = set() if fresh else {_change_id(c) for c in changes} - {None}
    seen = {}
    if ids:
        known = _statements().known_changes
        seen = {row.change_id: _Seen(*row[1:]) for row in conn.execute(known, {"ids": list(ids)})}
    batch = _Batch(inspection, actor, now or utcnow(), items, answers, seen)
    outcomes = [_apply_one(batch, c) for c in changes]
    if fresh:
        # A change that is not applied is not stored, so only reading its change_id tells a
        # replay (a duplicate, or a change_id used for another change) from a new change.
        unsure = {
            _change_id(c)
            for o, c in zip(outcomes, changes, strict=True)
            if o["status"] in ("conflict", "rejected")
        } - {None}
        if unsure and conn.execute(_statements().any_known, {"ids": list(unsure)}).first():
            raise _Retry("a change not applied was known")
    _write(conn, batch)
    db.session.commit()
    return outcomes


@dataclass(frozen=True)
class _BatchStatements:
    named: sa.Select
    locked: sa.Select
    known_changes: sa.Select
    any_known: sa.Select
    store_changes: sa.Insert
    write_answers: sa.Update
    write_both: audit.Rider | None  # PostgreSQL: the two in one statement


_ANSWER_COLUMNS = (
    "id",
    "item_id",
    *ANSWER_FIELDS,
    "version",
    "updated_by_id",
    "updated_at",
)
_ANSWER_WRITE = (*ANSWER_FIELDS, "version", "updated_by_id", "updated_at")
# What a batch stores of a change applied (every column of applied_changes).
_APPLIED_COLUMNS = (
    "change_id",
    "inspection_id",
    "user_id",
    "request_hash",
    "response",
    "created_at",
)


@functools.cache
def _statements_for(dialect: str) -> _BatchStatements:
    """A batch's statements, built once per database kind (SQLAlchemy then compiles each once
    and keeps it)."""
    items, answers, users = ChecklistItem.__table__, Answer.__table__, User.__table__
    applied = AppliedChange.__table__
    insp, members = Inspection.__table__, InspectionMember.__table__
    ids = sa.bindparam("ids", expanding=True)
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    return _BatchStatements(
        named=(
            sa.select(
                items.c.id,
                items.c.code,
                items.c.kind,
                items.c.options,
                *(answers.c[name] for name in _ANSWER_COLUMNS),
                users.c.username,
            )
            .select_from(
                items.outerjoin(
                    answers,
                    sa.and_(
                        answers.c.item_id == items.c.id,
                        answers.c.inspection_id == sa.bindparam("inspection_id"),
                    ),
                ).outerjoin(users, users.c.id == answers.c.updated_by_id)
            )
            .where(items.c.template_id == sa.bindparam("template_id"), items.c.id.in_(ids))
        ),
        locked=(
            sa.select(
                insp.c.id,
                insp.c.status,
                insp.c.lead_id,
                insp.c.unit_id,
                insp.c.template_id,
                sa.select(sa.func.aggregate_strings(sa.cast(members.c.user_id, sa.String), ","))
                .where(members.c.inspection_id == insp.c.id)
                .scalar_subquery(),
            )
            .where(insp.c.id == sa.bindparam("inspection_id"))
            .with_for_update(of=insp)
        ),
        known_changes=sa.select(
            applied.c.change_id, applied.c.inspection_id, applied.c.request_hash, applied.c.response
        ).where(applied.c.change_id.in_(ids)),
        any_known=sa.select(applied.c.change_id).where(applied.c.change_id.in_(ids)).limit(1),
        # executemany, which SQLAlchemy sends as one multi-row INSERT ("insertmanyvalues") from
        # a compiled form it keeps (a multi-row .values() is compiled again every time)
        store_changes=insert(applied)
        .on_conflict_do_nothing(index_elements=[applied.c.change_id])
        # a row back only for what was inserted (rowcount is not reliable)
        .returning(applied.c.change_id),
        write_answers=sa.update(answers)
        .where(answers.c.id == sa.bindparam("w_id"), answers.c.version == sa.bindparam("w_base"))
        .values(
            {key: sa.bindparam(f"w_{key}") for key in _ANSWER_WRITE}
            # no value stays SQL NULL, as an answer row is made, not JSON null
            | {"value": sa.bindparam("w_value", type_=sa.JSON(none_as_null=True))}
        ),
        write_both=_write_both(applied, answers) if dialect == "postgresql" else None,
    )


def _write_both(applied: sa.Table, answers: sa.Table) -> audit.Rider:
    """PostgreSQL: the new change_ids and the answers in one statement, each list sent as JSON
    (:changes, :answers; json_rows) and counted back; sent with the batch's audit events
    (audit.ride_on_commit), or alone when there are none. The changes go in through json_insert
    (_APPLIED_COLUMNS); the answers' fields are read with their columns' own types. A JSON null
    becomes SQL NULL, as an answer's value is written (never JSON null); a data-modifying WITH
    runs to completion whether or not the statement reads it."""
    dialect = postgresql.dialect()
    columns = ", ".join(
        f"{name} {answers.c[name].type.compile(dialect=dialect)}" for name in _ANSWER_WRITE
    )
    assignments = ", ".join(f"{name} = w.{name}" for name in _ANSWER_WRITE)
    return audit.Rider(
        ctes=f"stored AS ({json_insert(applied.name, _APPLIED_COLUMNS, 'changes')}"
        " ON CONFLICT (change_id) DO NOTHING RETURNING 1),"
        f" written AS (UPDATE {answers.name} AS a SET {assignments}"
        f" FROM json_to_recordset(CAST(:answers AS json)) AS w(id integer, base integer, {columns})"
        " WHERE a.id = w.id AND a.version = w.base RETURNING 1)",
        returning="(SELECT count(*) FROM stored), (SELECT count(*) FROM written)",
    )


def _statements() -> _BatchStatements:
    return _statements_for(db.session.get_bind().dialect.name)


def _locked(conn: sa.Connection, inspection_id: int) -> Inspection | None:
    """The inspection, locked to the end of the transaction, as far as its permission checks
    read it (status, lead, unit, checklist, team): a transient copy, never in the session, read
    in one statement (the ORM's load with its team was a tenth of a batch's CPU time)."""
    row = conn.execute(_statements().locked, {"inspection_id": inspection_id}).first()
    if row is None:
        return None
    iid, status, lead_id, unit_id, template_id, team = row
    return Inspection(
        id=iid,
        status=status,
        lead_id=lead_id,
        unit_id=unit_id,
        template_id=template_id,
        members=[InspectionMember(user_id=int(u)) for u in (team or "").split(",") if u],
    )


def _items_and_answers_named(
    conn: sa.Connection, inspection: Inspection, ids: set[int]
) -> tuple[dict[int, _Item], dict[int, _Answer]]:
    """The items of the inspection's checklist among `ids` (others are not its items), and
    their answers where they exist, in one statement."""
    if not ids:
        return {}, {}
    items, answers = {}, {}
    rows = conn.execute(
        _statements().named,
        {"inspection_id": inspection.id, "template_id": inspection.template_id, "ids": list(ids)},
    )
    for item_id, code, kind, options, answer_id, *rest in rows:
        items[item_id] = _Item(item_id, code, kind, options)
        if answer_id is not None:
            answers[item_id] = _Answer(answer_id, *rest)
    return items, answers


_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _change_id(change: Any) -> str | None:
    """The change's UUID in its one stored spelling (lower case), or None when it has none."""
    if not isinstance(change, dict) or not isinstance(change.get("change_id"), str):
        return None
    change_id = change["change_id"].lower()
    return change_id if _UUID.fullmatch(change_id) else None


def _rejected(change_id: str | None, message: str) -> dict[str, Any]:
    return {"change_id": change_id, "status": "rejected", "message": message}


def _replayed(change_id: str, prior: _Seen, inspection: Inspection, digest: str):
    if prior.inspection_id == inspection.id and prior.request_hash == digest:
        return {**prior.response, "status": "duplicate"}
    return _rejected(change_id, _("This change_id was already used for a different change."))


def _apply_one(batch: _Batch, change: Any) -> dict[str, Any]:
    """One change of a batch: checked, then compare-and-set on the answer in memory, then
    remembered for replays. Nothing is written yet (_write does, for the whole batch).

    Every writer of an inspection's answers holds its row lock (load(lock=True), _locked), and a
    batch reads its answers once it holds it, so the answer loaded is the latest and the
    compare-and-set cannot lose to another writer; the one race left is the same new change_id
    sent at once to another inspection, which only the change_id's unique key settles (_write).
    """
    if not isinstance(change, dict):
        return _rejected(None, _("A change must be an object."))
    change_id = _change_id(change)
    if change_id is None:
        return _rejected(change.get("change_id"), _("change_id must be a UUID."))
    digest = _request_hash({**change, "change_id": change_id})
    if change_id in batch.seen:
        return _replayed(change_id, batch.seen[change_id], batch.inspection, digest)
    item_id = change.get("item_id")
    item = batch.items.get(item_id) if type(item_id) is int else None
    if item is None:
        return _rejected(change_id, _("Unknown item for this inspection."))
    base = change.get("base_version")
    if not isinstance(base, int) or isinstance(base, bool):
        return _rejected(change_id, _("base_version must be a whole number."))
    try:
        fields = _clean_change(item, change)
    except ValidationFailed as err:
        return _rejected(change_id, err.message)
    answer = batch.answers[item.id]
    unchanged = all(getattr(answer, k) == v for k, v in fields.items())
    if not unchanged and answer.version != base:
        server = _answer_out(answer, item.code, answer.updated_by)
        return {"change_id": change_id, "status": "conflict", "server": server}
    if not unchanged:  # unchanged: no new version, no audit event
        before = {k: getattr(answer, k) for k in fields}
        batch.loaded_version.setdefault(answer.id, answer.version)
        batch.touched[answer.id] = answer
        # The answer in memory takes the values it will be written with (_write), so a later
        # change of the batch to the same item compares with them.
        for key, value in fields.items():
            setattr(answer, key, value)
        answer.version = base + 1
        answer.updated_by_id, answer.updated_by = batch.actor.id, batch.actor.username
        answer.updated_at = batch.now
        audit.record(
            batch.actor,
            "answer.update",
            object_type="Answer",
            object_id=answer.id,
            hidden_from_unit=True,
            before={"item": item.code, **before},
            after={"item": item.code, **fields, "version": answer.version},
        )
    outcome = {
        "status": "applied",
        "answer": _answer_out(answer, item.code, answer.updated_by),
        "change_id": change_id,
    }
    _remember(batch, change_id, digest, outcome)
    return outcome


def _remember(batch: _Batch, change_id: str, digest: str, outcome: dict[str, Any]) -> None:
    """Keep the change to be stored as applied, and in `seen` for a replay later in the batch."""
    row = (change_id, batch.inspection.id, batch.actor.id, digest, outcome, batch.now)
    batch.remembered.append(dict(zip(_APPLIED_COLUMNS, row, strict=True)))
    batch.seen[change_id] = _Seen(batch.inspection.id, digest, outcome)


def _write(conn: sa.Connection, batch: _Batch) -> None:
    """The batch's new change_ids in one INSERT and its answers in one UPDATE (executemany);
    on PostgreSQL both in one statement.

    A change_id stored already (a first try takes every change_id for new), or meanwhile by
    another transaction (the same change sent at once to another inspection: waited for, not
    failed on, by ON CONFLICT DO NOTHING), makes the whole batch be worked out again (_Retry),
    when that change is known and replayed. An answer whose version moved since it was loaded
    (only if a writer skipped the inspection's lock) is never overwritten: the batch is worked
    out again too.
    """
    statements = _statements()
    # In change_id order: two batches that store some of the same new change_ids (sent to two
    # inspections at once) wait for each other in one order, never in a deadlock.
    batch.remembered.sort(key=lambda row: row["change_id"])
    answers = [
        {
            "id": answer_id,
            "base": batch.loaded_version[answer_id],
            **{key: getattr(answer, key) for key in _ANSWER_WRITE},
        }
        for answer_id, answer in batch.touched.items()
    ]
    if statements.write_both is not None:
        params = {"changes": json_rows(batch.remembered), "answers": json_rows(answers)}
        check = functools.partial(_check_written, len(batch.remembered), len(answers))
        if not audit.ride_on_commit(statements.write_both, params, check):
            check(conn.execute(statements.write_both.alone(), params).one())
        return
    stored = updated = 0
    if batch.remembered:
        stored = len(conn.execute(statements.store_changes, batch.remembered).all())
    if answers:
        updated = conn.execute(
            statements.write_answers,
            [{f"w_{key}": value for key, value in row.items()} for row in answers],
        ).rowcount
    _check_written(len(batch.remembered), len(answers), (stored, updated))


def _check_written(changes: int, answers: int, counts: tuple[int, int]) -> None:
    """What _write stored and wrote, against what it sent."""
    stored, updated = counts
    if stored != changes:
        raise _Retry("a change_id was stored meanwhile")
    if updated != answers:
        raise _Retry("an answer moved without the inspection's lock")
