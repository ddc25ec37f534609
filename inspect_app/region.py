"""The office's region: its provincial-level bodies, named wherever guidance says "the
provincial-level body" (省级网信部门, 省级电信管理机构, ...).

兵团 is a provincial-level region, so for a 师市 office "省级网信部门" means 兵团党委网信办 and ICP
filing lies with 新疆通信管理局. The names come from PROVINCIAL_BODIES and PROVINCIAL_REGION
(instance/README.md). Checklist text is never edited: `regional` renders it, either filling a
placeholder such as `{provincial_cac}` or naming the local body after a generic term the first
time it appears, unless the text already names that body.
"""

from __future__ import annotations

import re

from flask import Flask, current_app
from flask_babel import gettext as _
from markupsafe import Markup, escape

# The bodies a region names, by key (the placeholder is `{provincial_<key>}`).
BODY_KEYS = ("cac", "police", "industry", "secrecy", "telecom")

# Generic wording of checklists and laws -> the body (key) it means in the region. Longer terms
# first so "省级以上有关主管部门" is not read as a shorter one.
GENERIC_TERMS: tuple[tuple[str, str], ...] = (
    ("省、自治区、直辖市人民政府公安机关", "police"),
    ("省、自治区、直辖市电信管理机构", "telecom"),
    ("省级以上有关主管部门", "region"),
    ("省级以上主管部门", "region"),
    ("省级保密行政管理部门", "secrecy"),
    ("省级工业和信息化主管部门", "industry"),
    ("省级电信管理机构", "telecom"),
    ("省级通信管理局", "telecom"),
    ("省级公安机关", "police"),
    ("省级网信部门", "cac"),
)
_PLACEHOLDER = re.compile(r"\{provincial_(cac|police|industry|secrecy|telecom|region)\}")


def body(key: str) -> str:
    """The configured name of a provincial-level body (key in BODY_KEYS), or of the region's
    bodies in general ("region": e.g. 兵团有关部门); "" when not configured."""
    config = current_app.config
    if key == "region":
        region = config.get("PROVINCIAL_REGION") or ""
        return _("the competent departments of %(region)s", region=region) if region else ""
    return (config.get("PROVINCIAL_BODIES") or {}).get(key, "") or ""


def regional(text: str | None) -> str:
    """Checklist text as it reads in the configured region (plain text; escape when rendering).

    `{provincial_cac}` etc. become the body's name; the first generic term for a body the text
    does not name already gets the local body in brackets: 省级网信部门（本地为兵团党委网信办）.
    """
    if not text:
        return text or ""
    text = _PLACEHOLDER.sub(lambda m: body(m.group(1)) or m.group(0), str(text))
    done: set[str] = set()
    for term, key in GENERIC_TERMS:
        name = body(key)
        if not name or key in done or name in text:
            continue
        start = text.find(term)
        if start < 0:
            continue
        end = start + len(term)
        if text[end : end + 1] in ("（", "("):
            continue  # the text explains the term itself
        text = text[:end] + _("(here: %(name)s)", name=name) + text[end:]
        done.add(key)
    return text


def _regional_filter(text: str | None) -> Markup:
    return Markup(escape(regional(text)))


def register(app: Flask) -> None:
    app.jinja_env.filters["regional"] = _regional_filter
