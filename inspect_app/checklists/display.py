"""Display names for checklist codes (kinds, severities, evidence rules, departments, results)."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..labels import LEAD_LABELS, RESULT_LABELS, SEVERITY_LABELS, UNIT_KIND_LABELS

KIND_LABELS = {
    "yes_no": _l("Compliant / non-compliant"),
    "choice": _l("Choice"),
    "number": _l("Number"),
    "text": _l("Text"),
    "date": _l("Date"),
}
EVIDENCE_LABELS = {
    "none": _l("No evidence"),
    "optional": _l("Evidence optional"),
    "required_if_noncompliant": _l("Evidence required if non-compliant"),
    "required": _l("Evidence required"),
}
TARGET_LABELS = {"unit": _l("Unit"), "system": _l("System")}
FIELD_NAMES = {
    "section": _l("Section"),
    "title": _l("Title"),
    "title_en": _l("Title (English)"),
    "target": _l("Target"),
    "description": _l("Description"),
    "text": _l("Question"),
    "text_en": _l("Question (English)"),
    "kind": _l("Answer kind"),
    "options": _l("Options"),
    "guidance": _l("How to check"),
    "legal_basis": _l("Legal basis"),
    "severity": _l("Severity"),
    "major_hazard": _l("Major hazard"),
    "deadline_days": _l("Deadline (days)"),
    "evidence": _l("Evidence"),
    "lead_department": _l("Lead department"),
    "weight": _l("Weight"),
    "veto": _l("Veto item"),
    "advisory": _l("Advisory"),
    "required_action": _l("Required action"),
    "same_as": _l("Same duty as"),
    "applies_if": _l("Applies if"),
    "show_if": _l("Shown if"),
}

_GROUPS = {
    "kind": KIND_LABELS,
    "severity": SEVERITY_LABELS,
    "evidence": EVIDENCE_LABELS,
    "lead_department": LEAD_LABELS,
    "result": RESULT_LABELS,
    "target": TARGET_LABELS,
    "field": FIELD_NAMES,
}


def label(group: str, code: Any) -> str:
    """The display name of a code in a group, or the code itself."""
    if code is None or code == "":
        return ""
    return str(_GROUPS.get(group, {}).get(code, code))


def value_label(field: str, value: Any) -> str:
    """A condition value for people: yes/no, unit kinds and answer results by name."""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if field == "unit.kind":
        return str(UNIT_KIND_LABELS.get(value, value))
    if isinstance(value, str) and value in RESULT_LABELS:
        return str(RESULT_LABELS[value])
    return str(value)


def basis_text(entry: dict[str, Any]) -> str:
    """网络安全法 第23条（原第21条） or GB/T 22239-2019 8.1.5.4 d)."""
    if "law" in entry:
        text = f"{entry.get('law', '')} {entry.get('article') or ''}".strip()
        if entry.get("article_pre2026"):
            text += _(" (formerly %(article)s)", article=entry["article_pre2026"])
        return text
    return f"{entry.get('standard', '')} {entry.get('clause') or ''}".strip()
