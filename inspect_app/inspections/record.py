"""The 检查记录 of a visit: its facts (time, place, method, 告知 and the unit's answers),
the inspectors' own signatures, and what the printed record reads.

Every command checks first, then changes, writes its audit event and commits once.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import IO

import sqlalchemy as sa
from flask_babel import gettext as _

from .. import audit, inputs, storage
from ..clock import day_start_utc
from ..errors import InvalidTransition, NotFound, ValidationFailed
from ..extensions import db
from ..models import (
    Answer,
    Attachment,
    ChecklistItem,
    Inspection,
    SelfAnswer,
    User,
    Visit,
    utcnow,
)
from ..models.inspection import INSPECTION_METHODS
from ..rectification import duties
from . import services

MAX_SUPPORT_STAFF = 20
TEXT_LIMITS = {
    "place": 300,
    "remote_authorisation": 300,
    "unit_reply": 2000,
    "representative_post": 100,
    "representative_phone": 50,
    "unit_statement": 5000,
    "refusal_witness": 100,
}


def _visit_for_update(inspection_id: int, *, actor: User) -> Visit:
    inspection = services.load(inspection_id, actor=actor, action="inspection.fill")
    return db.session.scalar(
        sa.select(Visit)
        .where(Visit.id == inspection.visit_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def parse_support_staff(text: str) -> list[dict[str, str]]:
    """Lines "name, organisation" (a Chinese comma too) as the record's 技术支撑人员."""
    staff = []
    for line in (text or "").splitlines():
        line = line.strip()
        if not line:
            continue
        name, _sep, organisation = line.replace("，", ",").partition(",")
        staff.append({"name": name.strip()[:100], "organisation": organisation.strip()[:200]})
    if len(staff) > MAX_SUPPORT_STAFF:
        raise ValidationFailed(
            _("At most %(n)d technical support staff can be listed.", n=MAX_SUPPORT_STAFF)
        )
    return staff


def update_record(
    inspection_id: int,
    *,
    actor: User,
    started_at: datetime | None,
    ended_at: datetime | None,
    method: str,
    support_staff: list[dict[str, str]],
    credentials_shown: bool,
    unit_refused_to_sign: bool,
    now: datetime | None = None,
    **texts: str,
) -> Visit:
    """Record the facts of the visit's 检查记录 (times are naive UTC, to the minute).

    texts: place, remote_authorisation, unit_reply, representative_post, representative_phone,
    unit_statement, refusal_witness. Refused (InvalidTransition) once the notice is approved: the
    record is then on file. Raises ValidationFailed for an end before the start, a start in the
    future or before the round's year, remote testing without its authorisation or a refusal
    without a witness. Commits.
    """
    visit = _visit_for_update(inspection_id, actor=actor)
    if visit.notice_status == "approved":
        raise InvalidTransition(_("The notice is approved: the inspection record is on file."))
    unknown = set(texts) - set(TEXT_LIMITS)
    if unknown:
        raise ValidationFailed(_("Unknown field."))
    clean = {}
    for name, limit in TEXT_LIMITS.items():
        value = (texts.get(name) or "").strip()
        if len(value) > limit or not inputs.storable(value):
            raise ValidationFailed(
                _(
                    "A field is too long (at most %(n)d characters) or has characters that "
                    "cannot be stored.",
                    n=limit,
                )
            )
        clean[name] = value
    problems = []
    if method not in INSPECTION_METHODS:
        problems.append(_("Choose the method of inspection."))
    now = now or utcnow()
    if started_at and started_at > now:
        problems.append(_("The start cannot be in the future."))
    if ended_at and ended_at > now:
        problems.append(_("The end cannot be in the future."))
    # A visit belongs to a round of a year's plan; it may start in the year before (a first
    # round under way early: the demo does it in January), not earlier (1999 was accepted).
    earliest = date(visit.round.year - 1, 1, 1)
    if started_at and started_at < day_start_utc(earliest):
        problems.append(
            _(
                "The start is too early for a round of %(year)d: not before %(date)s.",
                year=visit.round.year,
                date=earliest.isoformat(),
            )
        )
    if started_at and ended_at and ended_at < started_at:
        problems.append(_("The end cannot be before the start."))
    if method == "remote" and not clean["remote_authorisation"]:
        problems.append(_("Remote testing needs the unit's written authorisation: name it."))
    if unit_refused_to_sign and not clean["refusal_witness"]:
        problems.append(_("A refusal to sign is recorded with a witness: name the witness."))
    if problems:
        raise ValidationFailed(" ".join(problems), details={"problems": problems})
    before = _snapshot(visit)
    visit.started_at = started_at.replace(second=0, microsecond=0) if started_at else None
    visit.ended_at = ended_at.replace(second=0, microsecond=0) if ended_at else None
    visit.method = method
    visit.support_staff = support_staff
    visit.credentials_shown = bool(credentials_shown)
    visit.unit_refused_to_sign = bool(unit_refused_to_sign)
    for name, value in clean.items():
        setattr(visit, name, value)
    audit.record(actor, "visit.record", visit, before=before, after=_snapshot(visit))
    db.session.commit()
    return visit


