"""Rectification rules: items made from findings, the deadline rule, and every move an item
makes from the notice to 销号 (respond, extend, verify, return, accept a risk, escalate), with
the 约谈 and 通报 records of an overdue item.

Every public command checks first (permission, the item's version, the move in states.py, the
input), then changes: it moves the item, writes a RectificationEvent, an audit event and the
notifications, and commits once (unit_of_work). Files are written before the commit and removed
again when the command fails. The functions used by the inspection commands (create_findings,
restart_deadlines, withdraw_findings) add to the session and leave the commit to their caller.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload, selectinload

from .. import audit, inputs, storage
from ..auth import permissions
from ..checklists import basis
from ..clock import utc_to_local
from ..errors import Conflict, InvalidTransition, NotAllowed, NotFound, ValidationFailed
from ..extensions import db
from ..models import (
    Answer,
    Attachment,
    ChecklistItem,
    Finding,
    Inspection,
    Notification,
    RectificationEvent,
    RectificationItem,
    Round,
    User,
    utcnow,
)
from ..models.rectification import ESCALATION_TARGETS, SEVERITIES
from ..notifications import services as notifications
from ..transaction import unit_of_work
from . import duties, states

MAX_TEXT = 5000
MAX_NAME = 100
MAX_FILES = 10  # per step: photos and scans of sealed documents
# A due date may move this far at most (an extension, a return): beyond it is a typing error.
MAX_DAYS_AHEAD = 730


# --- items made from findings -------------------------------------------------------------------


def open_item(finding: Finding, *, deadline_days: int) -> RectificationItem:
    """The open rectification item of a new finding. Its due date is set when the notice is
    served (the clock starts then); until then pages say "within N days of service"."""
    return RectificationItem(
        finding=finding,
        unit_id=finding.unit_id,
        deadline_days=deadline_days,
        due_date=None,
        status="open",
    )


def restart_deadlines(findings: Iterable[Finding], *, served_on: date) -> None:
    """The deadline rule: an open item is due `deadline_days` after the notice was served,
    unless an extension or a return already fixed its due date."""
    for finding in findings:
        rect = finding.rectification
        if (
            rect is not None
            and rect.status == "open"
            and not any(e.kind in ("extension_granted", "returned") for e in rect.events)
        ):
            rect.due_date = served_on + timedelta(days=rect.deadline_days)


def withdraw_findings(inspection: Inspection, *, actor: User, reason: str) -> None:
    """Delete the findings and items of an inspection being reopened, with an audit event each.

    Raises InvalidTransition once the unit has acted on any of its items.
    """
    findings = list(
        db.session.scalars(
            sa.select(Finding)
            .where(Finding.inspection_id == inspection.id)
            .options(selectinload(Finding.rectification).selectinload(RectificationItem.events))
        )
    )
    if any(
        f.rectification and (f.rectification.status != "open" or f.rectification.events)
        for f in findings
    ):
        raise InvalidTransition(
            _(
                "The unit has already acted on the rectification items; the inspection cannot be reopened."
            )
        )
    # A finding that also stands for the same defect found in another submitted checklist of
    # the visit (duties.py) stays, moved to that checklist's item: the defect is still on record.
    kept = []
    for finding in findings:
        links = [la for la in duties.finding_links(finding) if la.submitted]
        if not links:
            continue
        to = links[0]
        before = {"inspection_id": finding.inspection_id, "item_id": finding.item_id}
        other = db.session.get(Answer, _answer_key(to))
        finding.inspection = db.session.get(Inspection, to.inspection_id)
        finding.item = db.session.get(ChecklistItem, to.item_id)
        if other is not None and (other.finding_description or "").strip():
            finding.description = other.finding_description.strip()
        audit.record(
            actor,
            "finding.move",
            finding,
            before=before,
            after={"inspection_id": to.inspection_id, "item_id": to.item_id, "reason": reason},
        )
        kept.append(finding)
    findings = [f for f in findings if f not in kept]
    # Later findings that repeat these lose the link first, or deleting them breaks the key.
    withdrawn = [f.id for f in findings]
    if withdrawn:
        db.session.execute(
            sa.update(Finding)
            .where(Finding.repeat_of_id.in_(withdrawn))
            .values(repeat_of_id=None)
            .execution_options(synchronize_session=False)
        )
    # Reminders of the withdrawn items go with them (they name an item that no longer exists).
    items = [f.rectification.id for f in findings if f.rectification is not None]
    if items:
        db.session.execute(
            sa.delete(Notification)
            .where(Notification.item_id.in_(items))
            .execution_options(synchronize_session=False)
        )
    for finding in findings:
        audit.record(
            actor,
            "finding.withdraw",
            finding,
            before={"code": finding.code},
            after={"reason": reason},
        )
        if finding.rectification:
            db.session.delete(finding.rectification)
        db.session.delete(finding)


def _answer_key(link: duties.LinkedAnswer) -> int | None:
    return db.session.scalar(
        sa.select(Answer.id).where(
            Answer.inspection_id == link.inspection_id, Answer.item_id == link.item_id
        )
    )


def _finding_code(inspection: Inspection, n: int) -> str:
    return f"{inspection.round.year}-R{inspection.round.seq}-{inspection.unit.code}-{inspection.id}-{n:02d}"


CATEGORY_BY_TEMPLATE = {
    "RESP": "responsibility",
    "CII": "cii",
    "MLPS": "mlps",
    "MLPS_EXT": "mlps",
    "DATA": "data_pi",
    "WEB": "web_secrecy",
}


def create_findings(
    inspection: Inspection,
    active: list[ChecklistItem],
    answers: dict[int, Answer],
    *,
    today: date,
    actor: User,
) -> list[Finding]:
    """A finding and an open rectification item for every non-compliant answer among the
    active items of a submitted inspection. A finding of the same unit and duty in an earlier
    round within REPEAT_WINDOW_DAYS makes it a repeat: linked, counted and (REPEAT_RAISES_
    SEVERITY) one level more severe. An advisory item (no statutory basis) yields no finding
    for a unit other than a 党政机关 or 事业单位; GB/T 22239 clauses are those of the system's
    MLPS level. Adds to the session, audits and notifies the unit; the
    caller commits."""
    earlier = _earlier_findings(inspection, [i.duty for i in active], today)
    level = inspection.system.mlps_level if inspection.system is not None else None
    by_duty = duties.visit_findings_by_duty(inspection)
    findings = []
    for item in active:
        answer = answers.get(item.id)
        if answer is None or answer.result != "noncompliant":
            continue  # no answer: a linked item answered in another checklist of the visit
        if item.advisory and inspection.unit.kind not in basis.ADVISORY_FINDING_KINDS:
            continue  # no law, regulation or rule behind it: a recommendation, never a finding
        held = by_duty.get(item.duty)
        if held is not None and held.item is not None and duties.covers(held.item, item):
            continue  # one defect, one finding: the visit already holds it (duties.py)
        days = answer.finding_deadline_days or item.deadline_days
        finding = Finding(
            code=_finding_code(inspection, len(findings) + 1),
            inspection=inspection,
            item_id=item.id,
            unit_id=inspection.unit_id,
            system_id=inspection.system_id,
            description=answer.finding_description.strip(),
            category=CATEGORY_BY_TEMPLATE.get(
                inspection.template.key, inspection.template.key.lower()
            ),
            severity=answer.finding_severity or item.severity,
            major_hazard=item.major_hazard,
            legal_basis=basis.resolve(item.legal_basis, level),
            # 整改要求 printed on the notice.
            required_action=item.required_action or "",
            repeat_of_id=earlier[item.duty].id if item.duty in earlier else None,
        )
        previous = earlier.get(item.duty)
        if previous is not None:
            finding.repeat_count = previous.repeat_count + 1
            if current_app.config["REPEAT_RAISES_SEVERITY"]:
                raised = _one_level_up(finding.severity)
                if raised != finding.severity:
                    finding.raised_from, finding.severity = finding.severity, raised
        db.session.add_all([finding, open_item(finding, deadline_days=days)])
        findings.append(finding)
    db.session.flush()
    if findings:
        notifications.notify(
            notifications.unit_users(inspection.unit_id),
            "items_opened",
            data={"count": len(findings), "inspection_id": inspection.id},
        )
    for finding in findings:
        audit.record(
            actor,
            "finding.create",
            finding,
            after={
                "code": finding.code,
                "severity": finding.severity,
                "deadline_days": finding.rectification.deadline_days,
                "repeat_of": finding.repeat_of_id,
                "repeat_count": finding.repeat_count,
                "raised_from": finding.raised_from,
            },
        )
    return findings


def _earlier_findings(
    inspection: Inspection, duties_: list[str], today: date
) -> dict[str, Finding]:
    """By duty (an item's code, or its same_as: the same defect found by another checklist
    counts too), the latest finding of the same unit from an earlier round, submitted within
    REPEAT_WINDOW_DAYS before today, for `repeat_of`."""
    if not duties_:
        return {}
    since = datetime.combine(
        today - timedelta(days=current_app.config["REPEAT_WINDOW_DAYS"]), datetime.min.time()
    )
    rnd = inspection.round
    rows = db.session.execute(
        sa.select(ChecklistItem, Finding)
        .join(Finding, Finding.item_id == ChecklistItem.id)
        .join(Inspection, Inspection.id == Finding.inspection_id)
        .join(Round, Round.id == Inspection.round_id)
        .where(
            Finding.unit_id == inspection.unit_id,
            Finding.inspection_id != inspection.id,
            sa.or_(ChecklistItem.code.in_(duties_), ChecklistItem.same_as.in_(duties_)),
            Inspection.submitted_at >= since,
            sa.or_(Round.year < rnd.year, sa.and_(Round.year == rnd.year, Round.seq < rnd.seq)),
        )
        .order_by(Round.year, Round.seq, Finding.id)
    )
    return {item.duty: finding for item, finding in rows}


def _one_level_up(severity: str) -> str:
    """low -> medium -> high (SEVERITIES runs from high to low)."""
    index = SEVERITIES.index(severity)
    return SEVERITIES[max(index - 1, 0)]


# --- loading and checking -----------------------------------------------------------------------


def load(item_id: int, *, actor: User, action: str = "rectification.view", lock: bool = False):
    """The item with its finding, inspection and history. With lock=True its row is locked to
    the end of the transaction, so two moves on one item queue and the second sees the first.
    Raises NotFound when it does not exist or the actor may not see it (another unit's items
    are "not found"), NotAllowed when the actor sees it but may not do `action`."""
    stmt = sa.select(RectificationItem).where(RectificationItem.id == item_id)
    if lock:
        stmt = stmt.with_for_update(of=RectificationItem).execution_options(populate_existing=True)
    item = db.session.scalar(
        stmt.options(
            joinedload(RectificationItem.finding)
            .joinedload(Finding.inspection)
            .selectinload(Inspection.members),
            joinedload(RectificationItem.unit),
            selectinload(RectificationItem.events).selectinload(RectificationEvent.attachments),
        )
    )
    if item is None or not permissions.is_visible(actor, item):
        raise NotFound(_("No such rectification item."))
    permissions.require(actor, action, item)
    return item


def _check_version(item: RectificationItem, expected: int | None) -> None:
    if expected is not None and item.version != expected:
        raise Conflict(
            _(
                "This item was changed by someone else since you opened it. Reload the page to "
                "see its current state, then try again."
            ),
            details={"version": item.version, "status": item.status},
        )


def _check_move(item: RectificationItem, to: str) -> None:
    """Raise InvalidTransition, before anything changes, unless the table allows the move."""
    if not states.can_move(item, to):
        states.transition(item, to)  # raises with the message


def _text(value: Any, what: str, *, required: bool = False, limit: int = MAX_TEXT) -> str:
    text = (value or "").strip() if isinstance(value, str | None) else None
    if text is None or len(text) > limit or not inputs.storable(text):
        raise ValidationFailed(
            _("%(what)s may have at most %(n)d characters of text.", what=what, n=limit),
            details={"field": what},
        )
    if required and not text:
        raise ValidationFailed(_("%(what)s is required.", what=what), details={"field": what})
    return text


def _date(
    value: Any,
    what: str,
    *,
    today: date,
    not_before: date | None = None,
    not_after: date | None = None,
) -> date:
    if not isinstance(value, date):
        raise ValidationFailed(_("%(what)s is required.", what=what), details={"field": what})
    if not_before is not None and value < not_before:
        raise ValidationFailed(
            _("%(what)s cannot be before %(date)s.", what=what, date=not_before.isoformat()),
            details={"field": what},
        )
    if not_after is not None and value > not_after:
        raise ValidationFailed(
            _("%(what)s cannot be after %(date)s.", what=what, date=not_after.isoformat()),
            details={"field": what},
        )
    if value > today + timedelta(days=MAX_DAYS_AHEAD):
        raise ValidationFailed(_("%(what)s is too far ahead.", what=what), details={"field": what})
    return value


def _after_the_deadline(item: RectificationItem, today: date) -> date:
    """The first day an extension may move the item's deadline to: after the current one (and
    after today)."""
    return max(today, item.due_date or today) + timedelta(days=1)


def _found_on(item: RectificationItem) -> date:
    """The day of the inspection that found the item's problem: the visit's recorded start (or
    arrival), else its planned day, else the day the item was made."""
    inspection = item.finding.inspection
    visit = inspection.visit
    started = visit.started_at or visit.arrived_at if visit is not None else None
    if started is not None:
        return utc_to_local(started).date()
    return inspection.scheduled_on or utc_to_local(item.created_at).date()


@dataclass
class Upload:
    """A file sent with a step: its bytes and the name it had on the sender's device."""

    data: bytes
    filename: str = ""


