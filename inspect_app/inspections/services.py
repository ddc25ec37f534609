"""Inspection rules: what applies, answering in batches, submission into findings and a draft notice.

Every public command checks first, then changes, writes its audit events and commits once.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import joinedload, selectinload

from .. import audit, inputs, rectification, storage
from ..auth import permissions
from ..checklists.basis import ADVISORY_FINDING_KINDS
from ..checklists.conditions import applies, visible_codes
from ..clock import local_today
from ..errors import InvalidTransition, NotAllowed, NotFound, ValidationFailed
from ..extensions import db
from ..models import (
    Answer,
    AppliedChange,
    Attachment,
    ChecklistItem,
    Inspection,
    InspectionMember,
    Round,
    SelfAnswer,
    User,
    utcnow,
)
from ..models.inspection import ANSWER_RESULTS, EDITABLE_STATUSES, ON_RECORD_STATUSES
from ..rectification import duties

SEVERITIES = ("high", "medium", "low")
# Fields an inspector may write in an answer change, and nothing else.
ANSWER_FIELDS = (
    "result",
    "value",
    "note",
    "finding_description",
    "finding_severity",
    "finding_deadline_days",
)
MAX_TEXT = 5000
# Counts and sizes on a checklist; a larger number is a typing error (or an attack on float()).
MAX_NUMBER = 1e15


# --- loading ------------------------------------------------------------------------------------


def load(
    inspection_id: int,
    *,
    actor: User,
    action: str = "inspection.view",
    lock: bool = False,
    team_only: bool = False,
) -> Inspection:
    """The inspection with its team, checklist items and answers loaded in a fixed few queries.

    With lock=True the inspection row is locked to the end of the transaction (every command
    that changes an inspection takes it), so two writers on one inspection queue up: nobody
    answers an inspection that is being submitted, and the first answers are made once.
    Raises NotFound when it does not exist or the actor may not see it, NotAllowed when the
    actor sees it but may not do `action`. With team_only, only the team's rows come with it
    (the permission checks need no more): an answer batch's row is then a few narrow rows, not
    every column of the unit, system, round, checklist and team's users.
    """
    inspection = (
        db.session.execute(_load_statement(lock, team_only), {"inspection_id": inspection_id})
        .unique()
        .scalar_one_or_none()
    )
    if inspection is None or not permissions.is_visible(actor, inspection):
        raise NotFound(_("No such inspection."))
    permissions.require(actor, action, inspection)
    return inspection


@functools.cache
def _load_statement(lock: bool, team_only: bool) -> sa.Select:
    """load's statement, built once for each kind (an answer batch runs it every time)."""
    stmt = sa.select(Inspection).where(Inspection.id == sa.bindparam("inspection_id"))
    if lock:
        stmt = stmt.with_for_update(of=Inspection).execution_options(populate_existing=True)
    # One statement: the team is a handful of rows, joined rather than loaded after.
    options = (
        [joinedload(Inspection.members)]
        if team_only
        else [
            joinedload(Inspection.members).joinedload(InspectionMember.user),
            joinedload(Inspection.unit),
            joinedload(Inspection.system),
            joinedload(Inspection.round),
            joinedload(Inspection.template),
        ]
    )
    return stmt.options(*options)


def items_of(inspection: Inspection) -> list[ChecklistItem]:
    return list(
        db.session.scalars(
            sa.select(ChecklistItem)
            .where(ChecklistItem.template_id == inspection.template_id)
            .order_by(ChecklistItem.position)
        )
    )


def answers_of(inspection: Inspection) -> dict[int, Answer]:
    return {
        a.item_id: a
        for a in db.session.scalars(
            sa.select(Answer)
            .where(Answer.inspection_id == inspection.id)
            .options(selectinload(Answer.updated_by))
        )
    }


def show_if_value(item: ChecklistItem, answer: Answer | None) -> Any:
    """What a show_if condition compares: the result for yes/no items, else the value."""
    if answer is None:
        return None
    if item.kind == "yes_no" or answer.result == "not_applicable":
        return answer.result
    return answer.value


