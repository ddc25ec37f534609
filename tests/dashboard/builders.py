"""A synthetic year for the dashboard's statement budget and bench/dashboard.py, in bulk inserts.

At scale 1 it is the issue's year: 6 rounds × 400 inspections × 120 items on 400 units (270,000
answers, as the sixth round is under way: a quarter of it not started, a quarter half done; about
27,500 findings with their rectification items, a quarter of them repeats); smaller scales shrink
the inspections and the units, never the shape. Every state the figures tell apart is present: inspections planned, in
progress, submitted and closed; findings of each risk level and lead department, repeated in
later rounds; items open, returned, submitted, closed (on time and late), risk accepted,
escalated, overdue. Deterministic (no random numbers), so two runs build the same rows.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import sqlalchemy as sa

from inspect_app.extensions import db
from inspect_app.models import (
    Answer,
    ChecklistItem,
    ChecklistTemplate,
    Department,
    Finding,
    Inspection,
    InspectionMember,
    RectificationItem,
    Round,
    Unit,
    User,
    Visit,
)

ITEMS = 120
INSPECTIONS_PER_ROUND = 400
UNITS = 400
DEPARTMENTS = ("CAC", "PSB", "MIIT", "SEC")
KINDS = ("party_gov", "public_institution", "soe", "private_enterprise", "other")
ITEM_STATES = ("closed", "closed", "open", "submitted", "closed", "returned", "closed", "open")
BATCH = 20_000


def _insert(model, rows: list[dict], *, ids: bool = False) -> list[int]:
    """Insert rows in batches; their ids in order when asked."""
    out: list[int] = []
    for start in range(0, len(rows), BATCH):
        chunk = rows[start : start + BATCH]
        if ids:
            stmt = sa.insert(model).returning(model.id, sort_by_parameter_order=True)
            out += list(db.session.scalars(stmt, chunk))
        else:
            db.session.execute(sa.insert(model), chunk)
    return out


def _departments() -> dict[str, int]:
    have = {d.code: d.id for d in db.session.scalars(sa.select(Department))}
    for code in DEPARTMENTS:
        if code not in have:
            dept = Department(code=code, name=f"测试{code}")
            db.session.add(dept)
            db.session.flush()
            have[code] = dept.id
    return have


def build_year(year: int, scale: float = 1.0, *, prefix: str = "B") -> dict[str, int]:
    """Build a year of inspections at this scale (commits). Returns counts of what was built."""
    per_round = max(2, round(INSPECTIONS_PER_ROUND * scale))
    n_units = max(3, round(UNITS * scale))
    departments = _departments()
    inspectors = []
    for i, code in enumerate(DEPARTMENTS * 2):
        user = User(
            username=f"{prefix.lower()}_insp{i}",
            password_hash="!",
            role="inspector",
            department_id=departments[code],
        )
        inspectors.append(user)
    db.session.add_all(inspectors)
    template = ChecklistTemplate(
        key=f"{prefix}MLPS", version="1", title="批量检查清单", target="unit", sha256="0" * 64
    )
    for position in range(ITEMS):
        template.items.append(
            ChecklistItem(
                position=position,
                code=f"{prefix}-{position:03d}",
                text=f"检查项{position}是否落实？",
                severity=("high", "medium", "low")[position % 3],
                lead_department=DEPARTMENTS[position % 4] if position % 10 else "",
                deadline_days=30,
            )
        )
    db.session.add(template)
    rounds = []
    for seq in range(1, 7):
        start = date(year, seq * 2 - 1, 3)
        rounds.append(
            Round(
                year=year,
                seq=seq,
                title=f"{year}年第{seq}轮批量检查",
                theme="key_units",
                start_date=start,
                end_date=start + timedelta(days=25),
                status="active" if seq == 6 else "closed",
            )
        )
    db.session.add_all(rounds)
    db.session.flush()
    unit_ids = _insert(
        Unit,
        [
            {
                "code": f"{prefix}U{n:05d}",
                "name": f"批量测试单位{n}",
                "kind": KINDS[n % len(KINDS)],
                "is_key_unit": n % 3 == 0,
            }
            for n in range(n_units)
        ],
        ids=True,
    )
    item_ids = [item.id for item in template.items]

    inspections = []
    for r in rounds:
        for n in range(per_round):
            if r.seq < 6:
                status = "closed" if n % 5 == 0 else "submitted"
            else:
                status = ("planned", "in_progress", "submitted", "submitted")[n % 4]
            lead = inspectors[n % 4]
            inspections.append(
                {
                    "round_id": r.id,
                    "unit_id": unit_ids[n % n_units],
                    "template_id": template.id,
                    "status": status,
                    "lead_id": lead.id,
                    "scheduled_on": r.start_date + timedelta(days=n % 20),
                }
            )
    visit_ids = _insert(
        Visit,
        [
            {k: i[k] for k in ("round_id", "unit_id", "lead_id", "scheduled_on")}
            for i in inspections
        ],
        ids=True,
    )
    for inspection, visit_id in zip(inspections, visit_ids, strict=True):
        inspection["visit_id"] = visit_id
    inspection_ids = _insert(Inspection, inspections, ids=True)
    members = []
    for index, inspection_id in enumerate(inspection_ids):
        first = inspectors[index % 4]
        second = inspectors[4 + (index + 1) % 4]
        for user in (first, second):
            members.append(
                {
                    "inspection_id": inspection_id,
                    "user_id": user.id,
                    "department_id": user.department_id,
                    "certificate_no": f"证{user.id}",
                }
            )
    _insert(InspectionMember, members)

    answers, found, tallies = [], [], []
    seq_of = {r.id: r.seq for r in rounds}
    for inspection_id, spec in zip(inspection_ids, inspections, strict=True):
        if spec["status"] == "planned":
            continue
        answered = ITEMS if spec["status"] != "in_progress" else ITEMS // 2
        unit_index = spec["unit_id"] % 97
        for position in range(answered):
            # About one answer in ten is non-compliant (≈ 28,000 findings at scale 1); the mark
            # moves by 7 a round, so about a third of them are found again in the next round.
            mark = (unit_index * 7 + position * 13 + seq_of[spec["round_id"]] * 7) % 96
            result = "noncompliant" if mark < 10 else "not_applicable" if mark > 90 else "compliant"
            answers.append(
                {
                    "inspection_id": inspection_id,
                    "item_id": item_ids[position],
                    "result": result,
                    "version": 1,
                }
            )
            if result == "noncompliant" and spec["status"] in ("submitted", "closed"):
                found.append((inspection_id, spec, position))
        if spec["status"] in ("submitted", "closed"):  # stored at submission, as the app does
            mine = answers[-answered:]
            tallies.append(
                {
                    "id": inspection_id,
                    "compliant_answers": sum(a["result"] == "compliant" for a in mine),
                    "noncompliant_answers": sum(a["result"] == "noncompliant" for a in mine),
                }
            )
    _insert(Answer, answers)
    if tallies:
        db.session.execute(sa.update(Inspection), tallies)

    round_of = {r.id: r for r in rounds}
    earlier: dict[tuple[int, int], int] = {}
    finding_rows = []
    for n, (inspection_id, spec, position) in enumerate(found):
        finding_rows.append(
            {
                "code": f"{prefix}{year}-{n:06d}",
                "inspection_id": inspection_id,
                "item_id": item_ids[position],
                "unit_id": spec["unit_id"],
                "description": f"检查发现未落实：检查项{position}",
                "category": "mlps",
                "severity": ("high", "medium", "low")[position % 3],
            }
        )
    finding_ids = _insert(Finding, finding_rows, ids=True)
    repeats = []
    items = []
    for n, ((_inspection, spec, position), finding_id) in enumerate(
        zip(found, finding_ids, strict=True)
    ):
        key = (spec["unit_id"], position)
        if key in earlier:
            repeats.append({"id": finding_id, "repeat_of_id": earlier[key], "repeat_count": 1})
        earlier[key] = finding_id
        r = round_of[spec["round_id"]]
        due = r.end_date + timedelta(days=30)
        state = ITEM_STATES[n % len(ITEM_STATES)]
        if n % 23 == 0:
            state = ("risk_accepted", "escalated")[n % 2]
        closed_at = None
        if state == "closed":
            late = n % 3 == 0
            closed_at = datetime.combine(due, datetime.min.time()) + timedelta(
                days=5 if late else -5
            )
        items.append(
            {
                "finding_id": finding_id,
                "unit_id": spec["unit_id"],
                "deadline_days": 30,
                "due_date": due,
                "status": state,
                "closed_at": closed_at,
            }
        )
    _insert(RectificationItem, items)
    if repeats:
        db.session.execute(sa.update(Finding), repeats)
    db.session.commit()
    return {
        "units": n_units,
        "inspections": len(inspection_ids),
        "answers": len(answers),
        "findings": len(finding_ids),
        "repeats": len(repeats),
    }
