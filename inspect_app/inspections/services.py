"""Inspection rules: loading, what applies, starting, submission into findings and a draft notice
(answering in batches: answering.py).

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
from sqlalchemy.orm import joinedload, selectinload

from .. import audit, inputs, rectification, storage
from ..auth import permissions
from ..checklists.basis import ADVISORY_FINDING_KINDS
from ..checklists.conditions import applies, visible_codes
from ..clock import local_today
from ..errors import InvalidTransition, NotAllowed, NotFound, ValidationFailed
from ..extensions import db
from ..labels import localized
from ..models import (
    Answer,
    Attachment,
    ChecklistItem,
    Inspection,
    InspectionMember,
    Round,
    SelfAnswer,
    User,
    utcnow,
)
from ..models.inspection import EDITABLE_STATUSES, ON_RECORD_STATUSES
from ..rectification import duties

# Fields an inspector may write in an answer change, and nothing else.
ANSWER_FIELDS = (
    "result",
    "value",
    "note",
    "finding_description",
    "finding_severity",
    "finding_deadline_days",
)


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
        label = f"{item.code} {localized(item, 'text')}"
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