@dataclass
class Applicability:
    """Which items apply to the target (applies_if) and which are shown now (show_if)."""

    applicable: list[ChecklistItem]
    shown: set[str]

    @property
    def active(self) -> list[ChecklistItem]:
        return [i for i in self.applicable if i.code in self.shown]


def applicability(
    inspection: Inspection, items: list[ChecklistItem], answers: dict[int, Answer]
) -> Applicability:
    applicable = [
        i for i in items if applies(i.applies_if, unit=inspection.unit, system=inspection.system)
    ]
    by_code = {i.code: show_if_value(i, answers.get(i.id)) for i in applicable}
    by_code = {k: v for k, v in by_code.items() if v is not None}
    shown = visible_codes([(i.code, i.show_if) for i in applicable], by_code)
    return Applicability(applicable, shown)


def require_fill(actor: User, inspection: Inspection) -> None:
    permissions.require(actor, "inspection.fill", inspection)
    if not inspection.is_editable:
        raise InvalidTransition(
            _("This inspection has been submitted and is read-only."),
            details={"status": inspection.status},
        )


def previous_answers(inspection: Inspection, codes: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Last round's answers for the same unit (and system) by item code, from the most recent
    earlier submitted inspection. One query."""
    codes = list(codes)
    if not codes:
        return {}
    prev = (
        sa.select(
            ChecklistItem.code,
            Answer.result,
            Answer.value,
            Answer.note,
            Round.year,
            Round.seq,
            Inspection.id.label("inspection_id"),
        )
        .join(Answer, Answer.item_id == ChecklistItem.id)
        .join(Inspection, Inspection.id == Answer.inspection_id)
        .join(Round, Round.id == Inspection.round_id)
        .where(
            Inspection.unit_id == inspection.unit_id,
            Inspection.id != inspection.id,
            Inspection.status.in_(ON_RECORD_STATUSES),
            ChecklistItem.code.in_(codes),
            # Only rounds before this one: a reopened early inspection must not show later ones.
            sa.or_(
                Round.year < inspection.round.year,
                sa.and_(Round.year == inspection.round.year, Round.seq < inspection.round.seq),
            ),
        )
        .order_by(
            Round.year.desc(),
            Round.seq.desc(),
            Inspection.submitted_at.desc(),
            Inspection.id.desc(),
        )
    )
    if inspection.system_id is None:
        prev = prev.where(Inspection.system_id.is_(None))
    else:
        prev = prev.where(Inspection.system_id == inspection.system_id)
    out: dict[str, dict[str, Any]] = {}
    for row in db.session.execute(prev):
        if row.code not in out and (row.result is not None or row.value is not None):
            out[row.code] = {
                "result": row.result,
                "value": row.value,
                "note": row.note,
                "round": f"{row.year}-{row.seq}",
                "inspection_id": row.inspection_id,
            }
    return out


def _is_answered(item: ChecklistItem, answer: Answer | None) -> bool:
    if answer is None:
        return False
    if answer.result is not None:
        return True
    return item.kind != "yes_no" and answer.value not in (None, "")


def finding_prefill(question: str) -> str:
    """A first draft of the finding description from the item's question, for the inspector
    to edit: 是否 and the question mark are dropped. (fill.js mirrors this rule.)"""
    core = (question or "").strip().replace("是否", "").rstrip("？?。 ")
    return _("Not met: %(requirement)s", requirement=core)


# --- starting and answering -----------------------------------------------------------------------


def ensure_started(inspection: Inspection, actor: User, items: list[ChecklistItem]) -> None:
    """planned -> in_progress, creating one answer row per item (version 0) so that every later
    write is a compare-and-set on an existing row."""
    existing = set(
        db.session.scalars(sa.select(Answer.item_id).where(Answer.inspection_id == inspection.id))
    )
    for item in items:
        if item.id not in existing:
            db.session.add(Answer(inspection_id=inspection.id, item_id=item.id, version=0))
    if inspection.status == "planned":
        inspection.status = "in_progress"
        if inspection.visit.started_at is None:  # the record's start time, correctable on it
            inspection.visit.started_at = utcnow().replace(second=0, microsecond=0)
        audit.record(
            actor,
            "inspection.start",
            inspection,
            before={"status": "planned"},
            after={"status": "in_progress"},
            hidden_from_unit=True,
        )


def start_inspection(inspection_id: int, *, actor: User) -> Inspection:
    """Mark a planned inspection as started. Raises NotFound/NotAllowed/InvalidTransition. Commits."""
    inspection = load(inspection_id, actor=actor, action="inspection.fill", lock=True)
    require_fill(actor, inspection)
    ensure_started(inspection, actor, items_of(inspection))
    db.session.commit()
    return inspection


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


# A batch reads and writes a few rows as plain values, not mapped objects, from statements built
# once: the ORM's bookkeeping and building each statement again were most of a batch's CPU time
# (bench/README.md, "Load on PostgreSQL").


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
    inspection with its team (locked), the named items with their answers, the known
    change_ids (unless `fresh`: taken for new), then the new change_ids in one INSERT and the
    answers in one UPDATE (executemany), and the audit chain at commit."""
    inspection = load(
        inspection_id, actor=actor, action="inspection.fill", lock=True, team_only=True
    )
    require_fill(actor, inspection)
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
    items, answers = _items_and_answers_named(conn, inspection, named)
    if inspection.status == "planned" or len(answers) < len(items):
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
    known_changes: sa.Select
    any_known: sa.Select
    store_changes: sa.Insert
    write_answers: sa.Update
    write_both: sa.TextClause | None  # PostgreSQL: the two in one statement


_ANSWER_COLUMNS = (
    "id",
    "item_id",
    *ANSWER_FIELDS,
    "version",
    "updated_by_id",
    "updated_at",
)
_ANSWER_WRITE = (*ANSWER_FIELDS, "version", "updated_by_id", "updated_at")


@functools.cache
def _statements_for(dialect: str) -> _BatchStatements:
    """A batch's statements, built once per database kind (SQLAlchemy then compiles each once
    and keeps it)."""
    items, answers, users = ChecklistItem.__table__, Answer.__table__, User.__table__
    applied = AppliedChange.__table__
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


def _write_both(applied: sa.Table, answers: sa.Table) -> sa.TextClause:
    """PostgreSQL: the new change_ids and the answers in one statement, each list sent as JSON
    (:changes, :answers) and counted back. The changes become the table's own row type by
    column name; a JSON null becomes SQL NULL, as an answer's value is written (never JSON
    null); a data-modifying WITH runs to completion whether or not the SELECT reads it."""
    types = {
        "result": "varchar",
        "value": "json",
        "note": "text",
        "finding_description": "text",
        "finding_severity": "varchar",
        "finding_deadline_days": "integer",
        "version": "integer",
        "updated_by_id": "integer",
        "updated_at": "timestamp",
    }
    if set(types) != set(_ANSWER_WRITE):  # a field added to one and not the other
        raise RuntimeError("_write_both does not write every field of _ANSWER_WRITE")
    columns = ", ".join(f"{name} {kind}" for name, kind in types.items())
    assignments = ", ".join(f"{name} = w.{name}" for name in types)
    return sa.text(
        f"WITH stored AS (INSERT INTO {applied.name} SELECT * FROM"
        f" json_populate_recordset(NULL::{applied.name}, CAST(:changes AS json))"
        " ON CONFLICT (change_id) DO NOTHING RETURNING 1),"
        f" written AS (UPDATE {answers.name} AS a SET {assignments}"
        f" FROM json_to_recordset(CAST(:answers AS json)) AS w(id integer, base integer, {columns})"
        " WHERE a.id = w.id AND a.version = w.base RETURNING 1)"
        " SELECT (SELECT count(*) FROM stored), (SELECT count(*) FROM written)"
    )


def _statements() -> _BatchStatements:
    return _statements_for(db.session.get_bind().dialect.name)


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

    Every writer of an inspection's answers holds its row lock (load(lock=True)), so the answer
    loaded is the latest and the compare-and-set cannot lose to another writer; the one race
    left is the same new change_id sent at once to another inspection, which only the
    change_id's unique key settles (_write).
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
    batch.remembered.append(
        {
            "change_id": change_id,
            "inspection_id": batch.inspection.id,
            "user_id": batch.actor.id,
            "request_hash": digest,
            "response": outcome,
            "created_at": batch.now,
        }
    )
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
    answers = [
        {
            "id": answer_id,
            "base": batch.loaded_version[answer_id],
            **{key: getattr(answer, key) for key in _ANSWER_WRITE},
        }
        for answer_id, answer in batch.touched.items()
    ]
    if statements.write_both is not None:
        stored, updated = conn.execute(
            statements.write_both,
            {
                "changes": json.dumps(batch.remembered, ensure_ascii=False, default=_iso),
                "answers": json.dumps(answers, ensure_ascii=False, default=_iso),
            },
        ).one()
    else:
        stored = updated = 0
        if batch.remembered:
            stored = len(conn.execute(statements.store_changes, batch.remembered).all())
        if answers:
            updated = conn.execute(
                statements.write_answers,
                [{f"w_{key}": value for key, value in row.items()} for row in answers],
            ).rowcount
    if stored != len(batch.remembered):
        raise _Retry("a change_id was stored meanwhile")
    if updated != len(answers):
        raise _Retry("an answer moved without the inspection's lock")


def _iso(value: Any) -> str:
    """A datetime in the JSON a batch writes (naive UTC, as every datetime column holds)."""
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


# --- submission -----------------------------------------------------------------------------------


@dataclass
class Missing:
    """Something that blocks submission, pointing at an item when it is about one."""

    message: str
    item_id: int | None = None
    item_code: str | None = None


def missing_for_submit(
    inspection: Inspection,
    items: list[ChecklistItem] | None = None,
    answers: dict[int, Answer] | None = None,
    evidence_counts: dict[int, int] | None = None,
    linked: dict[int, list[duties.LinkedAnswer]] | None = None,
) -> list[Missing]:
    """Every reason the inspection cannot be submitted yet, in checklist order."""
    items = items if items is not None else items_of(inspection)
    answers = answers if answers is not None else answers_of(inspection)
    if evidence_counts is None:
        evidence_counts = evidence_counts_by_answer(inspection)
    missing = []
    active = applicability(inspection, items, answers).active
    if linked is None:
        linked = duties.linked_answers(inspection, active)
    held = duties.visit_findings_by_duty(inspection) if linked else {}
    for item in active:
        answer = answers.get(item.id)
        label = f"{item.code} {item.text}"
        if not _is_answered(item, answer) and linked.get(item.id):
            continue  # answered once, in another checklist of the visit (one defect, one finding)
        if not _is_answered(item, answer):
            missing.append(Missing(_("%(item)s is not answered.", item=label), item.id, item.code))
            continue
        covered = held.get(item.duty)
        # The visit already holds the finding of this duty (with its evidence): one defect, one
        # finding, so no second description and no second photo of it.
        held_elsewhere = (
            covered is not None and covered.item is not None and duties.covers(covered.item, item)
        )
        photos = evidence_counts.get(answer.id, 0)
        needs_evidence = item.evidence == "required" or (
            item.evidence == "required_if_noncompliant"
            and answer.result == "noncompliant"
            and not held_elsewhere
        )
        if needs_evidence and answer.result != "not_applicable" and photos == 0:
            missing.append(
                Missing(
                    _("%(item)s needs evidence (a photo or document).", item=label),
                    item.id,
                    item.code,
                )
            )
        # An advisory item gives an enterprise no finding, so it needs no finding description.
        gives_finding = not item.advisory or inspection.unit.kind in ADVISORY_FINDING_KINDS
        if held_elsewhere:
            gives_finding = False
        if (
            answer.result == "noncompliant"
            and gives_finding
            and not (answer.finding_description or "").strip()
        ):
            missing.append(
                Missing(
                    _("%(item)s is non-compliant but has no finding description.", item=label),
                    item.id,
                    item.code,
                )
            )
    if len(inspection.members) < 2:
        missing.append(Missing(_("The team needs at least two inspectors.")))
    return missing


def evidence_counts_by_answer(inspection: Inspection) -> dict[int, int]:
    rows = db.session.execute(
        sa.select(Attachment.answer_id, sa.func.count(Attachment.id))
        .where(Attachment.inspection_id == inspection.id, Attachment.answer_id.is_not(None))
        .group_by(Attachment.answer_id)
    )
    return {answer_id: n for answer_id, n in rows}


def score(
    items: list[ChecklistItem], answers: dict[int, Answer]
) -> tuple[float | None, float | None, bool]:
    """(score 0–100, compliance rate 0–1, vetoed) over yes/no items answered compliant or not.

    A non-compliant veto item (一票否决) caps the score at VETO_SCORE_CAP.
    """
    total = got = 0.0
    compliant = noncompliant = 0
    vetoed = False
    for item in items:
        answer = answers.get(item.id)
        if (
            item.kind != "yes_no"
            or answer is None
            or answer.result not in ("compliant", "noncompliant")
        ):
            continue
        total += item.weight
        if answer.result == "compliant":
            got += item.weight
            compliant += 1
        else:
            noncompliant += 1
            vetoed = vetoed or item.veto
    if total == 0:
        return None, None, False
    value = round(100 * got / total, 1)
    if vetoed:
        value = min(value, float(current_app.config["VETO_SCORE_CAP"]))
    return value, round(compliant / (compliant + noncompliant), 4), vetoed


def _snapshot_hash(
    inspection: Inspection, active: list[ChecklistItem], answers: dict[int, Answer]
) -> str:
    snapshot = [
        {"item": i.code, **{k: getattr(answers[i.id], k) for k in ANSWER_FIELDS}}
        for i in active
        if i.id in answers
    ]
    return hashlib.sha256(
        json.dumps(
            {"inspection": inspection.id, "answers": snapshot}, sort_keys=True, ensure_ascii=False
        ).encode()
    ).hexdigest()


def signing_problems(signatory_name: str | None, signature_png: bytes | None) -> list[Missing]:
    """What is missing or wrong in the representative's printed name and signature."""
    name = (signatory_name or "").strip()
    problems = []
    if not name:
        problems.append(Missing(_("The unit representative must print a name.")))
    if len(name) > 100:
        problems.append(Missing(_("The name may have at most 100 characters.")))
    if not inputs.storable(name):
        problems.append(Missing(_("The name contains characters that cannot be stored.")))
    if not signature_png:
        problems.append(Missing(_("The unit representative must sign.")))
    return problems


def submit_inspection(
    inspection_id: int,
    *,
    actor: User,
    signatory_name: str,
    signature_png: bytes | None,
    today: date | None = None,
    now: datetime | None = None,
) -> Inspection:
    """Submit a filled inspection, signed by the unit's representative and confirmed by the lead.

    In one transaction: findings and rectification items for every non-compliant answer (due date
    = notice date + deadline days), score and compliance rate, notice number, status submitted,
    audit events. Raises NotFound/NotAllowed, InvalidTransition when not editable, ValidationFailed
    listing what is missing (details = [{item_id, item_code, message}]). Commits.
    """
    inspection = load(inspection_id, actor=actor, action="inspection.fill", lock=True)
    require_fill(actor, inspection)
    if not permissions.can(actor, "inspection.submit", inspection):
        raise NotAllowed(_("Only the lead inspector can submit the inspection."))
    name = (signatory_name or "").strip()
    problems = signing_problems(name, signature_png)
    if current_app.config.get("REQUIRE_ARRIVAL_SCAN") and inspection.visit.arrived_at is None:
        problems.append(Missing(_("Register the arrival: scan the unit's code first.")))
    items = items_of(inspection)
    ensure_started(inspection, actor, items)
    db.session.flush()
    answers = answers_of(inspection)
    problems += missing_for_submit(inspection, items, answers)
    if problems:
        raise ValidationFailed(
            _("The inspection cannot be submitted yet: %(n)d thing(s) missing.", n=len(problems)),
            details=[m.__dict__ for m in problems],
        )
    now = now or utcnow()
    today = today or local_today()
    # The file is written first and the row committed after it, so a committed row always has
    # its file; if anything fails in between, the file goes again (a crash leaves it for
    # `flask evidence gc`).
    stored = storage.put_signature(signature_png)
    try:
        _submit(inspection, items, answers, stored, actor=actor, name=name, today=today, now=now)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        storage.discard(stored)
        raise
    return inspection


def _submit(inspection, items, answers, signature, *, actor, name, today, now) -> None:
    from ..reports.figures import answer_tally

    db.session.add(
        storage.signature_attachment(
            signature,
            kind="signature",
            name="signature.png",
            inspection_id=inspection.id,
            uploaded_by_id=actor.id,
        )
    )
    active = applicability(inspection, items, answers).active
    value, rate, vetoed = score(active, answers)
    findings = rectification.create_findings(inspection, active, answers, today=today, actor=actor)
    inspection.score, inspection.compliance_rate = value, rate
    # Counted as the dashboard counts them; the answers cannot change until a reopening.
    inspection.compliant_answers, inspection.noncompliant_answers = answer_tally(inspection.id)
    inspection.signatory_name = name
    inspection.signed_at = now
    inspection.signed_snapshot_sha256 = _snapshot_hash(inspection, active, answers)
    inspection.status = "submitted"
    inspection.submitted_at = now
    inspection.submitted_by_id = actor.id
    visit = inspection.visit
    if visit.ended_at is None and all(i.is_on_record for i in visit.inspections):
        visit.ended_at = now.replace(second=0, microsecond=0)  # the record's end, correctable
    if findings and visit.notice_status is None:
        # One notice per visit, drafted now and numbered only when a coordinator approves it.
        visit.notice_status = "draft"
        visit.notice_drafted_at = now
        audit.record(
            actor, "notice.draft", visit, after={"notice_status": "draft"}, hidden_from_unit=True
        )
    audit.record(
        actor,
        "inspection.submit",
        inspection,
        before={"status": "in_progress"},
        after={
            "status": "submitted",
            "score": value,
            "compliance_rate": rate,
            "vetoed": vetoed,
            "findings": len(findings),
            "visit_id": visit.id,
            "notice_status": visit.notice_status,
            "signatory": name,
            "signature_sha256": signature.sha256,
            "snapshot_sha256": inspection.signed_snapshot_sha256,
        },
    )


def reopen_inspection(inspection_id: int, *, actor: User, reason: str) -> Inspection:
    """Reopen a submitted inspection for correction (coordinators), with a reason on record.

    Its findings and rectification items are withdrawn and made again on the next submission;
    refused (InvalidTransition) once the unit has started answering any of them. Commits.
    """
    inspection = load(inspection_id, actor=actor, action="inspection.reopen", lock=True)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("Give a reason for reopening."))
    if inspection.status != "submitted":
        raise InvalidTransition(_("Only a submitted inspection can be reopened."))
    visit = inspection.visit
    if visit.notice_served_on is not None:
        raise InvalidTransition(
            _("The rectification notice has been served; the inspection can no longer be reopened.")
        )
    rectification.withdraw_findings(inspection, actor=actor, reason=reason)
    if visit.notice_status == "approved":
        # The notice's content changes: it goes back for approval, keeping its number.
        visit.notice_status = "draft"
        audit.record(
            actor,
            "notice.withdraw",
            visit,
            before={"notice_status": "approved"},
            after={"notice_status": "draft", "reason": reason},
        )
    inspection.status = "in_progress"
    inspection.score = inspection.compliance_rate = None
    inspection.compliant_answers = inspection.noncompliant_answers = None
    inspection.submitted_at = None
    audit.record(
        actor,
        "inspection.reopen",
        inspection,
        before={"status": "submitted"},
        after={"status": "in_progress", "reason": reason},
    )
    db.session.commit()
    return inspection