class _Files:
    """Files written during a command, removed again if the command does not commit."""

    def __init__(self):
        self.stored: list[tuple[Upload, storage.StoredFile]] = []

    def check(self, uploads: list[Upload] | None) -> list[tuple[Upload, dict[str, Any]]]:
        uploads = list(uploads or [])
        if len(uploads) > MAX_FILES:
            raise ValidationFailed(_("Attach at most %(n)d files at a time.", n=MAX_FILES))
        return [(u, storage.inspect_bytes(u.data)) for u in uploads]

    def attach(self, event: RectificationEvent, checked, actor: User | None) -> None:
        # Every file claimed at once, in one order: two commands attaching the same files in
        # another order would otherwise each hold one claim and wait for the other's.
        storage.claim(*(hashlib.sha256(upload.data).hexdigest() for upload, _info in checked))
        for upload, info in checked:
            stored = storage.put(upload.data, info)
            self.stored.append((upload, stored))
            db.session.add(
                Attachment(
                    sha256=stored.sha256,
                    mime=info["mime"],
                    size=info["size"],
                    width=info["width"],
                    height=info["height"],
                    exif=info["exif"],
                    original_name=upload.filename.replace("\\", "/").rsplit("/", 1)[-1][:255],
                    kind="document" if info["mime"] == "application/pdf" else "photo",
                    rectification_event_id=event.id,
                    uploaded_by_id=actor.id if actor is not None else None,
                )
            )


