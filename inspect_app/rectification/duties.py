"""One defect, one finding (S4 of the legal review).

Items of different checklists that check the same duty are linked in the checklist files
(`same_as: CANONICAL-CODE`); an item's duty is its canonical item's code. Within one visit:

- two items **share a duty** when their duties are equal, their codes differ (the same item on two
  systems is two defects), and they concern the same object: the same system, or either is a
  unit-level checklist (a unit-level finding covers every system of the unit);
- the item is **answered once**: an item whose duty was answered in another inspection of the visit
  needs no answer of its own (the filling page shows the other answer);
- a non-compliant answer yields a finding only when the visit holds no finding for the duty yet:
  the first submitted inspection makes it, later ones add to it (`linked_answers` lists them).
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import Answer, ChecklistItem, Finding, Inspection
from ..models.inspection import ON_RECORD_STATUSES


@dataclass(frozen=True)
class LinkedAnswer:
    """An answer, in another inspection of the visit, to an item that checks the same duty."""

    inspection_id: int
    item_id: int
    template_key: str
    template_title: str
    item_code: str
    result: str | None
    submitted: bool
    system_name: str | None = None


def _same_object(a: Inspection, system_id: int | None) -> bool:
    return a.system_id is None or system_id is None or a.system_id == system_id


def linked_answers(
    inspection: Inspection, items: list[ChecklistItem]
) -> dict[int, list[LinkedAnswer]]:
    """By item id of `inspection`: the answers to the same duty elsewhere in the visit. One
    query, whatever the number of items."""
    by_duty: dict[str, list[ChecklistItem]] = {}
    for item in items:
        by_duty.setdefault(item.duty, []).append(item)
    if not by_duty:
        return {}
    duties = set(by_duty)
    rows = db.session.execute(
        sa.select(ChecklistItem, Inspection, Answer)
        .join(Inspection, Inspection.template_id == ChecklistItem.template_id)
        .join(
            Answer,
            sa.and_(Answer.inspection_id == Inspection.id, Answer.item_id == ChecklistItem.id),
        )
        .where(
            Inspection.visit_id == inspection.visit_id,
            Inspection.id != inspection.id,
            Answer.result.is_not(None),
            sa.or_(ChecklistItem.code.in_(duties), ChecklistItem.same_as.in_(duties)),
        )
        .options(joinedload(Inspection.template), joinedload(Inspection.system))
        .order_by(Inspection.id, ChecklistItem.position)
    ).all()
    out: dict[int, list[LinkedAnswer]] = {}
    for other_item, other, answer in rows:
        if not _same_object(other, inspection.system_id):
            continue
        for item in by_duty.get(other_item.duty, []):
            if item.code == other_item.code:
                continue
            out.setdefault(item.id, []).append(
                LinkedAnswer(
                    inspection_id=other.id,
                    item_id=other_item.id,
                    template_key=other.template.key,
                    template_title=other.template.title,
                    item_code=other_item.code,
                    result=answer.result,
                    submitted=other.status in ON_RECORD_STATUSES,
                    system_name=other.system.name if other.system is not None else None,
                )
            )
    return out


def visit_findings_by_duty(inspection: Inspection) -> dict[str, Finding]:
    """The findings other inspections of the visit already made, by duty (the first of each),
    that cover `inspection`'s object."""
    rows = db.session.execute(
        sa.select(Finding, ChecklistItem)
        .join(ChecklistItem, ChecklistItem.id == Finding.item_id)
        .join(Inspection, Inspection.id == Finding.inspection_id)
        .where(
            Inspection.visit_id == inspection.visit_id,
            Inspection.id != inspection.id,
            sa.or_(
                Finding.system_id.is_(None),
                sa.true() if inspection.system_id is None else sa.false(),
                Finding.system_id == inspection.system_id,
            ),
        )
        .order_by(Finding.id)
    ).all()
    out: dict[str, Finding] = {}
    for finding, item in rows:
        out.setdefault(item.duty, finding)
    return out


def covers(finding_item: ChecklistItem, item: ChecklistItem) -> bool:
    """Does a finding made on `finding_item` stand for a defect found on `item`?"""
    return finding_item.duty == item.duty and finding_item.code != item.code


def finding_links(finding: Finding) -> list[LinkedAnswer]:
    """The non-compliant answers of the visit that the finding also stands for (the other
    checklists where the same defect was found)."""
    if finding.item is None:
        return []
    inspection = finding.inspection
    return [
        la
        for la in linked_answers(inspection, [finding.item]).get(finding.item.id, [])
        if la.result == "noncompliant"
    ]
