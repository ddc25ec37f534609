"""All models, imported here so Alembic and the app see every table."""

from .audit import AuditEvent, AuditHead
from .base import utcnow
from .checklist import ChecklistItem, ChecklistTemplate
from .inspection import (
    Answer,
    AppliedChange,
    Attachment,
    Inspection,
    InspectionMember,
    NoticeCounter,
    Round,
)
from .login import LoginSession, RecoveryCode
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
    "AuditHead",
    "ChecklistItem",
    "ChecklistTemplate",
    "Department",
    "Finding",
    "Inspection",
    "InspectionMember",
    "LoginSession",
    "NoticeCounter",
    "RectificationEvent",
    "RecoveryCode",
    "RectificationItem",
    "Round",
    "System",
    "Unit",
    "User",
    "utcnow",
]
