"""JSON shapes of the API: plain dicts built from models, in the user's language where it matters."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import current_app, url_for

from ..inspections.answering import answer_dict
from ..inspections.services import FillContext
from ..models import (
    Attachment,
    ChecklistItem,
    Inspection,
    RectificationEvent,
    RectificationItem,
)


def inspection_summary(
    inspection: Inspection, progress: tuple[int, int] | None = None
) -> dict[str, Any]:
    out = {
        "id": inspection.id,
        "status": inspection.status,
        "round": {
            "id": inspection.round_id,
            "year": inspection.round.year,
            "seq": inspection.round.seq,
            "title": inspection.round.title,
        },
        "unit": {
            "id": inspection.unit_id,
            "code": inspection.unit.code,
            "name": inspection.unit.name,
        },
        "system": None
        if inspection.system is None
        else {
            "id": inspection.system_id,
            "code": inspection.system.code,
            "name": inspection.system.name,
            "mlps_level": inspection.system.mlps_level,
        },
        "checklist": {
            "id": inspection.template_id,
            "key": inspection.template.key,
            "version": inspection.template.version,
            "title": inspection.template.title,
        },
        "scheduled_on": inspection.scheduled_on.isoformat() if inspection.scheduled_on else None,
        "lead_id": inspection.lead_id,
        "team": [
            {
                "user_id": m.user_id,
                "name": m.user.name,
                "department_id": m.department_id,
                "certificate_no": m.certificate_no,
            }
            for m in inspection.members
        ],
        "score": inspection.score,
        "compliance_rate": inspection.compliance_rate,
        "notice_number": inspection.notice_number,
        "url": url_for("inspections.fill", inspection_id=inspection.id),
    }
    if progress is not None:
        out["progress"] = {"answered": progress[0], "total": progress[1]}
    return out


def item_dict(item: ChecklistItem) -> dict[str, Any]:
    return {
        "id": item.id,
        "code": item.code,
        "section_index": item.section_index,
        "section_title": item.section_title,
        "section_title_en": item.section_title_en,
        "text": item.text,
        "text_en": item.text_en,
        "kind": item.kind,
        "options": item.options,
        "guidance": item.guidance,
        "legal_basis": item.legal_basis,
        "severity": item.severity,
        "major_hazard": item.major_hazard,
        "deadline_days": item.deadline_days,
        "evidence": item.evidence,
        "lead_department": item.lead_department,
        "weight": item.weight,
        "veto": item.veto,
        "required_action": item.required_action,
        "same_as": item.same_as or None,
        "show_if": item.show_if,
    }


def attachment_dict(attachment: Attachment) -> dict[str, Any]:
    return {
        "id": attachment.id,
        "sha256": attachment.sha256,
        "mime": attachment.mime,
        "size": attachment.size,
        "kind": attachment.kind,
        "item_answer_id": attachment.answer_id,
        "url": url_for("inspections.evidence_file", attachment_id=attachment.id),
        "thumbnail_url": None
        if attachment.mime == "application/pdf"
        else url_for("inspections.evidence_file", attachment_id=attachment.id, thumb=1),
    }


def inspection_detail(ctx: FillContext) -> dict[str, Any]:
    applicable = ctx.applicability.applicable
    answers_by_item = {item_id: a for item_id, a in ctx.answers.items()}
    item_by_id = {i.id: i for i in ctx.items}
    return {
        **inspection_summary(ctx.inspection, ctx.progress),
        "items": [item_dict(i) for i in applicable],
        "not_applicable_item_ids": [i.id for i in ctx.items if i not in applicable],
        "shown_item_codes": sorted(ctx.applicability.shown),
        "answers": [answer_dict(a, item_by_id.get(a.item_id)) for a in answers_by_item.values()],
        "previous_answers": ctx.previous,
        "attachments": [attachment_dict(a) for group in ctx.attachments.values() for a in group],
    }


# --- rectification ----------------------------------------------------------------------------


def _day(value) -> str | None:
    return value.isoformat() if value is not None else None


def _file_url(attachment: Attachment) -> str | None:
    # Rectification files are served by the rectification pages' own file route.
    if "rectification.file" not in current_app.view_functions:
        return None
    return url_for("rectification.file", attachment_id=attachment.id)


def item_summary(item: RectificationItem, *, today: date) -> dict[str, Any]:
    finding = item.finding
    return {
        "id": item.id,
        "version": item.version,
        "status": item.status,
        "overdue": item.is_overdue(today),
        "due_soon": item.is_due_soon(today, current_app.config["DUE_SOON_DAYS"]),
        "due_date": _day(item.due_date),
        "deadline_days": item.deadline_days,
        "days_left": item.days_left(today),
        "unit": {"id": item.unit_id, "code": item.unit.code, "name": item.unit.name},
        "finding": {
            "id": finding.id,
            "code": finding.code,
            "description": finding.description,
            "severity": finding.severity,
            "raised_from": finding.raised_from,
            "repeat_count": finding.repeat_count,
            "inspection_id": finding.inspection_id,
            "notice_number": finding.inspection.notice_number,
        },
        "pending_extension": item.pending_extension is not None,
        "responded_at": item.responded_at.isoformat() + "Z" if item.responded_at else None,
        "closed_at": item.closed_at.isoformat() + "Z" if item.closed_at else None,
    }


def event_dict(event: RectificationEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "kind": event.kind,
        "actor": event.actor.name if event.actor else None,
        "on_behalf": event.on_behalf,
        "message": event.message,
        "data": event.data,
        "created_at": event.created_at.isoformat() + "Z",
        "attachments": [
            {
                "id": a.id,
                "name": a.original_name,
                "mime": a.mime,
                "size": a.size,
                "url": _file_url(a),
            }
            for a in event.attachments
        ],
    }


def item_detail(item: RectificationItem, *, today: date) -> dict[str, Any]:
    out = item_summary(item, today=today)
    out["finding"]["legal_basis"] = item.finding.legal_basis
    out["responsible_person"] = item.responsible_person
    out["responsible_phone"] = item.responsible_phone
    out["risk_accepted_until"] = _day(item.risk_accepted_until)
    out["escalated_to"] = item.escalated_to or None
    out["events"] = [event_dict(e) for e in item.events]
    return out