def my_inspections(
    actor: User,
    *,
    year: int | None = None,
    round_id: int | None = None,
    status: str | None = None,
) -> list[Inspection]:
    """Inspections the actor is on (inspectors) or may see (office), newest first; with a year,
    that year's and any older ones still being filled; narrowed to a round and a status."""
    stmt = permissions.scope(sa.select(Inspection), Inspection, actor).options(
        selectinload(Inspection.unit),
        selectinload(Inspection.system),
        selectinload(Inspection.round),
        selectinload(Inspection.template),
        selectinload(Inspection.members).selectinload(InspectionMember.user),
    )
    if year is not None:  # that year's, and any still being filled from before
        stmt = stmt.join(Round, Round.id == Inspection.round_id).where(
            sa.or_(Round.year == year, Inspection.status.in_(EDITABLE_STATUSES))
        )
    if round_id is not None:
        stmt = stmt.where(Inspection.round_id == round_id)
    if status is not None:
        stmt = stmt.where(Inspection.status == status)
    return list(
        db.session.scalars(
            stmt.order_by(Inspection.scheduled_on.desc().nulls_last(), Inspection.id.desc())
        )
    )


def rounds_of_year(year: int) -> list[Round]:
    """The year's rounds, in order (the filter of "my inspections")."""
    return list(db.session.scalars(sa.select(Round).where(Round.year == year).order_by(Round.seq)))