@contextmanager
def _command() -> Iterator[_Files]:
    """One command, start to end: committed at the end; on any refusal or failure rolled back
    (releasing the item's row lock) with the files it wrote removed."""
    files = _Files()
    try:
        with unit_of_work():
            yield files
    except BaseException:
        for _upload, stored in files.stored:
            storage.discard(stored)
        raise


def _event(
    item: RectificationItem,
    kind: str,
    actor: User | None,
    *,
    message: str = "",
    data: dict[str, Any] | None = None,
    on_behalf: bool = False,
) -> RectificationEvent:
    """A step in the item's history; every step raises the item's version."""
    event = RectificationEvent(
        item=item,
        kind=kind,
        actor_id=actor.id if actor is not None else None,
        message=message,
        data=data or {},
        on_behalf=on_behalf,
    )
    db.session.add(event)
    db.session.flush()
    item.version += 1
    return event


def _state(item: RectificationItem) -> dict[str, Any]:
    return {"status": item.status, "due_date": item.due_date, "version": item.version}


def _unit_step_permission(on_behalf: bool) -> str:
    """A unit's step is the unit's own, or the office's entering a paper one for it (代录)."""
    return "rectification.record_for_unit" if on_behalf else "rectification.respond"


def _code(item: RectificationItem) -> dict[str, Any]:
    return {"code": item.finding.code}


