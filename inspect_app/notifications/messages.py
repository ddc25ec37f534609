"""What each kind of notification says, in the reader's language, made from its kind and data.

The bell's list and the e-mails both read these (e-mails in the office's language, under
force_locale). A notification stores no text of its own: its kind and data are facts, and the
sentence follows the reader. Every kind the services store is here; tests check both languages.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext

from ..models import Notification


def _unit(n: Notification) -> str:
    """The unit's name: stored with reminders, else from the item (loaded with the list)."""
    if n.data.get("unit"):
        return n.data["unit"]
    if n.item is not None and n.item.unit is not None:
        return n.item.unit.name
    return "—"


def _items_opened(n: Notification, d: dict[str, Any]) -> str:
    return ngettext(
        "%(num)d new rectification item for your unit. Answer it by its due date.",
        "%(num)d new rectification items for your unit. Answer them by their due dates.",
        int(d.get("count") or 0),
    )


def _response_submitted(n: Notification, d: dict[str, Any]) -> str:
    return _(
        "%(unit)s answered rectification item %(code)s. It waits for verification.",
        unit=_unit(n),
        code=d.get("code", ""),
    )


def _extension_requested(n: Notification, d: dict[str, Any]) -> str:
    return _(
        "%(unit)s asks for more time on rectification item %(code)s, until %(date)s.",
        unit=_unit(n),
        code=d.get("code", ""),
        date=d.get("proposed_date") or "—",
    )


def _extension_granted(n: Notification, d: dict[str, Any]) -> str:
    return _(
        "More time was granted on rectification item %(code)s: it is now due on %(date)s.",
        code=d.get("code", ""),
        date=d.get("due_date") or "—",
    )


def _extension_refused(n: Notification, d: dict[str, Any]) -> str:
    if d.get("due_date"):
        return _(
            "The extension request for rectification item %(code)s was refused: it stays due on "
            "%(date)s.",
            code=d.get("code", ""),
            date=d["due_date"],
        )
    return _(
        "The extension request for rectification item %(code)s was refused.",
        code=d.get("code", ""),
    )


def _returned(n: Notification, d: dict[str, Any]) -> str:
    return _(
        "Rectification item %(code)s was returned: answer it again by %(date)s.",
        code=d.get("code", ""),
        date=d.get("due_date") or "—",
    )


def _verified(n: Notification, d: dict[str, Any]) -> str:
    return _(
        "Rectification item %(code)s was verified and closed.",
        code=d.get("code", ""),
    )


def _risk_accepted(n: Notification, d: dict[str, Any]) -> str:
    return _(
        "The office accepted the risk of rectification item %(code)s until %(date)s.",
        code=d.get("code", ""),
        date=d.get("until") or "—",
    )


def _escalated(n: Notification, d: dict[str, Any]) -> str:
    return _(
        "Rectification item %(code)s was handed over to %(body)s.",
        code=d.get("code", ""),
        body=d.get("body") or "—",
    )


def _interview(n: Notification, d: dict[str, Any]) -> str:
    return _(
        "An interview about rectification item %(code)s was recorded.",
        code=d.get("code", ""),
    )


def _risk_reopened(n: Notification, d: dict[str, Any]) -> str:
    return _(
        "The risk acceptance of rectification item %(code)s (%(unit)s) has ended: the item is "
        "open again.",
        code=d.get("code", ""),
        unit=_unit(n),
    )


def _due_soon(n: Notification, d: dict[str, Any]) -> str:
    days, code, date = int(d.get("days") or 0), d.get("code", ""), d.get("due_date") or "—"
    if days <= 0:
        return _("Rectification item %(code)s is due today (%(date)s).", code=code, date=date)
    if days == 1:
        return _("Rectification item %(code)s is due tomorrow (%(date)s).", code=code, date=date)
    return _(
        "Rectification item %(code)s is due in %(days)d days (%(date)s).",
        code=code,
        days=days,
        date=date,
    )


def _overdue(n: Notification, d: dict[str, Any]) -> str:
    return ngettext(
        "Rectification item %(code)s (%(unit)s) is %(num)d day overdue: it was due on %(date)s.",
        "Rectification item %(code)s (%(unit)s) is %(num)d days overdue: it was due on %(date)s.",
        int(d.get("days") or 0),
        code=d.get("code", ""),
        unit=_unit(n),
        date=d.get("due_date") or "—",
    )


# kind -> the sentence. The services store the first eleven; `flask rectification remind` the
# last two (rectification/reminders.py).
TEXTS: dict[str, Callable[[Notification, dict[str, Any]], str]] = {
    "items_opened": _items_opened,
    "response_submitted": _response_submitted,
    "extension_requested": _extension_requested,
    "extension_granted": _extension_granted,
    "extension_refused": _extension_refused,
    "returned": _returned,
    "verified": _verified,
    "risk_accepted": _risk_accepted,
    "escalated": _escalated,
    "interview": _interview,
    "risk_reopened": _risk_reopened,
    "due_soon": _due_soon,
    "overdue": _overdue,
}


def text(n: Notification) -> str:
    """The notification as one sentence in the current locale."""
    make = TEXTS.get(n.kind)
    if make is None:  # a kind added later, read by an older process
        return _("A notification about rectification (%(kind)s).", kind=n.kind)
    return make(n, n.data or {})


def target(n: Notification, view_functions) -> tuple[str, dict[str, Any]] | None:
    """(endpoint, values) of the page a notification leads to, or None when that page does not
    exist in this app (the rectification pages are optional to this package)."""
    if n.item_id is not None and "rectification.show" in view_functions:
        return "rectification.show", {"item_id": n.item_id}
    if n.item_id is None and "rectification.index" in view_functions:
        return "rectification.index", {}
    return None