def progress_by_inspection(inspections: list[Inspection]) -> dict[int, tuple[int, int]]:
    """(answered, total applicable) per inspection, from two queries for the whole list."""
    if not inspections:
        return {}
    ids = [i.id for i in inspections]
    template_ids = {i.template_id for i in inspections}
    items_by_template: dict[int, list[ChecklistItem]] = {}
    for item in db.session.scalars(
        sa.select(ChecklistItem)
        .where(ChecklistItem.template_id.in_(template_ids))
        .order_by(ChecklistItem.position)
    ):
        items_by_template.setdefault(item.template_id, []).append(item)
    answers_by_inspection: dict[int, dict[int, Answer]] = {}
    for answer in db.session.scalars(sa.select(Answer).where(Answer.inspection_id.in_(ids))):
        answers_by_inspection.setdefault(answer.inspection_id, {})[answer.item_id] = answer
    out = {}
    for inspection in inspections:
        items = items_by_template.get(inspection.template_id, [])
        answers = answers_by_inspection.get(inspection.id, {})
        active = applicability(inspection, items, answers).active
        out[inspection.id] = (
            sum(1 for i in active if _is_answered(i, answers.get(i.id))),
            len(active),
        )
    return out


def encode_versions(versions: dict[int, int]) -> str:
    """{item id: version} as runs of consecutive ids with one version: "101-220:1 221:3".

    A checklist's items have consecutive ids, so a 120-item page needs a few bytes, not a
    kilobyte (fill.js reads and writes the same format).
    """
    runs: list[list[int]] = []  # [first id, last id, version]
    for item_id in sorted(versions):
        version = versions[item_id]
        if runs and runs[-1][1] == item_id - 1 and runs[-1][2] == version:
            runs[-1][1] = item_id
        else:
            runs.append([item_id, item_id, version])
    return " ".join(f"{a}:{v}" if a == b else f"{a}-{b}:{v}" for a, b, v in runs)