# --- the unit's steps ---------------------------------------------------------------------------


def respond(
    item_id: int,
    *,
    actor: User,
    cause: str,
    measures: str,
    completed_on: date | None,
    responsible_person: str,
    responsible_phone: str = "",
    files: list[Upload] | None = None,
    on_behalf: bool = False,
    source: str = "",
    expected_version: int | None = None,
    today: date,
    now: datetime | None = None,
) -> RectificationItem:
    """The unit's 整改报告 for one item (or the office entering a paper one for it, naming its
    source): cause, measures taken, completion date, responsible person, evidence files.
    open|returned -> submitted; the office and the original team are told.

    Raises NotFound, NotAllowed, Conflict (stale version), InvalidTransition, ValidationFailed,
    EvidenceRefused, all before anything changes. Commits.
    """
    with _command() as fs:
        item = load(item_id, actor=actor, action=_unit_step_permission(on_behalf), lock=True)
        _check_version(item, expected_version)
        _check_move(item, "submitted")
        data = {
            "cause": _text(cause, _("The cause"), required=True),
            "measures": _text(measures, _("The measures taken"), required=True),
            # done between the inspection that found it and today
            "completed_on": _date(
                completed_on,
                _("The completion date"),
                today=today,
                not_before=min(_found_on(item), today),
                not_after=today,
            ).isoformat(),
            "responsible_person": _text(
                responsible_person, _("The responsible person"), required=True, limit=MAX_NAME
            ),
            "responsible_phone": _text(responsible_phone, _("The phone"), limit=50),
        }
        if on_behalf:
            data["source"] = _text(source, _("The source of the paper response"), required=True)
        checked = fs.check(files)
        before = _state(item)
        states.transition(item, "submitted")
        item.responsible_person = data["responsible_person"]
        item.responsible_phone = data["responsible_phone"]
        item.responded_at = now or utcnow()
        event = _event(item, "response", actor, data=data, on_behalf=on_behalf)
        fs.attach(event, checked, actor)
        audit.record(
            actor,
            "rectification.respond",
            item,
            before=before,
            after={
                **_state(item),
                "event": event.id,
                "files": len(checked),
                "on_behalf": on_behalf,
            },
        )
        notifications.notify(
            notifications.office_users() + notifications.team_users(item.finding.inspection),
            "response_submitted",
            item,
            data=_code(item),
            exclude=actor,
        )
    return item


