"""A unit's own rectification ledger for a year: 说明, 问题清单 and 整改台账 of its findings
only (a unit user gets nothing of another unit: the rows pass through permissions.scope)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .. import labels
from ..auth import permissions
from ..errors import NotFound, ValidationFailed
from ..extensions import db
from ..models import Unit, User
from . import common
from .common import Book, ProgressFn, Result
from .sheets import Filter, FindingSheets

TITLE = _l("Unit rectification ledger")


def _unit(code: Any, actor: User | None) -> Unit:
    if not isinstance(code, str) or not code.strip() or len(code) > 40:
        raise ValidationFailed(_("Give the code of a unit."))
    unit = db.session.scalar(sa.select(Unit).where(Unit.code == code.strip()))
    if unit is None or (actor is not None and not permissions.is_visible(actor, unit)):
        raise NotFound(_("There is no unit with the code %(code)s.", code=code.strip()))
    common.require(actor, "rectification.view", unit)
    return unit


def validate_unit_ledger(params: dict[str, Any], actor: User | None = None) -> dict[str, Any]:
    """{"unit" (its code), "year", "locale", "actor_id"} checked: a unit the user may see (a
    unit user only its own). Raises ValidationFailed, NotFound, NotAllowed."""
    checked = common.check_params(params, actor)
    year = common.year_param(params)
    unit = _unit(params.get("unit"), actor or common.load_actor(checked["actor_id"]))
    return {**checked, "unit": unit.code, "year": year}


def build_unit_ledger(params: dict[str, Any], progress: ProgressFn | None = None) -> Result:
    """Write a unit's ledger; returns (path of a new file, download name, MIME type)."""
    return common.build(params, progress, validate=validate_unit_ledger, write=_write)


def _write(book: Book, params: dict[str, Any]) -> str:
    unit = _unit(params["unit"], book.actor)
    year = params["year"]
    facts = [
        (_("Unit"), unit.name),
        (_("Unit code"), unit.code),
        (_("Unified social credit code"), unit.credit_code or ""),
        (_("Unit category"), common.label(labels.UNIT_KIND_LABELS, unit.kind)),
        (_("Year"), year),
        (_("Scope"), _("The findings of this unit only")),
    ]
    names = [_("About"), _("Finding list"), _("Rectification ledger")]
    common.readme(
        book, _("Rectification ledger %(unit)s %(year)d", unit=unit.name, year=year), facts, names
    )
    FindingSheets(book, Filter(year=year, unit_id=unit.id)).write()
    return _("Rectification ledger %(unit)s %(year)d", unit=unit.name, year=year) + ".xlsx"