_RUN = re.compile(r"([0-9]{1,9})(?:-([0-9]{1,9}))?:([0-9]{1,9})")
MAX_VERSION_RUNS = 10_000


def decode_versions(text: str, ids: Iterable[int]) -> dict[int, int]:
    """The version of each of `ids` that the runs of encode_versions cover.

    Ranges are never expanded: a run "1-99999999:1" costs what "1:1" costs, and only the
    checklist's own ids are looked up. Malformed runs are skipped. Raises ValidationFailed for
    more runs than any checklist needs.
    """
    runs = (text or "").split()
    if len(runs) > MAX_VERSION_RUNS:
        raise ValidationFailed(_("The form is damaged: reload the page and try again."))
    bounds: list[tuple[int, int, int]] = []
    for run in runs:
        match = _RUN.fullmatch(run)
        if match is None:
            continue
        first, last, version = match.group(1), match.group(2) or match.group(1), match.group(3)
        if int(first) <= int(last):
            bounds.append((int(first), int(last), int(version)))
    bounds.sort()
    starts = [b[0] for b in bounds]
    out: dict[int, int] = {}
    for item_id in ids:
        # The covering run, if any, is the last one starting at or before item_id.
        at = bisect.bisect_right(starts, item_id) - 1
        if at >= 0 and bounds[at][1] >= item_id:
            out[item_id] = bounds[at][2]
    return out


