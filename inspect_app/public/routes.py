"""Public pages (no login): the published list of inspection items."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from flask_babel import gettext as _

from ..checklists import display
from ..checklists.conditions import describe
from ..errors import ValidationFailed
from ..inspections.notices import AUTHORITY_BY_DEPARTMENT, SUPERVISION_AUTHORITY
from . import services

bp = Blueprint("public", __name__, url_prefix="/public")


@bp.get("/items")
def items():
    """检查事项清单: what may be inspected, on whom, on what legal basis."""
    nature = request.args.get("nature") or None
    if nature is not None and nature not in services.NATURES:
        raise ValidationFailed(_("Unknown nature of inspection."))
    return render_template(
        "public/items.html",
        natures=services.published_items(nature),
        natures_all=services.NATURES,
        authority=AUTHORITY_BY_DEPARTMENT,
        supervision=SUPERVISION_AUTHORITY,
        chosen=nature,
        issuer=current_app.config["NOTICE_ISSUER"],
        describe=lambda cond: describe(cond, display.value_label),
        label=display.label,
    )