def request_extension(
    item_id: int,
    *,
    actor: User,
    reason: str,
    proposed_date: date | None,
    interim_measures: str,
    on_behalf: bool = False,
    source: str = "",
    expected_version: int | None = None,
    today: date,
) -> RectificationItem:
    """延期申请: reason, proposed new due date, interim measures, while it is the unit's turn
    and no other request waits; the office is told and decides. Commits."""
    with _command():
        item = load(item_id, actor=actor, action=_unit_step_permission(on_behalf), lock=True)
        _check_version(item, expected_version)
        if item.status not in states.UNIT_TURN:
            raise InvalidTransition(
                _("An extension can be asked only while the item is pending or returned.")
            )
        if item.pending_extension is not None:
            raise InvalidTransition(_("An extension request for this item is already waiting."))
        message = _text(reason, _("The reason"), required=True)
        data = {
            "proposed_date": _date(
                proposed_date,
                _("The proposed date"),
                today=today,
                not_before=_after_the_deadline(item, today),
            ).isoformat(),
            "interim_measures": _text(interim_measures, _("The interim measures"), required=True),
            "due_date": item.due_date.isoformat() if item.due_date else None,
        }
        if on_behalf:
            data["source"] = _text(source, _("The source of the paper request"), required=True)
        event = _event(
            item, "extension_requested", actor, message=message, data=data, on_behalf=on_behalf
        )
        audit.record(
            actor,
            "rectification.extension_request",
            item,
            after={**_state(item), "event": event.id, "proposed_date": data["proposed_date"]},
        )
        notifications.notify(
            notifications.office_users(),
            "extension_requested",
            item,
            data={**_code(item), "proposed_date": data["proposed_date"]},
            exclude=actor,
        )
    return item


def decide_extension(
    item_id: int,
    *,
    actor: User,
    grant: bool,
    due_date: date | None = None,
    reason: str = "",
    expected_version: int | None = None,
    today: date,
) -> RectificationItem:
    """Grant the waiting extension request (the due date moves to `due_date`, by default the
    proposed one; the history keeps both dates) or refuse it with a reason. Commits."""
    with _command():
        item = load(item_id, actor=actor, action="rectification.extend", lock=True)
        _check_version(item, expected_version)
        request = item.pending_extension
        if request is None:
            raise InvalidTransition(_("No extension request is waiting for this item."))
        message = _text(reason, _("The reason"), required=not grant)
        before = _state(item)
        if grant:
            new_due = _date(
                due_date or date.fromisoformat(request.data["proposed_date"]),
                _("The new due date"),
                today=today,
                not_before=_after_the_deadline(item, today),  # more time, never less
            )
            data = {"from": item.due_date.isoformat() if item.due_date else None}
            item.due_date = new_due
            data["to"] = new_due.isoformat()
            event = _event(item, "extension_granted", actor, message=message, data=data)
        else:
            event = _event(item, "extension_refused", actor, message=message)
        audit.record(
            actor,
            "rectification.extension_grant" if grant else "rectification.extension_refuse",
            item,
            before=before,
            after={**_state(item), "event": event.id},
        )
        notifications.notify(
            notifications.unit_users(item.unit_id),
            event.kind,
            item,
            data={**_code(item), "due_date": item.due_date and item.due_date.isoformat()},
        )
    return item


