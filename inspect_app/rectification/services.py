"""Rectification rules: items made from findings, the deadline rule, withdrawal on reopening.

Commands add to the session and write their audit events; the inspection command that calls
them commits once.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from .. import audit
from ..errors import InvalidTransition
from ..extensions import db
from ..models import (
    Answer,
    ChecklistItem,
    Finding,
    Inspection,
    RectificationItem,
    User,
)


def open_item(finding: Finding, *, deadline_days: int, today: date) -> RectificationItem:
    """The open rectification item of a new finding, due `deadline_days` after today."""
    return RectificationItem(
        finding=finding,
        unit_id=finding.unit_id,
        deadline_days=deadline_days,
        due_date=today + timedelta(days=deadline_days),
        status="open",
    )


def restart_deadlines(findings: Iterable[Finding], *, served_on: date) -> None:
    """The deadline rule: an open item is due `deadline_days` after the notice was served,
    unless an extension already fixed its due date."""
    for finding in findings:
        rect = finding.rectification
        if (
            rect is not None
            and rect.status == "open"
            and not any(e.kind == "extension_granted" for e in rect.events)
        ):
            rect.due_date = served_on + timedelta(days=rect.deadline_days)


def withdraw_findings(inspection: Inspection, *, actor: User, reason: str) -> None:
    """Delete the findings and items of an inspection being reopened, with an audit event each.

    Raises InvalidTransition once the unit has acted on any of its items.
    """
    findings = list(
        db.session.scalars(
            sa.select(Finding)
            .where(Finding.inspection_id == inspection.id)
            .options(selectinload(Finding.rectification).selectinload(RectificationItem.events))
        )
    )
    if any(
        f.rectification and (f.rectification.status != "open" or f.rectification.events)
        for f in findings
    ):
        raise InvalidTransition(
            _(
                "The unit has already acted on the rectification items; the inspection cannot be reopened."
            )
        )
    # Later findings that repeat these lose the link first, or deleting them breaks the key.
    withdrawn = [f.id for f in findings]
    if withdrawn:
        db.session.execute(
            sa.update(Finding)
            .where(Finding.repeat_of_id.in_(withdrawn))
            .values(repeat_of_id=None)
            .execution_options(synchronize_session=False)
        )
    for finding in findings:
        audit.record(
            actor,
            "finding.withdraw",
            finding,
            before={"code": finding.code},
            after={"reason": reason},
        )
        if finding.rectification:
            db.session.delete(finding.rectification)
        db.session.delete(finding)


def _finding_code(inspection: Inspection, n: int) -> str:
    return f"{inspection.round.year}-R{inspection.round.seq}-{inspection.unit.code}-{inspection.id}-{n:02d}"


CATEGORY_BY_TEMPLATE = {
    "RESP": "responsibility",
    "CII": "cii",
    "MLPS": "mlps",
    "DATA": "data_pi",
    "WEB": "web_secrecy",
}


def create_findings(
    inspection: Inspection,
    active: list[ChecklistItem],
    answers: dict[int, Answer],
    *,
    today: date,
    actor: User,
) -> list[Finding]:
    """A finding and an open rectification item for every non-compliant answer among the
    active items of a submitted inspection, linked to the unit's earlier finding of the same
    item (a repeat). Adds to the session and audits; the caller commits."""
    earlier = _earlier_findings(inspection, [i.code for i in active])
    findings = []
    for item in active:
        answer = answers[item.id]
        if answer.result != "noncompliant":
            continue
        days = answer.finding_deadline_days or item.deadline_days
        finding = Finding(
            code=_finding_code(inspection, len(findings) + 1),
            inspection=inspection,
            item_id=item.id,
            unit_id=inspection.unit_id,
            system_id=inspection.system_id,
            description=answer.finding_description.strip(),
            category=CATEGORY_BY_TEMPLATE.get(
                inspection.template.key, inspection.template.key.lower()
            ),
            severity=answer.finding_severity or item.severity,
            major_hazard=item.major_hazard,
            legal_basis=item.legal_basis,
            repeat_of_id=earlier.get(item.code),
        )
        db.session.add_all([finding, open_item(finding, deadline_days=days, today=today)])
        findings.append(finding)
    db.session.flush()
    for finding in findings:
        audit.record(
            actor,
            "finding.create",
            finding,
            after={
                "code": finding.code,
                "severity": finding.severity,
                "due_date": finding.rectification.due_date,
                "repeat_of": finding.repeat_of_id,
            },
        )
    return findings


def _earlier_findings(inspection: Inspection, codes: list[str]) -> dict[str, int]:
    """The latest earlier finding of the same unit and item code, for `repeat_of`."""
    if not codes:
        return {}
    rows = db.session.execute(
        sa.select(ChecklistItem.code, Finding.id)
        .join(Finding, Finding.item_id == ChecklistItem.id)
        .where(
            Finding.unit_id == inspection.unit_id,
            Finding.inspection_id != inspection.id,
            ChecklistItem.code.in_(codes),
        )
        .order_by(Finding.id)
    )
    return {code: finding_id for code, finding_id in rows}
