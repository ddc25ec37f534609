"""The one table of rectification moves. An illegal move raises InvalidTransition (a 409 with a
message in the user's language), never a silent no-op.

open 待整改 → submitted 待验收 → closed 已销号; submitted → returned 已退回 → submitted;
open | returned → risk_accepted (expires back to open); any open state → escalated 已移送.
Overdue and due soon are derived from the due date, never stored.
"""

from __future__ import annotations

from flask_babel import gettext as _

from ..errors import InvalidTransition
from ..labels import RECTIFICATION_STATUS_LABELS, label
from ..models import RectificationItem
from ..models.rectification import UNIT_TURN_STATUSES

# Still the unit's to act on (or the office's to verify): what overdue, reminders and
# escalation look at.
OPEN_STATES = ("open", "submitted", "returned")
# The unit's turn: it must respond (overdue and due soon count only these).
UNIT_TURN = UNIT_TURN_STATUSES
DONE_STATES = ("closed", "escalated")

TRANSITIONS: dict[str, tuple[str, ...]] = {
    "open": ("submitted", "risk_accepted", "escalated"),
    "submitted": ("closed", "returned", "escalated"),
    "returned": ("submitted", "risk_accepted", "escalated"),
    "risk_accepted": ("open",),
    "closed": (),
    "escalated": (),
}


def can_move(item: RectificationItem, to: str) -> bool:
    return to in TRANSITIONS.get(item.status, ())


def transition(item: RectificationItem, to: str) -> None:
    """Move item to `to`. Raises InvalidTransition, before anything changes, when the table
    has no such move from its current status."""
    if not can_move(item, to):
        raise InvalidTransition(
            _(
                "A rectification item that is %(status)s cannot become %(to)s.",
                status=label(RECTIFICATION_STATUS_LABELS, item.status),
                to=label(RECTIFICATION_STATUS_LABELS, to),
            ),
            details={"status": item.status, "to": to},
        )
    item.status = to