def _snapshot(visit: Visit) -> dict:
    return {
        "started_at": visit.started_at,
        "ended_at": visit.ended_at,
        "method": visit.method,
        "support_staff": visit.support_staff,
        "credentials_shown": visit.credentials_shown,
        "unit_refused_to_sign": visit.unit_refused_to_sign,
        **{name: getattr(visit, name) for name in TEXT_LIMITS},
    }


def sign_record(
    inspection_id: int, *, actor: User, signature_png: bytes | None, now: datetime | None = None
) -> Attachment:
    """The acting inspector signs the visit's record (151号令 第18条: every inspector signs).

    Raises NotAllowed unless on the team, InvalidTransition when they signed already,
    ValidationFailed without a PNG signature. Commits.
    """
    visit = _visit_for_update(inspection_id, actor=actor)
    if actor.id not in {m.user_id for m in visit.members}:
        raise InvalidTransition(_("Only the inspectors of the team sign the record."))
    if any(a.uploaded_by_id == actor.id for a in inspector_signatures(visit)):
        raise InvalidTransition(_("You have signed this record already."))
    if not signature_png:
        raise ValidationFailed(_("Sign in the box first."))
    stored = storage.put_signature(signature_png)
    try:
        attachment = storage.signature_attachment(
            stored,
            kind="inspector_signature",
            name="inspector-signature.png",
            visit_id=visit.id,
            uploaded_by_id=actor.id,
            created_at=now or utcnow(),
        )
        db.session.add(attachment)
        audit.record(actor, "visit.sign", visit, after={"signature_sha256": stored.sha256})
        db.session.commit()
    except BaseException:
        db.session.rollback()
        storage.discard(stored)
        raise
    return attachment


RECORDING_KINDS = ("video", "audio")


def attach_recording(
    inspection_id: int,
    stream: IO[bytes],
    *,
    actor: User,
    filename: str = "",
    now: datetime | None = None,
) -> Attachment:
    """Attach an audio or video recording (执法记录仪, MP4 or M4A) to the visit's record: it is
    checked by its content, streamed to the store with its SHA-256 and numbered in the record's
    evidence list. The same file twice on one visit is kept once.

    Raises NotFound, NotAllowed, InvalidTransition once the notice is approved (the record is
    on file), EvidenceRefused (not MP4/M4A, over EVIDENCE_MEDIA_MAX_BYTES), StorageUnavailable.
    Commits; on any failure no row is written and no file created by this call stays.
    """
    _check_recording_allowed(_visit_for_update(inspection_id, actor=actor))
    # The copy may take a while: no transaction (on SQLite, the write lock) is held meanwhile.
    db.session.rollback()
    stored = storage.put_media(stream)
    try:
        visit = _visit_for_update(inspection_id, actor=actor)
        _check_recording_allowed(visit)
        same = db.session.scalar(
            sa.select(Attachment).where(
                Attachment.visit_id == visit.id,
                Attachment.kind.in_(RECORDING_KINDS),
                Attachment.sha256 == stored.sha256,
            )
        )
        if same is not None:
            db.session.rollback()
            return same
        mime = stored.info["mime"]
        attachment = Attachment(
            sha256=stored.sha256,
            mime=mime,
            size=stored.info["size"],
            kind="video" if mime == "video/mp4" else "audio",
            original_name=os.path.basename(filename or "")[:255],
            visit_id=visit.id,
            uploaded_by_id=actor.id,
            created_at=now or utcnow(),
        )
        db.session.add(attachment)
        db.session.flush()
        audit.record(
            actor,
            "evidence.add",
            attachment,
            hidden_from_unit=True,
            after={
                "sha256": stored.sha256,
                "mime": mime,
                "size": attachment.size,
                "visit_id": visit.id,
            },
        )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        storage.discard(stored)
        raise
    return attachment


