"""The published list of inspection items (检查事项清单): the current checklists' items by nature.

国办发〔2024〕54号 asks that inspection items be published and that no unpublished item be
inspected. The list is read from the newest loaded version of every checklist; it names no unit,
no system and no answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import selectinload

from ..checklists.basis import kinds_allowed
from ..extensions import db
from ..models import ChecklistItem, ChecklistTemplate
from ..models.org import UNIT_KINDS, kind_setting
from ..rounds.labels import NATURE_LABELS

# The natures a visit takes from its unit's kind (VISIT_NATURE_BY_KIND); 专项排查 is a round's
# choice, not a kind's, and has the items of the nature the unit's kind gives.
NATURES = ("enterprise_inspection", "party_gov_supervision")


def kinds_by_nature() -> dict[str, tuple[str, ...]]:
    by_kind = current_app.config["VISIT_NATURE_BY_KIND"]
    return {
        nature: tuple(
            k for k in UNIT_KINDS if kind_setting(by_kind, k, "enterprise_inspection") == nature
        )
        for nature in NATURES
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
    if item.advisory and nature != "party_gov_supervision":
        return False  # no statutory basis: a point of the Party's own rules, not an inspection item
    allowed = kinds_allowed(item.applies_if)
    return bool(kinds) and (allowed is None or bool(allowed & set(kinds)))


def published_items(nature: str | None = None) -> list[Nature]:
    """Every nature (or the one asked for) with the current checklists' items that may apply."""
    templates = current_templates()
    result = []
    for code, kinds in kinds_by_nature().items():
        if nature and code != nature:
            continue
        entry = Nature(code, str(NATURE_LABELS[code]))
        for template in templates:
            items = [i for i in template.items if _applies_to(i, kinds, code)]
            if items:
                entry.checklists.append(PublishedChecklist(template, items))
        result.append(entry)
    return result