@dataclass
class FillContext:
    """Everything the filling page and the API need about one inspection, in a fixed few queries."""

    inspection: Inspection
    items: list[ChecklistItem]
    answers: dict[int, Answer]
    applicability: Applicability
    previous: dict[str, dict[str, Any]]
    attachments: dict[int | None, list[Attachment]]
    # The unit's own answers (自查) by item id, shown beside the inspector's.
    self_answers: dict[int, Any] = field(default_factory=dict)
    # Answers to the same duty in the visit's other checklists, by item id (duties.py).
    linked: dict[int, list[duties.LinkedAnswer]] = field(default_factory=dict)

    @property
    def sections(self) -> list[tuple[int, str, str, list[ChecklistItem]]]:
        out: list[tuple[int, str, str, list[ChecklistItem]]] = []
        applicable = {i.id for i in self.applicability.applicable}
        for item in self.items:
            if item.id not in applicable:
                continue
            if not out or out[-1][0] != item.section_index:
                out.append((item.section_index, item.section_title, item.section_title_en, []))
            out[-1][3].append(item)
        return out

    @property
    def referenced_codes(self) -> set[str]:
        """Codes that some show_if condition looks at (the page marks only those)."""
        from ..checklists.conditions import referenced_codes

        out: set[str] = set()
        for item in self.items:
            if item.show_if:
                out |= referenced_codes(item.show_if)
        return out

    @property
    def versions_field(self) -> str:
        """The answer versions of the applicable items, the base of a no-JavaScript save."""
        return encode_versions(
            {
                i.id: self.answers[i.id].version if i.id in self.answers else 0
                for i in self.applicability.applicable
            }
        )

    @property
    def noncompliant(self) -> list[tuple[ChecklistItem, Answer, str, int]]:
        """(item, answer, risk level, deadline days) of every active non-compliant answer, in
        checklist order: what the unit's representative signs for."""
        out = []
        for item in self.applicability.active:
            answer = self.answers.get(item.id)
            if answer is not None and answer.result == "noncompliant":
                severity = answer.finding_severity or item.severity
                days = answer.finding_deadline_days or item.deadline_days
                out.append((item, answer, severity, days))
        return out

    @property
    def first_unanswered(self) -> int | None:
        """The id of the first active item without an answer (the page's "next unanswered")."""
        return next((i.id for i in self.applicability.active if not self.answered(i)), None)

    @property
    def unanswered(self) -> int:
        """How many active items have no answer yet."""
        done, total = self.progress
        return total - done

    def missing(self) -> list[Missing]:
        """What still blocks submission (see missing_for_submit), from what is loaded here."""
        counts = {aid: len(files) for aid, files in self.attachments.items() if aid is not None}
        return missing_for_submit(self.inspection, self.items, self.answers, counts, self.linked)

    def answered(self, item: ChecklistItem) -> bool:
        return _is_answered(item, self.answers.get(item.id)) or bool(self.linked.get(item.id))

    @property
    def progress(self) -> tuple[int, int]:
        active = self.applicability.active
        return sum(1 for i in active if self.answered(i)), len(active)


def fill_context(
    inspection_id: int, *, actor: User, action: str = "inspection.view"
) -> FillContext:
    """Load an inspection for filling or reading. Raises NotFound/NotAllowed."""
    inspection = load(inspection_id, actor=actor, action=action)
    items = items_of(inspection)
    answers = answers_of(inspection)
    attachments: dict[int | None, list[Attachment]] = {}
    for attachment in db.session.scalars(
        sa.select(Attachment)
        .where(Attachment.inspection_id == inspection.id)
        .order_by(Attachment.id)
    ):
        attachments.setdefault(attachment.answer_id, []).append(attachment)
    applies = applicability(inspection, items, answers)
    return FillContext(
        inspection=inspection,
        items=items,
        answers=answers,
        applicability=applies,
        linked=duties.linked_answers(inspection, applies.applicable),
        previous=previous_answers(inspection, [i.code for i in items]),
        attachments=attachments,
        self_answers={
            a.item_id: a
            for a in db.session.scalars(
                sa.select(SelfAnswer).where(SelfAnswer.inspection_id == inspection.id)
            )
        },
    )
