"""The published list of inspection items (检查事项清单): the current checklists' items by nature.

国办发〔2024〕54号 asks that inspection items be published and that no unpublished item be
inspected. The list is read from the newest loaded version of every checklist; it names no unit,
no system and no answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from ..checklists.basis import kinds_allowed
from ..extensions import db
from ..models import ChecklistItem, ChecklistTemplate

# The nature of an inspection follows the kind of unit inspected.
NATURES = {
    "enterprise": (
        _l("Administrative inspection of enterprises"),
        ("soe", "private_enterprise", "other"),
    ),
    "supervision": (
        _l("Supervision of Party and government bodies and public institutions"),
        ("party_gov", "public_institution"),
    ),
}


@dataclass
class PublishedChecklist:
    template: ChecklistTemplate
    items: list[ChecklistItem] = field(default_factory=list)


@dataclass
class Nature:
    code: str
    label: str
    checklists: list[PublishedChecklist] = field(default_factory=list)

    @property
    def item_count(self) -> int:
        return sum(len(c.items) for c in self.checklists)


def current_templates() -> list[ChecklistTemplate]:
    """The newest loaded version of every checklist, with its items, ordered by key."""
    newest = (
        sa.select(
            ChecklistTemplate.id,
            sa.func.row_number()
            .over(
                partition_by=ChecklistTemplate.key,
                order_by=(ChecklistTemplate.loaded_at.desc(), ChecklistTemplate.id.desc()),
            )
            .label("n"),
        )
    ).subquery()
    return list(
        db.session.scalars(
            sa.select(ChecklistTemplate)
            .join(newest, newest.c.id == ChecklistTemplate.id)
            .where(newest.c.n == 1)
            .options(selectinload(ChecklistTemplate.items))
            .order_by(ChecklistTemplate.key)
        )
    )


def _applies_to(item: ChecklistItem, kinds: tuple[str, ...], nature: str) -> bool:
    if item.kind != "yes_no":
        return False  # facts gathered on site (numbers, dates, text) are not items of duty
    if nature == "enterprise" and item.advisory:
        return False  # without a statutory basis it is never enforced on an enterprise
    allowed = kinds_allowed(item.applies_if)
    return allowed is None or bool(allowed & set(kinds))


def published_items(nature: str | None = None) -> list[Nature]:
    """Every nature (or the one asked for) with the current checklists' items that may apply."""
    templates = current_templates()
    result = []
    for code, (label, kinds) in NATURES.items():
        if nature and code != nature:
            continue
        entry = Nature(code, str(label))
        for template in templates:
            items = [i for i in template.items if _applies_to(i, kinds, code)]
            if items:
                entry.checklists.append(PublishedChecklist(template, items))
        result.append(entry)
    return result
