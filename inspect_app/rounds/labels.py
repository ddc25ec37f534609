"""Display names for round codes, translated per request (inspection statuses: ..labels)."""

from flask_babel import lazy_gettext as _l

ROUND_STATUS_LABELS = {
    "planned": _l("Planned"),
    "active": _l("In progress"),
    "closed": _l("Closed"),
}

THEME_LABELS = {
    "major_dates": _l("Major dates"),
    "key_units": _l("Key units"),
    "key_systems": _l("Important systems"),
    "risk_review": _l("Risk review"),
}

NATURE_LABELS = {
    "enterprise_inspection": _l("Administrative inspection of enterprises"),
    "party_gov_supervision": _l("Supervision of Party and government organs"),
    "special_review": _l("Special review"),
}

TARGET_LABELS = {
    "unit": _l("Units"),
    "system": _l("Systems"),
}


def label(mapping: dict, code: str | None) -> str:
    if code is None:
        return ""
    return str(mapping.get(code, code))
