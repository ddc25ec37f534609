"""JSON shapes of the API: plain dicts built from models, in the user's language where it matters."""

from __future__ import annotations

from typing import Any

from flask import url_for

from ..inspections.services import FillContext, answer_dict
from ..models import Attachment, ChecklistItem, Inspection


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
