"""How an item's deadline and history read on a page or paper: the countdown, the original and
the current due date, and each step's details in words. Templates call these; nothing here
queries or changes anything."""

from __future__ import annotations

from datetime import date, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from ..labels import ESCALATION_TARGET_LABELS, label
from ..models import RectificationEvent, RectificationItem
from ..models.rectification import UNIT_TURN_STATUSES


def relative_deadline(days: int) -> str:
    """自送达之日起N日内: the only deadline a page or print shows until the notice is served."""
    return _("Within %(n)d days of service", n=days)


def original_due(item: RectificationItem) -> date | None:
    """The due date the notice set (service date + the item's days), or None until served."""
    served = item.finding.inspection.notice_served_on
    return served + timedelta(days=item.deadline_days) if served else None


def due_text(item: RectificationItem) -> str:
    """The due date in words: relative until served, else the date."""
    if item.due_date is None:
        return relative_deadline(item.deadline_days)
    return item.due_date.isoformat()


def countdown(item: RectificationItem, today: date) -> str:
    """还剩3天 / 今天到期 / 已逾期5天 while it is the unit's turn; the relative deadline until
    the notice is served; nothing once the unit has answered or the item is done."""
    if item.due_date is None:
        return relative_deadline(item.deadline_days) if item.status in UNIT_TURN_STATUSES else ""
    if item.status not in UNIT_TURN_STATUSES:
        return ""
    days = item.days_left(today)
    if days < 0:
        return ngettext("%(num)d day overdue", "%(num)d days overdue", -days)
    if days == 0:
        return _("Due today")
    return ngettext("%(num)d day left", "%(num)d days left", days)


def urgency(item: RectificationItem, today: date, soon_days: int) -> str:
    """A CSS word for the countdown: overdue, soon or nothing."""
    if item.is_overdue(today):
        return "overdue"
    if item.is_due_soon(today, soon_days):
        return "soon"
    return ""


def _recheck(data: dict) -> list[tuple[str, str]]:
    recheck = data.get("recheck") or {}
    if not recheck:
        return []
    return [
        (_("On-site re-check on"), recheck.get("checked_on", "")),
        (_("Re-checked by"), recheck.get("checked_by", "")),
    ]


# What the message of each kind of step is.
_MESSAGE_LABELS = {
    "returned": _l("Reason for returning"),
    "verified": _l("Verification note"),
    "extension_requested": _l("Reason"),
    "extension_refused": _l("Reason for refusing"),
    "risk_accepted": _l("Reason"),
    "escalated": _l("Reason"),
    "interview": _l("What was said"),
    "notification": _l("Text of the notification"),
    "comment": _l("Comment"),
}


def message_label(kind: str) -> str:
    return str(_MESSAGE_LABELS.get(kind, _l("Note")))


def event_facts(event: RectificationEvent) -> list[tuple[str, str]]:
    """The details of a step as (label, value) pairs in words; empty values are left out."""
    d = event.data or {}
    kind = event.kind
    if kind == "response":
        facts = [
            (_("Cause of the problem"), d.get("cause")),
            (_("Measures taken"), d.get("measures")),
            (_("Completion date"), d.get("completed_on")),
            (_("Responsible person"), d.get("responsible_person")),
            (_("Phone"), d.get("responsible_phone")),
        ]
    elif kind == "extension_requested":
        facts = [
            (_("Due date when asked"), d.get("due_date")),
            (_("Proposed new due date"), d.get("proposed_date")),
            (_("Interim measures"), d.get("interim_measures")),
        ]
    elif kind in ("extension_granted", "returned"):
        facts = [
            (_("Previous due date"), d.get("from")),
            (_("New due date"), d.get("to")),
            *_recheck(d),
        ]
    elif kind == "verified":
        facts = _recheck(d)
    elif kind in ("risk_accepted", "risk_reopened"):
        facts = [(_("Risk accepted until"), d.get("until"))]
    elif kind == "escalated":
        facts = [
            (_("Handed over to"), label(ESCALATION_TARGET_LABELS, d.get("to"))),
            (_("Receiving body"), d.get("body")),
        ]
    elif kind == "interview":
        facts = [
            (_("Date of the interview"), d.get("held_on")),
            (_("Place"), d.get("place")),
            (_("For the office"), d.get("office_people")),
            (_("For the unit"), d.get("unit_people")),
            (_("The unit's commitments"), d.get("commitments")),
        ]
    elif kind == "notification":
        facts = [(_("Sent to"), d.get("to"))]
    else:
        facts = []
    if event.message:
        facts.append((message_label(kind), event.message))
    if event.on_behalf and d.get("source"):
        facts.append((_("Source of the paper original"), d["source"]))
    return [(name, str(value)) for name, value in facts if value]


def latest(item: RectificationItem, kind: str) -> RectificationEvent | None:
    """The item's latest step of one kind (its current response, say)."""
    found = [e for e in item.events if e.kind == kind]
    return found[-1] if found else None


def extensions(item: RectificationItem) -> list[RectificationEvent]:
    return [e for e in item.events if e.kind == "extension_granted"]


TEMPLATE_GLOBALS = {
    "rect_due_text": due_text,
    "rect_countdown": countdown,
    "rect_urgency": urgency,
    "rect_original_due": original_due,
    "rect_relative_deadline": relative_deadline,
    "rect_event_facts": event_facts,
    "rect_latest": latest,
}
