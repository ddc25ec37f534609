"""The dashboard's filters from the query string, bounded: anything else is a 400 naming it."""

from __future__ import annotations

from datetime import date

from flask import request
from flask_babel import gettext as _

from ..errors import ValidationFailed
from ..labels import LEAD_LABELS
from ..models import UNIT_KINDS
from ..reports.figures import Scope
from ..web import int_arg, year_arg

# Query arguments, as the filter form names them.
ARGS = ("year", "round", "department", "kind")


def _choice(name: str, allowed, message: str) -> str | None:
    value = request.args.get(name, "").strip()
    if not value:
        return None
    if value not in allowed:
        raise ValidationFailed(message)
    return value


def scope_from_args(today: date) -> Scope:
    """Year (this year by default), round, lead department and unit kind from the query string.
    Raises ValidationFailed for a year out of range, a round that is not a whole number, or a
    department or unit kind we do not know."""
    return Scope(
        year=year_arg(today.year),
        round_id=int_arg("round", label=_("The round")),
        department=_choice("department", LEAD_LABELS, _("Unknown department.")),
        unit_kind=_choice("kind", UNIT_KINDS, _("Unknown unit kind.")),
    )


def query_args(scope: Scope, **changes) -> dict[str, int | str]:
    """The scope as query arguments (empty filters left out), with changes applied."""
    args = {
        "year": scope.year,
        "round": scope.round_id,
        "department": scope.department,
        "kind": scope.unit_kind,
        **changes,
    }
    return {k: v for k, v in args.items() if v}
