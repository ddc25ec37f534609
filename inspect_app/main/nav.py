"""Navigation per role: a link shows when its endpoint exists and the user may use it."""

from flask import Flask, current_app, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..auth.permissions import can

# (endpoint, label, action needed to see it in the menu)
NAV = [
    ("main.index", _l("Home"), None),
    ("dashboard.index", _l("Dashboard"), "reports.view"),
    ("inspections.mine", _l("My inspections"), "inspection.fill"),
    ("rounds.index", _l("Rounds"), "rounds.view"),
    ("rectification.index", _l("Rectification"), "rectification.view"),
    ("rectification.queue", _l("Verification queue"), "rectification.verify"),
    ("checklists.index", _l("Checklists"), "checklists.view"),
    ("directory.units", _l("Units"), "directory.browse"),
    ("directory.systems", _l("Systems"), "directory.browse"),
    ("directory.departments", _l("Departments"), "directory.browse"),
    ("directory.users", _l("Users"), "users.view"),
    ("directory.my_unit", _l("My unit"), "unit.self"),
    ("audit.index", _l("Audit log"), "audit.view"),
    ("exports.index", _l("Exports"), "exports.download"),
    ("jobs.index", _l("My exports"), "exports.download"),
]


def nav_items() -> list[dict]:
    if not current_user.is_authenticated:
        return []
    endpoints = {rule.endpoint for rule in current_app.url_map.iter_rules()}
    items = []
    nav, here = NAV, request.endpoint
    if current_user.role == "unit":
        # A unit's home is its rectification work: 整改 comes first and stands for home.
        nav = [entry for entry in NAV if entry[0] == "rectification.index"] + [
            entry for entry in NAV if entry[0] not in ("main.index", "rectification.index")
        ]
        if here == "main.index":
            here = "rectification.index"
    for endpoint, label, action in nav:
        if endpoint not in endpoints:
            continue
        if action == "unit.self":
            if current_user.role != "unit":
                continue
        elif action == "directory.browse":  # unit users see their own unit under "My unit"
            if current_user.role == "unit" or not can(current_user, "directory.view"):
                continue
        elif action and not can(current_user, action):
            continue
        items.append({"endpoint": endpoint, "label": label, "active": here == endpoint})
    return items


def register(app: Flask) -> None:
    app.context_processor(lambda: {"nav_items": nav_items, "can": can})
