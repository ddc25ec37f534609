"""The rectification notice (整改通知书) of a visit: review before issue, number, service, content.

One visit has one notice. The lead inspector's submission drafts it; a coordinator approves it,
which gives it its number (法制审核 flagged for major matters); its service is a real record
(送达回证). Every command checks first, then changes, writes its audit event and commits once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from .. import audit, inputs, rectification, storage
from ..citations import Citer, citer_for
from ..clock import local_today, zone
from ..errors import InvalidTransition, ValidationFailed
from ..extensions import db
from ..models import Attachment, Finding, NoticeCounter, User, Visit, utcnow
from ..models.inspection import SERVICE_METHODS
from ..models.org import kind_in
from . import services

# Legal content (cited, not translated). The authority to inspect (检查依据) per department.
AUTHORITY_BY_DEPARTMENT = {
    "CAC": "《中华人民共和国网络安全法》第九条（原第八条）",
    "PSB": "《中华人民共和国网络安全法》第九条（原第八条）、《公安机关互联网安全监督检查规定》"
    "（公安部令第151号）",
    "MIIT": "《中华人民共和国网络安全法》第九条（原第八条）",
    "SEC": "《中华人民共和国保守国家秘密法实施条例》第五十八条",
}
# 督查 of Party and government organs rests on the responsibility system, not on enforcement.
SUPERVISION_AUTHORITY = "《党委（党组）网络安全工作责任制实施办法》第五条"
SERVICE_TEXT_MAX = 300
NOTE_MAX = 2000


# --- numbers ----------------------------------------------------------------------------------


def lock_counter(year: int) -> NoticeCounter:
    """The year's notice-counter row, made if missing, locked to the end of the transaction:
    every numbering of the year's documents queues on it."""
    counter = db.session.scalar(
        sa.select(NoticeCounter).where(NoticeCounter.year == year).with_for_update()
    )
    if counter is None:
        try:
            with db.session.begin_nested():
                db.session.add(NoticeCounter(year=year, last_seq=0))
        except sa.exc.IntegrityError:  # another notice of that year made the row meanwhile
            pass
        counter = db.session.scalar(
            sa.select(NoticeCounter)
            .where(NoticeCounter.year == year)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    return counter


def next_notice_number(year: int) -> str:
    """The next free notice number of the year from NOTICE_NUMBER_PATTERN ({year}, {seq}).

    The year's counter row is locked to the end of the transaction, so two notices approved at
    the same moment get different numbers.
    """
    pattern = current_app.config["NOTICE_NUMBER_PATTERN"]
    counter = lock_counter(year)
    seq = counter.last_seq + 1
    while db.session.scalar(
        sa.select(Visit.id).where(Visit.notice_number == pattern.format(year=year, seq=seq))
    ):
        seq += 1  # a number given by hand or before the counter existed
    counter.last_seq = seq
    return pattern.format(year=year, seq=seq)


# --- loading ----------------------------------------------------------------------------------


def _load_visit(inspection_id: int, *, actor: User, action: str) -> Visit:
    """The visit of an inspection, its row locked; NotFound/NotAllowed as services.load."""
    inspection = services.load(inspection_id, actor=actor, action=action)
    visit = db.session.scalar(
        sa.select(Visit)
        .where(Visit.id == inspection.visit_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return visit


def visit_findings(visit: Visit) -> list[Finding]:
    """The findings of all inspections of a visit, in code order: the notice's list."""
    ids = [i.id for i in visit.inspections]
    return list(
        db.session.scalars(
            sa.select(Finding).where(Finding.inspection_id.in_(ids)).order_by(Finding.code)
        )
    )


# --- review before issue ------------------------------------------------------------------------


def approve_notice(
    inspection_id: int,
    *,
    actor: User,
    legal_review: bool = False,
    legal_review_note: str = "",
    today: date | None = None,
    now: datetime | None = None,
) -> Visit:
    """Approve the draft notice of the inspection's visit (审核/审批): it gets its number and date.

    legal_review marks a major matter that passed 法制审核 (its note is required then). A number
    given before (the notice was approved, withdrawn by a reopening and approved again) is kept.
    Raises NotAllowed unless a coordinator, InvalidTransition unless a draft exists and every
    inspection of the visit is on record, ValidationFailed for a legal review without a note.
    Commits.
    """
    visit = _load_visit(inspection_id, actor=actor, action="notice.approve")
    if visit.notice_status != "draft":
        raise InvalidTransition(_("There is no draft notice to approve."))
    if not visit.is_on_record:
        raise InvalidTransition(
            _("Every inspection of the visit must be submitted before its notice is approved.")
        )
    if not visit_findings(visit):
        raise InvalidTransition(_("The visit found no problems: there is no notice to approve."))
    note = (legal_review_note or "").strip()
    if legal_review and not note:
        raise ValidationFailed(_("Note the outcome of the legal review."))
    if len(note) > NOTE_MAX or not inputs.storable(note):
        raise ValidationFailed(
            _("The note is too long or contains characters that cannot be stored.")
        )
    today = today or local_today()
    visit.notice_number = visit.notice_number or next_notice_number(today.year)
    visit.notice_status = "approved"
    visit.notice_issued_on = today
    visit.notice_approved_at = now or utcnow()
    visit.notice_approved_by_id = actor.id
    visit.legal_review, visit.legal_review_note = bool(legal_review), note
    audit.record(
        actor,
        "notice.approve",
        visit,
        before={"notice_status": "draft"},
        after={
            "notice_status": "approved",
            "notice_number": visit.notice_number,
            "issued_on": today,
            "legal_review": visit.legal_review,
            "legal_review_note": note,
        },
    )
    db.session.commit()
    return visit


# --- service (送达回证) ---------------------------------------------------------------------------


def _text(value: str | None, limit: int) -> str:
    text = (value or "").strip()
    if len(text) > limit or not inputs.storable(text):
        raise ValidationFailed(
            _(
                "A field is too long (at most %(n)d characters) or has characters that cannot be stored.",
                n=limit,
            )
        )
    return text


def record_notice_served(
    inspection_id: int,
    *,
    actor: User,
    served_on: date,
    served_time: time | None = None,
    method: str | None = None,
    place: str = "",
    server_ids: tuple[int, ...] | list[int] = (),
    recipient_name: str = "",
    signature_png: bytes | None = None,
    refused: bool = False,
    witness: str = "",
    note: str = "",
    today: date | None = None,
) -> Visit:
    """Record the service (送达) of the visit's approved notice; due dates count from its date.

    A real 送达回证: the method (直接/邮寄/电子/留置), place, two serving officers, the time and,
    served in person, the recipient's own signature taken now (never a typed name). A refusal is
    served by leaving it (留置) before a witness. Raises InvalidTransition unless the notice is
    approved, ValidationFailed naming every missing element. Commits.
    """
    visit = _load_visit(inspection_id, actor=actor, action="inspection.fill")
    if visit.notice_status != "approved" or not visit.notice_number:
        raise InvalidTransition(_("There is no approved rectification notice to serve yet."))
    problems = []
    if visit.notice_issued_on and served_on < visit.notice_issued_on:
        problems.append(_("The notice cannot be served before it was issued."))
    if served_on > (today or local_today()):
        problems.append(_("The service date cannot be in the future."))
    if method not in SERVICE_METHODS:
        problems.append(_("Choose how the notice was served."))
    place = _text(place, SERVICE_TEXT_MAX)
    recipient_name = _text(recipient_name, 100)
    witness = _text(witness, 100)
    note = _text(note, NOTE_MAX)
    servers = _servers(visit, server_ids)
    in_person = method in ("direct", "left")
    if not place:
        problems.append(_("Give the place (or postal or electronic address) of service."))
    if in_person and len(servers) < 2:
        problems.append(_("Two serving officers of the team must be named."))
    if not in_person and not servers:
        problems.append(_("Name the officer who sent the notice."))
    if method == "left" or refused:
        refused = True
        if not witness:
            problems.append(
                _("A refusal is served by leaving the notice before a witness: name the witness.")
            )
    if method == "direct" and not refused:
        if not recipient_name:
            problems.append(_("Give the name of the person who received the notice."))
        if not signature_png:
            problems.append(_("The recipient must sign on receipt."))
    if problems:
        raise ValidationFailed(" ".join(problems), details={"problems": problems})
    stored = None
    if signature_png and not refused:
        stored = storage.put_signature(signature_png)
    try:
        before = {"served_on": visit.notice_served_on, "method": visit.service_method}
        local = datetime.combine(served_on, served_time or time(0, 0), tzinfo=zone())
        visit.notice_served_on = served_on
        visit.served_at = local.astimezone(UTC).replace(tzinfo=None) if served_time else None
        visit.service_method, visit.service_place = method, place
        visit.server_a_id = servers[0].id if servers else None
        visit.server_b_id = servers[1].id if len(servers) > 1 else None
        visit.recipient_name, visit.recipient_refused = recipient_name, refused
        visit.service_witness, visit.service_note = witness, note
        if stored is not None:
            db.session.add(
                storage.signature_attachment(
                    stored,
                    kind="receipt",
                    name="receipt-signature.png",
                    visit_id=visit.id,
                    uploaded_by_id=actor.id,
                )
            )
        rectification.restart_deadlines(visit_findings(visit), served_on=served_on)
        audit.record(
            actor,
            "inspection.notice_served",
            visit,
            before=before,
            after={
                "served_on": served_on,
                "served_at": visit.served_at,
                "method": method,
                "place": place,
                "servers": [u.id for u in servers],
                "recipient": recipient_name,
                "refused": refused,
                "witness": witness,
                "signature_sha256": stored.sha256 if stored else None,
            },
        )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        if stored is not None:
            storage.discard(stored)
        raise
    return visit


def _servers(visit: Visit, server_ids) -> list[User]:
    """The serving officers, who must be on the visit's team (in the given order, each once)."""
    team = {m.user_id: m.user for m in visit.members}
    chosen = []
    for uid in dict.fromkeys(server_ids or ()):
        if uid not in team:
            raise ValidationFailed(
                _("The serving officers must be members of the inspection team.")
            )
        chosen.append(team[uid])
    return chosen[:2]


def receipt_signature(visit: Visit) -> Attachment | None:
    return db.session.scalar(
        sa.select(Attachment)
        .where(Attachment.visit_id == visit.id, Attachment.kind == "receipt")
        .order_by(Attachment.id.desc())
    )


# --- content ----------------------------------------------------------------------------------


@dataclass
class NoticeDocument:
    """Everything the notice prints that is not simply a field of the visit."""

    visit: Visit
    findings: list[Finding]
    issuer: str
    basis: str
    task_source: str
    departments: list[str]
    objects: list[str]
    addressee: str  # party_gov | enterprise
    co_issuers: list[str] = field(default_factory=list)
    consequences: list[str] = field(default_factory=list)
    remedies: str = ""
    contact: dict[str, str] = field(default_factory=dict)
    cc: list[str] = field(default_factory=list)
    citer: Citer = field(default_factory=Citer)


def _laws(findings: list[Finding]) -> set[str]:
    return {b["law"] for f in findings for b in f.legal_basis if "law" in b}


def _is_secrecy(finding: Finding) -> bool:
    lead = getattr(finding.item, "lead_department", "") if finding.item else ""
    return lead == "SEC" or any("保密" in b.get("law", "") for b in finding.legal_basis)


def notice_document(visit: Visit) -> NoticeDocument:
    """The content of the visit's notice: issuer, 检查依据, 任务来源, consequences that fit the
    addressee, remedies (none for 督查 or a 党政机关), contact and 抄送, from configuration and the
    findings."""
    config = current_app.config
    findings = visit_findings(visit)
    issuer = config["NOTICE_ISSUER"]
    own = config.get("NOTICE_ISSUER_DEPARTMENT", "CAC")
    codes = list(dict.fromkeys(m.department.code for m in visit.members if m.department))
    departments = list(
        dict.fromkeys(
            m.department.name for m in visit.members if m.department and m.department.code != own
        )
    )
    citer = citer_for(visit)
    supervision = visit.nature == "party_gov_supervision"
    party_gov = supervision or kind_in(
        visit.unit.kind, config.get("PARTY_GOV_KINDS", ("party_gov",))
    )
    if supervision:
        parts = [SUPERVISION_AUTHORITY, AUTHORITY_BY_DEPARTMENT["CAC"]]
    else:
        parts = [AUTHORITY_BY_DEPARTMENT[c] for c in [own, *codes] if c in AUTHORITY_BY_DEPARTMENT]
    basis = citer.mark("、".join(dict.fromkeys(parts)))
    rnd = visit.round
    task_source = visit.task_source or (
        _("the inspection notice %(number)s", number=visit.advance_notice_number)
        if visit.advance_notice_number
        else config["INSPECTION_PLAN_TITLE"].format(year=rnd.year, seq=rnd.seq, title=rnd.title)
    )
    objects = list(
        dict.fromkeys(
            i.system.name if i.system else _("the network security work") for i in visit.inspections
        )
    )
    laws = _laws(findings)
    consequences = []
    if party_gov:
        consequences.append(
            _(
                "If the problems are not rectified by the deadlines, this office will notify, "
                "summon for talks (约谈) and ask the competent organs to hold those responsible "
                "to account under the network security responsibility system; under the "
                "Cybersecurity Law's provision on operators of government networks (formerly "
                "Article 72), the superior organ or the organ concerned orders correction and "
                "the responsible persons are disciplined according to law."
            )
        )
    else:
        consequences.append(
            _(
                "Refusing to rectify, or failing to rectify by the deadline, is dealt with under "
                "Article 61 of the Cybersecurity Law (formerly Article 59): warnings and fines."
            )
        )
        if "数据安全法" in laws:
            consequences.append(
                _(
                    "Data security problems are dealt with under Article 45 of the Data Security Law."
                )
            )
        if "个人信息保护法" in laws:
            consequences.append(
                _(
                    "Personal information problems are dealt with under Article 66 of the "
                    "Personal Information Protection Law."
                )
            )
    if any(_is_secrecy(f) for f in findings):
        consequences.append(
            _(
                "Problems concerning state secrets are transferred to the secrecy administration "
                "department to be dealt with under the Law on Guarding State Secrets."
            )
        )
    consequences.append(_("Suspected crimes are transferred to the public security organs."))
    consequences = [citer.mark(c) for c in consequences]  # old article first before 2026
    remedies = ""
    # No 陈述申辩/复议 clause for 督查, nor for any 党政机关 addressee: supervision within the
    # administration is not an act a government organ takes to 复议 or court.
    if not party_gov:
        remedies = _(
            "If you disagree with this notice, you may state your case and defend yourself to "
            "this office within 5 working days of service; you may also apply to %(body)s for "
            "administrative reconsideration within 60 days of service, or bring an "
            "administrative lawsuit before a people's court within 6 months of service.",
            body=config["RECONSIDERATION_BODY"],
        )
    contact = {
        "name": config.get("NOTICE_CONTACT_NAME", ""),
        "phone": config.get("NOTICE_CONTACT_PHONE", ""),
        "address": config.get("NOTICE_CONTACT_ADDRESS", ""),
    }
    # Findings another department leads (lead_department) make the notice a joint one, with that
    # department's administrative organ (NOTICE_CO_ISSUERS) beside the issuer, when it was on
    # the team: each organ signs and seals for its own findings.
    co_map = config.get("NOTICE_CO_ISSUERS", {})
    leads = {f.item.lead_department for f in findings if f.item is not None}
    co_issuers = [co_map[c] for c in codes if c != own and c in leads and c in co_map]
    return NoticeDocument(
        visit=visit,
        findings=findings,
        issuer=issuer,
        co_issuers=co_issuers,
        basis=basis,
        task_source=task_source,
        departments=departments,
        objects=objects,
        addressee="party_gov" if party_gov else "enterprise",
        consequences=consequences,
        remedies=remedies,
        contact=contact,
        cc=list(config.get("NOTICE_CC", ())),
        citer=citer,
    )
