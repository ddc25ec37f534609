"""Demo inspections through the real services: earlier rounds submitted with findings, the current
round in progress for the demo inspectors, and one inspection ready to fill today.

Deterministic (a fixed random seed), and only run for a year that has no inspections yet.
"""

from __future__ import annotations

import io
import random
import uuid
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from PIL import Image, ImageDraw

from ..checklists import services as checklist_services
from ..checklists.loader import default_folder
from ..clock import local_to_utc, local_today
from ..extensions import db
from ..inspections import answering, evidence, notices
from ..inspections import services as inspections
from ..models import Answer, ChecklistTemplate, Inspection, Round, System, Unit, User
from ..rounds import services as rounds
from ..rounds.services import Target, TeamMember

# Per round: the joint team (usernames, lead first) that fits the round's subject, and what it
# inspects with which checklist (unit codes, or system codes for MLPS/MLPS_EXT). inspector1 is
# 网信 (CAC), inspector2 公安 (PSB), inspector3 工信 (MIIT), inspector4 保密 (SEC): 公安 is on every
# team that checks 等保 (MLPS, MLPS_EXT), 保密 on every team that checks the 保密 part of WEB, 工信
# where 工控 (MLPS_EXT) or ICP filing (WEB) is checked, and 网信, whose office issues the notice,
# on every team.
PLAN: dict[int, tuple[tuple[str, ...], list[tuple[str, list[str]]]]] = {
    # 元旦春节: duties, a bank's online banking (等保) and the water company as a CII operator.
    1: (
        ("inspector1", "inspector2"),
        [("RESP", ["U001", "U010"]), ("MLPS", ["U014-EBANK"]), ("CII", ["U010"])],
    ),
    # 重点单位 (mostly 督查): 师市 organs and a 团镇, their websites, new media and secrecy.
    2: (
        ("inspector1", "inspector4"),
        [("RESP", ["U002", "U006", "U022"]), ("WEB", ["U002", "U022"])],
    ),
    # 等保: led by 公安, with the cloud and industrial-control extensions (工信 on 工控).
    3: (
        ("inspector2", "inspector1", "inspector3"),
        [
            ("MLPS", ["U004-SI", "U013-DMS", "U009-CLOUD"]),
            ("MLPS_EXT", ["U013-DMS", "U009-CLOUD"]),
        ],
    ),
    # 数据安全和个人信息保护: the DATA checklist.
    4: (("inspector1", "inspector2"), [("DATA", ["U003", "U018", "U021"])]),
    # 国庆: duties of a company, a 团场 and an Internet firm (ICP filing: 工信), the water SCADA.
    5: (
        ("inspector1", "inspector3", "inspector2"),
        [
            ("RESP", ["U012", "U016", "U021"]),
            ("WEB", ["U016"]),
            ("MLPS", ["U010-SCADA"]),
            ("MLPS_EXT", ["U010-SCADA"]),
        ],
    ),
    # 年度风险隐患排查: duties, the media centre's new media and secrecy, the government portal.
    6: (
        ("inspector1", "inspector2", "inspector4"),
        [("RESP", ["U005", "U014", "U008"]), ("WEB", ["U008"]), ("MLPS", ["U001-WEB"])],
    ),
}
SYSTEM_CHECKLISTS = ("MLPS", "MLPS_EXT")


def _photo(text: str) -> bytes:
    image = Image.new("RGB", (640, 480), (90, 110, 130))
    ImageDraw.Draw(image).text((20, 20), text, fill=(255, 255, 255))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=70)
    return out.getvalue()


def _record_facts(inspection_id: int, lead: User, day: date, start: time = time(9, 0)) -> None:
    """The record's facts as the team would enter them: from `start` to the signature, at the
    unit."""
    from ..inspections import record

    visit = db.session.get(Inspection, inspection_id).visit
    if visit.place:
        return
    record.update_record(
        inspection_id,
        actor=lead,
        started_at=local_to_utc(datetime.combine(day, start)),
        ended_at=None,
        method="onsite",
        support_staff=[],
        credentials_shown=True,
        unit_refused_to_sign=False,
        place=f"{visit.unit.name}（{visit.unit.address}）"
        if visit.unit.address
        else visit.unit.name,
        unit_reply="不申请回避",
        representative_post="网络安全负责人",
        representative_phone=visit.unit.contact_phone,
    )


