"""All models, imported here so Alembic and the app see every table."""

from .audit import AuditEvent
from .base import utcnow
from .checklist import ChecklistItem, ChecklistTemplate
from .inspection import Answer, AppliedChange, Attachment, Inspection, InspectionMember, Round
from .org import UNIT_KINDS, Department, System, Unit
from .rectification import Finding, RectificationEvent, RectificationItem
from .user import ROLES, User

__all__ = [
    "ROLES",
    "UNIT_KINDS",
    "Answer",
    "AppliedChange",
    "Attachment",
    "AuditEvent",
    "ChecklistItem",
    "ChecklistTemplate",
    "Department",
    "Finding",
    "Inspection",
    "InspectionMember",
    "RectificationEvent",
    "RectificationItem",
    "Round",
    "System",
    "Unit",
    "User",
    "utcnow",
]