# --- the office's steps -------------------------------------------------------------------------


@dataclass
class Recheck:
    """An on-site re-check (复查): when, and by whom."""

    checked_on: date
    checked_by: str


def _recheck_data(item: RectificationItem, recheck: Recheck | None, today: date) -> dict[str, Any]:
    if recheck is None:
        return {}
    if not isinstance(recheck.checked_on, date) or recheck.checked_on > today:
        raise ValidationFailed(_("Give the day of the re-check, not a day in the future."))
    # It checks work the unit reports done: not before the day the report says it was done (the
    # day a paper report was typed in, 代录, may come after an on-site re-check).
    done = [e.data.get("completed_on") for e in item.events if e.kind == "response"]
    if done and done[-1]:
        completed = min(date.fromisoformat(done[-1]), today)
        if recheck.checked_on < completed:
            raise ValidationFailed(
                _(
                    "The re-check cannot be before the day the unit reports the work done, "
                    "%(date)s.",
                    date=completed.isoformat(),
                )
            )
    return {
        "recheck": {
            "checked_on": recheck.checked_on.isoformat(),
            "checked_by": _text(recheck.checked_by, _("Who checked"), required=True, limit=200),
        }
    }


def verify(
    item_id: int,
    *,
    actor: User,
    note: str = "",
    recheck: Recheck | None = None,
    files: list[Upload] | None = None,
    expected_version: int | None = None,
    today: date,
    now: datetime | None = None,
) -> RectificationItem:
    """验收通过并销号: close a submitted item after checking the unit's evidence (and,
    optionally, on site with its own evidence). Coordinators and the inspectors of the original
    team. Raises as respond does. Commits."""
    with _command() as fs:
        item = load(item_id, actor=actor, action="rectification.verify", lock=True)
        _check_version(item, expected_version)
        _check_move(item, "closed")
        data = _recheck_data(item, recheck, today)
        message = _text(note, _("The note"))
        checked = fs.check(files)
        before = _state(item)
        states.transition(item, "closed")
        item.closed_at = now or utcnow()
        item.closed_by_id = actor.id
        event = _event(item, "verified", actor, message=message, data=data)
        fs.attach(event, checked, actor)
        audit.record(
            actor,
            "rectification.verify",
            item,
            before=before,
            after={**_state(item), "event": event.id},
        )
        notifications.notify(
            notifications.unit_users(item.unit_id), "verified", item, data=_code(item)
        )
    return item


def return_item(
    item_id: int,
    *,
    actor: User,
    reason: str,
    due_date: date | None,
    recheck: Recheck | None = None,
    files: list[Upload] | None = None,
    expected_version: int | None = None,
    today: date,
) -> RectificationItem:
    """退回: the response is not enough; the unit answers again by a new due date. Commits."""
    with _command() as fs:
        item = load(item_id, actor=actor, action="rectification.verify", lock=True)
        _check_version(item, expected_version)
        _check_move(item, "returned")
        message = _text(reason, _("The reason"), required=True)
        new_due = _date(due_date, _("The new due date"), today=today, not_before=today)
        data = {
            **_recheck_data(item, recheck, today),
            "from": item.due_date.isoformat() if item.due_date else None,
            "to": new_due.isoformat(),
        }
        checked = fs.check(files)
        before = _state(item)
        states.transition(item, "returned")
        item.due_date = new_due
        event = _event(item, "returned", actor, message=message, data=data)
        fs.attach(event, checked, actor)
        audit.record(
            actor,
            "rectification.return",
            item,
            before=before,
            after={**_state(item), "event": event.id},
        )
        notifications.notify(
            notifications.unit_users(item.unit_id),
            "returned",
            item,
            data={**_code(item), "due_date": new_due.isoformat()},
        )
    return item


def accept_risk(
    item_id: int,
    *,
    actor: User,
    reason: str,
    until: date | None,
    expected_version: int | None = None,
    today: date,
) -> RectificationItem:
    """The office accepts the risk until a date (the unit cannot fix it sooner); the item opens
    again, due that day, when the acceptance ends (`flask rectification remind`). Commits."""
    with _command():
        item = load(item_id, actor=actor, action="rectification.manage", lock=True)
        _check_version(item, expected_version)
        _check_move(item, "risk_accepted")
        message = _text(reason, _("The reason"), required=True)
        until = _date(
            until,
            _("The end of the acceptance"),
            today=today,
            not_before=today + timedelta(days=1),
        )
        before = _state(item)
        states.transition(item, "risk_accepted")
        item.risk_accepted_until = until
        event = _event(
            item, "risk_accepted", actor, message=message, data={"until": until.isoformat()}
        )
        audit.record(
            actor,
            "rectification.accept_risk",
            item,
            before=before,
            after={**_state(item), "until": until, "event": event.id},
        )
        notifications.notify(
            notifications.unit_users(item.unit_id),
            "risk_accepted",
            item,
            data={**_code(item), "until": until.isoformat()},
        )
    return item