def issue_notice(
    inspection_id: int, *, coordinator: User, issued_on: date, served_on: date, today: date
) -> None:
    """Approve the visit's draft notice and serve it in person, as the office would."""
    inspection = db.session.get(Inspection, inspection_id)
    visit = inspection.visit
    if visit.notice_status == "draft" and visit.is_on_record:
        notices.approve_notice(inspection_id, actor=coordinator, today=issued_on)
    if visit.notice_status == "approved" and visit.notice_served_on is None:
        team = [m.user_id for m in visit.members]
        notices.record_notice_served(
            inspection_id,
            actor=visit.lead or coordinator,
            served_on=served_on,
            served_time=time(10, 0),
            method="direct",
            place=visit.unit.address or visit.unit.name,
            server_ids=team[:2],
            recipient_name=visit.unit.contact_name or "办公室负责人",
            signature_png=_signature(),
            today=today,
        )


def _signature() -> bytes:
    image = Image.new("RGB", (400, 120), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    draw.line(
        [(20, 90), (80, 30), (140, 95), (220, 35), (300, 80), (380, 40)], fill=(20, 20, 20), width=4
    )
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _user(username: str) -> User:
    return db.session.scalar(sa.select(User).where(User.username == username))


def _template(key: str) -> ChecklistTemplate | None:
    return checklist_services.find_version(key)


def ensure_checklists() -> None:
    """Load the shipped checklists when none are loaded yet."""
    if db.session.scalar(sa.select(ChecklistTemplate.id).limit(1)) is None:
        checklist_services.load_paths([str(default_folder())])


def finding_fact(question: str) -> str:
    """A finding as a fact found on site, from the item's question: "是否建立X？" becomes
    "经现场查阅资料、询问相关人员，该单位未建立X。" (the demo's stand-in for the inspector's words)."""
    core = (question or "").strip().rstrip("？?。 ")
    head, _, rest = core.partition("是否")
    if not rest:
        return f"经现场查阅资料、询问相关人员，发现以下要求未落实：{core}。"
    if rest.startswith(("有", "具有")):
        rest = "没" + rest
    elif rest.startswith("已"):
        rest = "未" + rest[1:]
    else:
        rest = "未" + rest
    return f"经现场查阅资料、询问相关人员，{head}{rest.replace('是否', '未')}。"


def agrees_with_registry(item, system: System | None) -> bool:
    """Whether the registry already shows the item is met, so a plausible answer is "compliant":
    a system with an MLPS filing number is filed (定级备案), whatever the dice say."""
    return bool(system is not None and system.filing_number and "备案" in (item.text or ""))


def _fill(inspection_id: int, lead: User, rng: random.Random, *, share: float = 1.0) -> None:
    """Answer (a share of) the applicable items as a plausible inspection would: an item the
    registry shows met is compliant, and an item of duty is never waved off as not applicable
    (the checklist's own rules already left out what does not apply)."""
    ctx = inspections.fill_context(inspection_id, actor=lead, action="inspection.fill")
    system = db.session.get(Inspection, inspection_id).system
    changes = []
    for item in ctx.applicability.applicable:
        if rng.random() > share:
            continue
        roll = rng.random()
        if item.kind != "yes_no":
            fields = {"result": "not_applicable"}
        elif agrees_with_registry(item, system):
            fields = {"result": "compliant"}
        elif roll < 0.14:
            fields = {
                "result": "noncompliant",
                "finding_description": finding_fact(item.text),
                "note": "已当场向单位网络安全负责人指出，单位未提出异议。",
            }
        else:
            fields = {"result": "compliant"}
        changes.append(
            {"change_id": str(uuid.uuid4()), "item_id": item.id, "base_version": 0, **fields}
        )
    if changes:
        answering.apply_changes(inspection_id, changes, actor=lead)
    # Photos where the checklist asks for evidence of a non-compliance.
    inspection = db.session.get(Inspection, inspection_id)
    for answer in db.session.scalars(
        sa.select(Answer).where(
            Answer.inspection_id == inspection_id, Answer.result == "noncompliant"
        )
    ):
        if answer.item.evidence in ("required", "required_if_noncompliant"):
            evidence.add_evidence(
                inspection,
                _photo(answer.item.code),
                actor=lead,
                filename="photo.jpg",
                answer=answer,
            )
    for item in ctx.applicability.applicable:
        if item.evidence == "required":
            answer = db.session.scalar(
                sa.select(Answer).where(
                    Answer.inspection_id == inspection_id, Answer.item_id == item.id
                )
            )
            if answer and answer.result == "compliant":
                evidence.add_evidence(
                    inspection, _photo(item.code), actor=lead, filename="photo.jpg", answer=answer
                )
    db.session.commit()


def _assign(
    rnd: Round, coordinator: User, targets: list[Target], key: str, day: date, team: tuple[str, ...]
) -> list[int]:
    template = _template(key)
    if template is None or not targets:
        return []
    members = [_user(username) for username in team]
    assignment = rounds.assign_targets(
        rnd.id,
        targets,
        actor=coordinator,
        template_id=template.id,
        scheduled_on=day,
        team=[TeamMember(m.id) for m in members],
        lead_id=members[0].id,
        confirmed_over_cap=True,
    )
    return [i.id for i in assignment.inspections]


def _targets(codes: list[str], model) -> list[Target]:
    rows = db.session.scalars(
        sa.select(model).where(model.code.in_(codes)).order_by(model.code)
    ).all()
    kind = "unit" if model is Unit else "system"
    return [Target(kind, row.id) for row in rows]


def seed_inspections(year: int, *, today: date | None = None) -> int:
    """Create the demo inspections of `year` unless it has some. Returns how many were made."""
    today = today or local_today()
    has_any = db.session.scalar(
        sa.select(Inspection.id)
        .join(Round, Round.id == Inspection.round_id)
        .where(Round.year == year)
        .limit(1)
    )
    coordinator = _user("coordinator")
    if has_any or coordinator is None or _user("inspector1") is None:
        return 0
    ensure_checklists()
    rng = random.Random(year)
    all_rounds = db.session.scalars(
        sa.select(Round).where(Round.year == year).order_by(Round.seq)
    ).all()
    started = [r for r in all_rounds if r.start_date and r.start_date <= today] or all_rounds[:1]
    current = started[-1] if started else None
    made = 0
    from .rectification import Story

    story = Story(today, coordinator, all_rounds, current) if current else None
    for rnd in all_rounds:
        if current is None or rnd.seq > current.seq or rnd.seq not in PLAN:
            continue
        if rnd.status == "planned":
            rounds.change_round_status(rnd.id, "active", actor=coordinator)
        team, work = PLAN[rnd.seq]
        day = rnd.start_date + timedelta(days=3) if rnd.start_date else today
        if rnd is current:
            day = today
        ids = []
        for key, codes in work:
            model = System if key in SYSTEM_CHECKLISTS else Unit
            ids += _assign(rnd, coordinator, _targets(codes, model), key, day, team)
        made += len(ids)
        lead = _user(team[0])
        if rnd is current:
            # In progress for the demo inspectors, and the last one left untouched, ready to fill.
            for n, inspection_id in enumerate(ids[:-1]):
                _fill(inspection_id, lead, rng, share=0.3 + 0.2 * n)
            story.build_round(rnd)
            continue
        submitted_on = min(day + timedelta(days=1), today)
        for inspection_id in ids:
            _fill(inspection_id, lead, rng)
            _record_facts(inspection_id, lead, submitted_on)
            try:
                inspections.submit_inspection(
                    inspection_id,
                    actor=lead,
                    signatory_name=rng.choice(["王建国", "李秀英", "张伟", "刘洋", "陈静"]),
                    signature_png=_signature(),
                    today=submitted_on,
                    # Signed at 16:30 Beijing time, stored as UTC like every other instant.
                    now=local_to_utc(datetime.combine(submitted_on, time(16, 30))),
                )
            except Exception:  # noqa: BLE001 - a demo inspection that cannot be submitted stays open
                db.session.rollback()
                continue
        # One notice per visit: approved by the office the day after, served two days later.
        for inspection_id in ids:
            issue_notice(
                inspection_id,
                coordinator=coordinator,
                issued_on=min(submitted_on + timedelta(days=1), today),
                served_on=min(submitted_on + timedelta(days=2), today),
                today=today,
            )
        story.build_round(rnd)
        rounds.change_round_status(rnd.id, "closed", actor=coordinator, confirmed=True)
    if story is not None:
        from .rectification import age_planned_items, settle_inbox

        made += len(story.built)
        story.play()
        age_planned_items(story)
        settle_inbox(today)
    return made