def remove_recording(inspection_id: int, attachment_id: int, *, actor: User) -> None:
    """Take a recording off the visit's record (the wrong file, or one of something else) while
    nobody has signed the record: the unit's representative signs the evidence list at
    submission (以上记录已核对无误) and the inspectors sign it after; from then on a recording on
    it is evidence and stays. The file leaves the store unless another attachment names it.

    Raises NotFound (no recording of this inspection's visit), NotAllowed, InvalidTransition once
    any checklist of the visit is submitted, an inspector has signed or the notice is approved.
    Audited evidence.delete (what the file was); commits.
    """
    visit = _visit_for_update(inspection_id, actor=actor)
    attachment = db.session.get(Attachment, attachment_id)
    if (
        attachment is None
        or attachment.visit_id != visit.id
        or attachment.kind not in RECORDING_KINDS
    ):
        raise NotFound(_("No such recording on this record."))
    _check_recording_allowed(visit)
    if record_signed(visit):
        raise InvalidTransition(
            _("The record has been signed: a recording on it can no longer be removed.")
        )
    sha256, mime = attachment.sha256, attachment.mime
    audit.record(
        actor,
        "evidence.delete",
        attachment,
        hidden_from_unit=True,
        before={
            "sha256": sha256,
            "mime": mime,
            "size": attachment.size,
            "visit_id": visit.id,
            "original_name": attachment.original_name,
        },
    )
    db.session.delete(attachment)
    db.session.commit()
    storage.discard_if_unused(sha256, mime)


def record_signed(visit: Visit) -> bool:
    """Whether anybody has signed the visit's record: a checklist submitted (the unit's
    representative signs, or the refusal is witnessed, at submission) or an inspector's
    signature."""
    return any(i.is_on_record for i in visit.inspections) or bool(inspector_signatures(visit))


def _check_recording_allowed(visit: Visit) -> None:
    if visit.notice_status == "approved":
        raise InvalidTransition(_("The notice is approved: the inspection record is on file."))


def recordings(visit: Visit) -> list[Attachment]:
    return list(
        db.session.scalars(
            sa.select(Attachment)
            .where(Attachment.visit_id == visit.id, Attachment.kind.in_(RECORDING_KINDS))
            .order_by(Attachment.id)
        )
    )


def inspector_signatures(visit: Visit) -> list[Attachment]:
    return list(
        db.session.scalars(
            sa.select(Attachment)
            .where(Attachment.visit_id == visit.id, Attachment.kind == "inspector_signature")
            .order_by(Attachment.id)
        )
    )


@dataclass
class RecordPart:
    """One checklist of the visit, as the record prints it."""

    inspection: Inspection
    active: list[ChecklistItem]
    answers: dict
    noncompliant: list[ChecklistItem]
    own: dict  # the unit's self-assessment (自查) by item id
    # Answers to the same duty in the visit's other checklists, by item id (duties.py).
    linked: dict = field(default_factory=dict)


@dataclass
class RecordContext:
    visit: Visit
    parts: list[RecordPart]
    evidence: list[tuple[int, Attachment, str]]  # number, file, item code
    signatures: dict[int, Attachment]  # inspector's user id -> signature
    unit_signatures: list[tuple[Inspection, Attachment]]
    # The problems found, one per defect: a duty found in several checklists is listed once.
    problems: list[tuple[ChecklistItem, Answer]] = field(default_factory=list)


def record_context(visit: Visit) -> RecordContext:
    """Everything the printed record of a visit shows, in a few queries."""
    parts = []
    codes: dict[int, str] = {}
    for inspection in visit.inspections:
        items = services.items_of(inspection)
        answers = services.answers_of(inspection)
        active = services.applicability(inspection, items, answers).active
        noncompliant = [
            i for i in active if i.id in answers and answers[i.id].result == "noncompliant"
        ]
        own = {
            a.item_id: a
            for a in db.session.scalars(
                sa.select(SelfAnswer).where(SelfAnswer.inspection_id == inspection.id)
            )
        }
        linked = duties.linked_answers(inspection, active)
        parts.append(RecordPart(inspection, active, answers, noncompliant, own, linked))
        codes.update({a.id: i.code for i in items for a in [answers.get(i.id)] if a})
    ids = [i.id for i in visit.inspections]
    files = list(
        db.session.scalars(
            sa.select(Attachment)
            .where(Attachment.inspection_id.in_(ids))
            .order_by(Attachment.inspection_id, Attachment.id)
        )
    )
    # Photos and documents by inspection, then the visit's audio and video, numbered through.
    listed = [a for a in files if a.kind != "signature"] + recordings(visit)
    evidence = [(n, a, codes.get(a.answer_id, "")) for n, a in enumerate(listed, start=1)]
    by_inspection = {i.id: i for i in visit.inspections}
    unit_signatures = [(by_inspection[a.inspection_id], a) for a in files if a.kind == "signature"]
    signatures = {a.uploaded_by_id: a for a in inspector_signatures(visit)}
    problems: list[tuple[ChecklistItem, Answer]] = []
    listed: list[tuple[ChecklistItem, Inspection]] = []
    for part in parts:
        for item in part.noncompliant:
            if any(
                duties.covers(other, item)
                and (
                    seen.system_id is None
                    or part.inspection.system_id is None
                    or seen.system_id == part.inspection.system_id
                )
                for other, seen in listed
            ):
                continue  # one defect, one line
            listed.append((item, part.inspection))
            problems.append((item, part.answers[item.id]))
    return RecordContext(visit, parts, evidence, signatures, unit_signatures, problems)