def escalate(
    item_id: int,
    *,
    actor: User,
    to: str,
    body: str,
    reason: str,
    expected_version: int | None = None,
) -> RectificationItem:
    """移送: hand the item over to the police (公安), the secrecy bureau (保密), a sector
    regulator, or to a case (立案), naming the receiving body. Final. Commits."""
    with _command():
        item = load(item_id, actor=actor, action="rectification.manage", lock=True)
        _check_version(item, expected_version)
        _check_move(item, "escalated")
        if to not in ESCALATION_TARGETS:
            raise ValidationFailed(
                _("Choose whom the item is handed over to."), details={"field": "to"}
            )
        data = {"to": to, "body": _text(body, _("The receiving body"), required=True, limit=200)}
        message = _text(reason, _("The reason"), required=True)
        before = _state(item)
        states.transition(item, "escalated")
        item.escalated_to = to
        event = _event(item, "escalated", actor, message=message, data=data)
        audit.record(
            actor,
            "rectification.escalate",
            item,
            before=before,
            after={**_state(item), **data, "event": event.id},
        )
        notifications.notify(
            notifications.unit_users(item.unit_id), "escalated", item, data={**_code(item), **data}
        )
    return item


def record_interview(
    item_id: int,
    *,
    actor: User,
    held_on: date | None,
    place: str,
    office_people: str,
    unit_people: str,
    content: str,
    commitments: str = "",
    files: list[Upload] | None = None,
    expected_version: int | None = None,
    today: date,
) -> RectificationEvent:
    """约谈: the record of an interview with the unit about an item not fixed in time: date,
    place, people on both sides, what was said, what the unit committed to, scans. Commits."""
    with _command() as fs:
        item = load(item_id, actor=actor, action="rectification.manage", lock=True)
        _check_version(item, expected_version)
        if item.status in states.DONE_STATES:
            raise InvalidTransition(
                _("This item is finished; there is nothing to interview about.")
            )
        held_on = _date(held_on, _("The date of the interview"), today=today)
        if held_on > today:
            raise ValidationFailed(_("An interview is recorded after it was held."))
        data = {
            "held_on": held_on.isoformat(),
            "place": _text(place, _("The place"), required=True, limit=200),
            "office_people": _text(
                office_people, _("The office's participants"), required=True, limit=500
            ),
            "unit_people": _text(
                unit_people, _("The unit's participants"), required=True, limit=500
            ),
            "commitments": _text(commitments, _("The unit's commitments")),
        }
        message = _text(content, _("What was said"), required=True)
        checked = fs.check(files)
        event = _event(item, "interview", actor, message=message, data=data)
        fs.attach(event, checked, actor)
        audit.record(
            actor,
            "rectification.interview",
            item,
            after={**_state(item), "event": event.id, "held_on": held_on},
        )
        notifications.notify(
            notifications.unit_users(item.unit_id), "interview", item, data=_code(item)
        )
    return event


def record_notification(
    item_id: int,
    *,
    actor: User,
    to_body: str,
    content: str,
    expected_version: int | None = None,
) -> RectificationEvent:
    """通报: tell the unit's superior department about an item not fixed in time (printable).
    Commits."""
    with _command():
        item = load(item_id, actor=actor, action="rectification.manage", lock=True)
        _check_version(item, expected_version)
        if item.status in states.DONE_STATES:
            raise InvalidTransition(_("This item is finished; there is nothing to report."))
        data = {"to": _text(to_body, _("The superior department"), required=True, limit=200)}
        message = _text(content, _("The text of the notification"), required=True)
        event = _event(item, "notification", actor, message=message, data=data)
        audit.record(
            actor,
            "rectification.notify_superior",
            item,
            after={**_state(item), **data, "event": event.id},
        )
    return event


# --- many items at once -------------------------------------------------------------------------


BULK_ACTIONS = ("verify", "return", "extend")
_BULK_PERMISSION = {
    "verify": "rectification.verify",
    "return": "rectification.verify",
    "extend": "rectification.extend",
}


