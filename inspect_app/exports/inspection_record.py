"""One inspection's record as a workbook: 说明 (the record's header), 检查明细 (its answers),
问题清单 and 整改台账 (its findings)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload, selectinload

from .. import labels
from ..auth import permissions
from ..errors import NotFound
from ..extensions import db
from ..models import Inspection, InspectionMember, User
from . import common
from .common import Book, ProgressFn, Result
from .sheets import Filter, FindingSheets, object_name, round_name, write_answers

TITLE = _l("Inspection record workbook")


def _load(inspection_id: int, actor: User | None) -> Inspection:
    inspection = db.session.scalar(
        sa.select(Inspection)
        .where(Inspection.id == inspection_id)
        .options(
            joinedload(Inspection.unit),
            joinedload(Inspection.system),
            joinedload(Inspection.round),
            joinedload(Inspection.template),
            selectinload(Inspection.members).joinedload(InspectionMember.user),
            selectinload(Inspection.members).joinedload(InspectionMember.department),
        )
    )
    if inspection is None or (actor is not None and not permissions.is_visible(actor, inspection)):
        raise NotFound(_("No such inspection."))
    common.require(actor, "inspection.view", inspection)
    return inspection


def validate_inspection(params: dict[str, Any], actor: User | None = None) -> dict[str, Any]:
    """{"inspection_id", "locale", "actor_id"} checked: an inspection the user may see.
    Raises ValidationFailed, NotFound (also for one the user may not see)."""
    checked = common.check_params(params, actor)
    inspection_id = common.id_param(params, "inspection_id", _("The inspection"))
    _load(inspection_id, actor or common.load_actor(checked["actor_id"]))
    return {**checked, "inspection_id": inspection_id}


def build_inspection(params: dict[str, Any], progress: ProgressFn | None = None) -> Result:
    """Write one inspection's record; returns (path of a new file, download name, MIME type)."""
    return common.build(params, progress, validate=validate_inspection, write=_write)


def _write(book: Book, params: dict[str, Any]) -> str:
    i = _load(params["inspection_id"], book.actor)
    team = "；".join(
        f"{m.user.name}（{m.department.name if m.department else ''}，"
        f"{_('certificate')} {m.certificate_no}）"
        + (f" {_('lead')}" if m.user_id == i.lead_id else "")
        for m in i.members
    )
    system = i.system
    facts = [
        (_("Inspected unit"), i.unit.name),
        (_("Unified social credit code"), i.unit.credit_code or ""),
        (
            _("Inspected object"),
            object_name(
                system.name if system else None,
                system.mlps_level if system else None,
                system.filing_number if system else None,
            ),
        ),
        (_("Round"), f"{round_name(i.round.year, i.round.seq)} {i.round.title}"),
        (_("Checklist"), f"{labels.localized(i.template, 'title')} v{i.template.version}"),
        (_("Inspection date"), i.scheduled_on),
        (_("Team"), team),
        (_("Status"), common.label(labels.INSPECTION_STATUS_LABELS, i.status)),
        (_("Score"), i.score),
        (_("Compliance rate"), i.compliance_rate),
        (_("Unit representative"), i.signatory_name),
        (_("Signed at"), common.local_time(i.signed_at)),
        (_("Notice no."), i.notice_number or ""),
        (_("Served on"), i.notice_served_on),
    ]
    names = [_("About"), _("Answer details"), _("Finding list"), _("Rectification ledger")]
    common.readme(book, _("Network security inspection record"), facts, names)
    where = Filter(inspection_id=i.id)
    write_answers(book, where)
    FindingSheets(book, where).write()
    return _("Inspection record %(unit)s %(id)d", unit=i.unit.name, id=i.id) + ".xlsx"
