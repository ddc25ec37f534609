"""The unit's self-assessment (自查) before the visit: the same checklist, answered in its portal
once the 检查通知书 is issued; inspectors see its answers beside their own, the record where they
differ.

Commands check first, then change, write their audit event and commit once.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _

from .. import audit, inputs
from ..auth import permissions
from ..errors import InvalidTransition, NotFound, ValidationFailed
from ..extensions import db
from ..models import ChecklistItem, Inspection, SelfAnswer, User, Visit, utcnow
from ..models.inspection import ANSWER_RESULTS
from . import services

NOTE_MAX = 2000


def announced_visits(actor: User) -> list[Visit]:
    """The unit's visits announced by a 检查通知书 and not yet on record (its self-assessments)."""
    if actor.role != "unit" or actor.unit_id is None:
        return []
    visits = db.session.scalars(
        sa.select(Visit)
        .where(Visit.unit_id == actor.unit_id, Visit.advance_notice_number.is_not(None))
        .order_by(Visit.scheduled_on, Visit.id)
    )
    return [v for v in visits if not v.is_on_record]


def load_for_unit(inspection_id: int, *, actor: User) -> Inspection:
    """The inspection the unit may self-assess: its own, announced, not yet on record.

    Raises NotAllowed unless a unit user, NotFound for another unit's or an unannounced one.
    """
    permissions.require(actor, "selfcheck.fill")
    inspection = db.session.get(Inspection, inspection_id)
    if (
        inspection is None
        or inspection.unit_id != actor.unit_id
        or inspection.visit.advance_notice_number is None
    ):
        raise NotFound(_("No such inspection."))
    return inspection


def self_answers(inspection: Inspection) -> dict[int, SelfAnswer]:
    return {
        a.item_id: a
        for a in db.session.scalars(
            sa.select(SelfAnswer).where(SelfAnswer.inspection_id == inspection.id)
        )
    }


def items_for(inspection: Inspection) -> list[ChecklistItem]:
    """The items that apply to the unit (its facts), as the inspector will see them."""
    items = services.items_of(inspection)
    return services.applicability(inspection, items, {}).applicable


def save_self_assessment(
    inspection_id: int,
    *,
    actor: User,
    answers: dict[int, tuple[str | None, str]],
    now: datetime | None = None,
) -> int:
    """Save the unit's answers {item_id: (result or None, note)}; returns how many changed.

    Raises InvalidTransition once the inspection is on record, ValidationFailed for an unknown
    item or result or a note too long. Commits.
    """
    inspection = load_for_unit(inspection_id, actor=actor)
    if not inspection.is_editable:
        raise InvalidTransition(_("The inspection is on record: the self-assessment is closed."))
    allowed = {i.id for i in items_for(inspection)}
    for item_id, (result, note) in answers.items():
        if item_id not in allowed or (result and result not in ANSWER_RESULTS):
            raise ValidationFailed(_("An answer is not one of this checklist's."))
        if len(note or "") > NOTE_MAX or not inputs.storable(note or ""):
            raise ValidationFailed(
                _("The note is too long or contains characters that cannot be stored.")
            )
    existing = self_answers(inspection)
    changed = {}
    for item_id, (result, note) in answers.items():
        row = existing.get(item_id)
        note = (note or "").strip()
        if row is None:
            if not result and not note:
                continue
            row = SelfAnswer(inspection_id=inspection.id, item_id=item_id)
            db.session.add(row)
        elif (row.result, row.note) == (result or None, note):
            continue
        row.result, row.note = result or None, note
        row.updated_by_id, row.updated_at = actor.id, now or utcnow()
        changed[item_id] = result or None
    if changed:
        audit.record(
            actor,
            "selfcheck.save",
            inspection,
            after={"answers": {str(k): v for k, v in changed.items()}},
        )
    db.session.commit()
    return len(changed)


def visits_on_record(actor: User) -> list[Visit]:
    """The unit's visits on record, newest first: the ones it may rate (检查行为评价)."""
    if actor.role != "unit" or actor.unit_id is None:
        return []
    visits = db.session.scalars(
        sa.select(Visit)
        .where(Visit.unit_id == actor.unit_id)
        .order_by(Visit.scheduled_on.desc(), Visit.id.desc())
    )
    return [v for v in visits if v.is_on_record]


def rate_conduct(
    visit_id: int, *, actor: User, rating: int, comment: str, now: datetime | None = None
) -> Visit:
    """The unit rates the team's conduct on a visit on record (1-5, with a comment or complaint),
    once. Raises NotAllowed unless a unit user, NotFound for another unit's visit or one not on
    record, InvalidTransition when rated already, ValidationFailed for a bad rating. Commits."""
    permissions.require(actor, "selfcheck.fill")
    visit = db.session.get(Visit, visit_id)
    if visit is None or visit.unit_id != actor.unit_id or not visit.is_on_record:
        raise NotFound(_("No such visit."))
    if visit.conduct_rating is not None:
        raise InvalidTransition(_("The unit has rated this visit already."))
    comment = (comment or "").strip()
    if rating not in range(1, 6):
        raise ValidationFailed(_("Choose a rating from 1 to 5."))
    if len(comment) > NOTE_MAX or not inputs.storable(comment):
        raise ValidationFailed(
            _("The note is too long or contains characters that cannot be stored.")
        )
    visit.conduct_rating, visit.conduct_comment = rating, comment
    visit.conduct_rated_at = now or utcnow()
    audit.record(actor, "visit.rate", visit, after={"rating": rating, "comment": comment})
    db.session.commit()
    return visit
