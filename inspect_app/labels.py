"""Display names for stored codes (roles, unit kinds, statuses), translated per request."""

import json

from flask import Flask
from flask_babel import lazy_gettext as _l

ROLE_LABELS = {
    "admin": _l("Administrator"),
    "coordinator": _l("Coordinator"),
    "inspector": _l("Inspector"),
    "unit": _l("Unit liaison"),
    "viewer": _l("Viewer"),
}

ROLE_INTROS = {
    "admin": _l("You manage accounts and can do everything coordinators do."),
    "coordinator": _l(
        "Keep the registry of units and systems, plan the rounds and follow rectification."
    ),
    "inspector": _l("Your assigned inspections are listed under My inspections."),
    "unit": _l("Here you see your unit's rectification items and answer them."),
    "viewer": _l("You can read the registry, the audit log and the summaries."),
}

UNIT_KIND_LABELS = {
    "party_gov": _l("Party or government organ"),
    "public_institution": _l("Public institution"),
    "soe": _l("State-owned enterprise"),
    "private_enterprise": _l("Private enterprise"),
    "other": _l("Other"),
}


def label(mapping: dict, code: str | None) -> str:
    if code is None:
        return ""
    return str(mapping.get(code, code))


def pretty_json(value) -> str:
    """Indented JSON that keeps Chinese readable (autoescaping still applies)."""
    if value is None:
        return ""
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True)


def register(app: Flask) -> None:
    app.jinja_env.filters["pretty_json"] = pretty_json
    app.jinja_env.globals.update(
        role_label=lambda code: label(ROLE_LABELS, code),
        role_intro=lambda code: label(ROLE_INTROS, code),
        unit_kind_label=lambda code: label(UNIT_KIND_LABELS, code),
    )
