"""All models, imported here so Alembic and the app see every table."""

from .audit import AuditEvent, AuditHead
from .base import utcnow
from .checklist import ChecklistItem, ChecklistTemplate
from .figures import FigureSnapshot
from .inspection import (
    Answer,
    AppliedChange,
    Attachment,
    Inspection,
    InspectionMember,
    NoticeCounter,
    Round,
    SelfAnswer,
    Visit,
    VisitMember,
)
from .job import Job
from .login import LoginSession, RecoveryCode
from .notification import Notification
from .org import UNIT_KINDS, Department, System, Unit
from .rectification import Finding, RectificationEvent, RectificationItem
from .user import ROLES, User


def unit_of(obj) -> int | None:
    """The unit an object belongs to (a unit is its own), or None. Permissions scope by it and
    the audit log tags events with it, so a unit sees only its own."""
    if isinstance(obj, Unit):
        return obj.id
    if isinstance(obj, RectificationEvent):
        return obj.item.unit_id if obj.item is not None else None
    return getattr(obj, "unit_id", None)


__all__ = [
    "ROLES",
    "UNIT_KINDS",
    "Answer",
    "AppliedChange",
    "Attachment",
    "AuditEvent",
    "AuditHead",
    "ChecklistItem",
    "ChecklistTemplate",
    "Department",
    "FigureSnapshot",
    "Finding",
    "Inspection",
    "InspectionMember",
    "VisitMember",
    "Job",
    "LoginSession",
    "NoticeCounter",
    "Notification",
    "RectificationEvent",
    "RecoveryCode",
    "RectificationItem",
    "Round",
    "SelfAnswer",
    "System",
    "Unit",
    "User",
    "Visit",
    "unit_of",
    "utcnow",
]