@dataclass
class BulkRefusal:
    item_id: int
    code: str
    message: str


def _check_bulk(item: RectificationItem, action: str, due_date: date | None) -> None:
    if action == "verify":
        _check_move(item, "closed")
    elif action == "return":
        _check_move(item, "returned")
    elif item.status not in states.UNIT_TURN:
        raise InvalidTransition(
            _("Only an item pending rectification or returned can be given more time.")
        )
    elif item.due_date is not None and due_date <= item.due_date:  # more time, never less
        raise InvalidTransition(
            _(
                "The new due date must be after the current one, %(date)s.",
                date=item.due_date.isoformat(),
            )
        )


def bulk(
    versions: dict[int, int],
    action: str,
    *,
    actor: User,
    today: date,
    note: str = "",
    due_date: date | None = None,
    now: datetime | None = None,
) -> list[RectificationItem]:
    """Verify, return (a reason and a new due date) or extend (a new due date) many items, each
    checked, recorded and audited as if handled alone. `versions` maps item ids to the versions
    the user saw. All or nothing: when any item is refused nothing changes and ValidationFailed
    lists every refusal (details: [{item_id, code, message}]). Commits.
    """
    if action not in BULK_ACTIONS:
        raise ValidationFailed(_("Unknown action."))
    if not versions:
        raise ValidationFailed(_("Select at least one item."))
    if len(versions) > 500:
        raise ValidationFailed(_("Select at most 500 items at a time."))
    message = _text(note, _("The note"), required=action == "return")
    if action in ("return", "extend"):
        # an extension gives at least one more day, as a single grant does (_after_the_deadline)
        earliest = today + timedelta(days=1) if action == "extend" else today
        due_date = _date(due_date, _("The new due date"), today=today, not_before=earliest)
    with _command():
        items, refusals = [], []
        for item_id in sorted(versions):  # one lock order: two bulk runs cannot deadlock
            try:
                item = load(item_id, actor=actor, action=_BULK_PERMISSION[action], lock=True)
                _check_version(item, versions[item_id])
                _check_bulk(item, action, due_date)
                items.append(item)
            except (NotFound, NotAllowed, InvalidTransition, Conflict) as err:
                refusals.append(BulkRefusal(item_id, err.code, err.message))
        if refusals:
            raise ValidationFailed(
                _(
                    "Nothing was changed: %(n)d of the selected items cannot be handled.",
                    n=len(refusals),
                ),
                details=[r.__dict__ for r in refusals],
            )
        for item in items:
            before = _state(item)
            data = {"bulk": True}
            if action == "verify":
                states.transition(item, "closed")
                item.closed_at, item.closed_by_id = now or utcnow(), actor.id
                kind = "verified"
            else:
                data.update({"from": item.due_date and item.due_date.isoformat()})
                data["to"] = due_date.isoformat()
                if action == "return":
                    states.transition(item, "returned")
                item.due_date = due_date
                kind = "returned" if action == "return" else "extension_granted"
            event = _event(item, kind, actor, message=message, data=data)
            audit.record(
                actor,
                f"rectification.bulk_{action}",
                item,
                before=before,
                after={**_state(item), "event": event.id},
            )
            notifications.notify(
                notifications.unit_users(item.unit_id),
                kind,
                item,
                data={**_code(item), "due_date": item.due_date and item.due_date.isoformat()},
            )
    return items


# --- expiry -------------------------------------------------------------------------------------


def reopen_expired_risks(*, today: date) -> list[RectificationItem]:
    """Risk acceptances that ended before today open their items again, due the day the
    acceptance ended (the unit had until then). Run by `flask rectification remind`. Commits."""
    with _command():
        items = list(
            db.session.scalars(
                sa.select(RectificationItem)
                .where(
                    RectificationItem.status == "risk_accepted",
                    RectificationItem.risk_accepted_until < today,
                )
                .order_by(RectificationItem.id)
                .with_for_update()
            )
        )
        for item in items:
            before = _state(item)
            states.transition(item, "open")
            item.due_date = item.risk_accepted_until
            event = _event(
                item, "risk_reopened", None, data={"until": item.risk_accepted_until.isoformat()}
            )
            audit.record(
                None,
                "rectification.risk_reopened",
                item,
                before=before,
                after={**_state(item), "event": event.id},
            )
            notifications.notify(
                notifications.unit_users(item.unit_id) + notifications.office_users(),
                "risk_reopened",
                item,
                data=_code(item),
            )
    return items
