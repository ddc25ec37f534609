"""Demo rectification: items in every state across several units, through the real services.

A "story" of five data-security inspections (the DATA checklist, in the data-security round once
it has begun) whose notices were served weeks before the demo's today, and the steps units and office took
since: answered (one with a photo), returned and answered again, verified (one after an on-site
re-check), a risk accepted until a date, one handed over to the police, overdue with an interview
and a notification to the superior department, due soon, extended (both dates in the history), an
extension request waiting, a paper response entered by the office (代录), and a repeat finding of
unit U014 from the round before. unit_u014 is left an open item to answer with a photo, a
returned item and an overdue one (README's "Done when" walk-through).

The planned rounds' items that fell due more than a month ago are answered and verified, most of
them, as an office's year would have it. Steps are dated as in the story: the services run with
their `today`, and each step's history entry and notifications carry the day it happened.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa

from ..clock import local_to_utc
from ..extensions import db
from ..inspections import answering, evidence
from ..inspections import services as inspections
from ..models import (
    Answer,
    ChecklistItem,
    Finding,
    Inspection,
    Notification,
    RectificationEvent,
    RectificationItem,
    Round,
    Unit,
    User,
)
from ..rectification import services as rs
from ..rounds import services as rounds
from ..rounds.services import Target, TeamMember

TEMPLATE = "DATA"
TEAM = ("inspector1", "inspector2")
POLICE = "师市公安局网安支队"


@dataclass
class Notice:
    """One story inspection: its unit, the days of submission and service (relative to the
    demo's today), and its findings as {item code: (description, deadline days)}."""

    unit: str
    submitted: int
    served: int
    findings: dict[str, tuple[str, int]]
    earlier: bool = False  # the round before the others (the first half of the repeat)


NOTICES = {
    "U014-earlier": Notice(
        "U014",
        0,
        0,
        {"DATA-01": ("数据安全管理制度未覆盖数据删除、销毁环节，未明确各环节责任部门。", 30)},
        earlier=True,
    ),
    "U014": Notice(
        "U014",
        -40,
        -38,
        {
            "DATA-01": (
                "数据安全管理制度仍未覆盖数据删除、销毁环节，与上轮检查发现的问题相同。",
                60,
            ),
            "DATA-05": ("未开展数据安全风险监测，互联网暴露的数据库端口未及时发现和处置。", 15),
            "PI-03": ("客户个人信息在测试环境以明文存储，未采取去标识化措施。", 30),
            "PI-06": ("手机银行隐私政策未单独列明人脸信息的处理目的和方式。", 30),
            "PI-04": ("个人信息查询权限未按岗位最小化分配，全年未开展从业人员培训。", 60),
        },
    ),
    "U006": Notice(
        "U006",
        -27,
        -25,
        {
            "DATA-04": ("医院信息系统数据库未做异地备份，备份数据未加密。", 30),
            "PI-02": ("未识别和单独标注患者诊疗记录等敏感个人信息。", 15),
            "PI-05": ("未制定个人信息安全事件应急预案。", 30),
            "PI-07": ("预约挂号小程序未提供个人信息查阅、更正和删除的渠道。", 60),
        },
    ),
    "U010": Notice(
        "U010",
        -32,
        -30,
        {
            "DATA-02": ("未开展数据分类分级，未形成数据资产目录。", 60),
            "PI-11": ("营业收费系统发生用户信息泄露后未立即报告，也未通知受影响用户。", 7),
            "PI-01": ("个人信息内部管理制度缺失，未明确操作规程。", 30),
            "PI-08": ("未指定个人信息保护负责人。", 30),
            "DATA-03": ("全年未组织数据安全教育培训。", 15),
        },
    ),
    "U012": Notice(
        "U012",
        -22,
        -20,
        {
            "PI-09": ("未开展个人信息保护合规审计。", 90),
            "PI-10": ("公交支付系统向第三方提供乘车记录前未开展个人信息保护影响评估。", 30),
        },
    ),
}


@dataclass
class Story:
    """Plans which round each notice belongs to, builds them as the rounds are seeded, then
    plays the steps once every notice exists."""

    today: date
    coordinator: User
    rounds: list[Round]
    current: Round
    built: dict[str, int] = field(default_factory=dict)  # notice -> inspection id
    plan: dict[str, tuple[Round, date, date]] = field(default_factory=dict)

    def __post_init__(self):
        later = [n for n in NOTICES.values() if not n.earlier]
        main_day = self.today + timedelta(days=min(n.submitted for n in later))
        usable = [r for r in self.rounds if r.seq <= self.current.seq]
        started = [r for r in usable if r.start_date and r.start_date <= main_day]
        # A data-security story belongs to the data-security round once it has begun (the DATA
        # checklist in its round), else to the latest round begun by then.
        data = [r for r in started if "数据安全" in r.title]
        main = data[-1] if data else started[-1] if started else usable[0]
        for name, notice in NOTICES.items():
            if not notice.earlier:
                day = self.today + timedelta(days=notice.submitted)
                served = self.today + timedelta(days=notice.served)
                self.plan[name] = (main, day, served)
        before = [r for r in usable if r.seq < main.seq]
        if before:  # the repeat needs an earlier round of the same year
            rnd = before[-1]
            day = min((rnd.start_date or main_day) + timedelta(days=5), main_day - timedelta(35))
            self.plan["U014-earlier"] = (rnd, day, day + timedelta(days=2))

    def build_round(self, rnd: Round) -> None:
        """Assign, fill, submit and serve the story's inspections of this round."""
        for name, (planned, day, served) in self.plan.items():
            if planned.id == rnd.id and name not in self.built:
                self.built[name] = _inspection(rnd, NOTICES[name], day, served, self)

    def play(self) -> int:
        """Every step of the story, in the order they happened. Returns how many."""
        steps = _steps(self)
        steps.sort(key=lambda step: step[0])
        for n, (day, run) in enumerate(steps):
            _dated(day, n, run)
        return len(steps)


# --- building the inspections -------------------------------------------------------------------


def _user(username: str) -> User:
    return db.session.scalar(sa.select(User).where(User.username == username))


def _inspection(rnd: Round, notice: Notice, day: date, served: date, story: Story) -> int:
    from .inspections import _photo, _record_facts, _signature, _template, issue_notice

    unit = db.session.scalar(sa.select(Unit).where(Unit.code == notice.unit))
    lead, member = _user(TEAM[0]), _user(TEAM[1])
    [inspection] = rounds.assign_targets(
        rnd.id,
        [Target("unit", unit.id)],
        actor=story.coordinator,
        template_id=_template(TEMPLATE).id,
        scheduled_on=day,
        team=[TeamMember(lead.id), TeamMember(member.id)],
        lead_id=lead.id,
        confirmed_over_cap=True,
    ).inspections
    inspection_id = inspection.id
    ctx = inspections.fill_context(inspection_id, actor=lead, action="inspection.fill")
    changes = []
    for item in ctx.applicability.applicable:
        if item.code in notice.findings:
            description, days = notice.findings[item.code]
            fields = {
                "result": "noncompliant",
                "finding_description": description,
                "finding_deadline_days": days,
                "note": "已当场向单位指出，单位负责人签字确认。",
            }
        elif item.kind != "yes_no":
            fields = {"result": "not_applicable"}
        else:
            fields = {"result": "compliant"}
        changes.append(
            {"change_id": str(uuid.uuid4()), "item_id": item.id, "base_version": 0, **fields}
        )
    answering.apply_changes(inspection_id, changes, actor=lead)
    inspection = db.session.get(Inspection, inspection_id)
    for answer in db.session.scalars(
        sa.select(Answer).where(
            Answer.inspection_id == inspection_id, Answer.result == "noncompliant"
        )
    ):
        if answer.item.evidence in ("required", "required_if_noncompliant"):
            evidence.add_evidence(
                inspection,
                _photo(f"{notice.unit} {answer.item.code}"),
                actor=lead,
                filename="现场检查.jpg",
                answer=answer,
            )
    db.session.commit()
    _record_facts(inspection_id, lead, day, start=time(7, 40))
    inspections.submit_inspection(
        inspection_id,
        actor=lead,
        signatory_name="周建华",
        signature_png=_signature(),
        today=day,
        now=local_to_utc(datetime.combine(day, time(8, 30))),
    )
    issue_notice(
        inspection_id,
        coordinator=story.coordinator,
        issued_on=day,
        served_on=served,
        today=story.today,
    )
    return inspection_id


# --- the steps ----------------------------------------------------------------------------------


def _item(story: Story, notice: str, code: str) -> int | None:
    inspection_id = story.built.get(notice)
    if inspection_id is None:
        return None
    return db.session.scalar(
        sa.select(RectificationItem.id)
        .join(Finding, Finding.id == RectificationItem.finding_id)
        .join(ChecklistItem, ChecklistItem.id == Finding.item_id)
        .where(Finding.inspection_id == inspection_id, ChecklistItem.code == code)
    )


def _photos(text: str, name: str = "整改后照片.jpg") -> list[rs.Upload]:
    from .inspections import _photo

    return [rs.Upload(_photo(text), name)]


def _steps(story: Story) -> list[tuple[date, Callable[[], object]]]:
    today = story.today
    office, lead = story.coordinator, _user(TEAM[0])
    steps: list[tuple[date, Callable[[], object]]] = []

    def on(offset: int | date, run) -> None:
        day = offset if isinstance(offset, date) else today + timedelta(days=offset)
        steps.append((day, lambda: run(day)))

    def respond(item_id, actor, cause, measures, person, *, files=None, on_behalf=False, source=""):
        return lambda day: rs.respond(
            item_id,
            actor=actor,
            cause=cause,
            measures=measures,
            completed_on=day,
            responsible_person=person,
            responsible_phone="0997-4601234",
            files=files,
            on_behalf=on_behalf,
            source=source,
            today=day,
            now=datetime.combine(day, time(2, 0)),
        )

    def verify(item_id, actor, note, recheck=None, files=None):
        return lambda day: rs.verify(
            item_id,
            actor=actor,
            note=note,
            recheck=recheck,
            files=files,
            today=day,
            now=datetime.combine(day, time(7, 0)),
        )

    bank, hospital, water = (_user(f"unit_{code}") for code in ("u014", "u006", "u010"))

    # U014, the round before: answered and verified; the same item again this round (repeat).
    earlier = _item(story, "U014-earlier", "DATA-01")
    if earlier is not None:
        _, _, served = story.plan["U014-earlier"]
        on(
            served + timedelta(days=20),
            respond(
                earlier,
                bank,
                "数据安全管理制度起草时只覆盖了收集、存储、使用环节。",
                "修订《数据安全管理办法》，增加数据删除、销毁章节，经行务会审议后印发。",
                "王立新（信息科技部总经理）",
            ),
        )
        on(
            served + timedelta(days=26),
            verify(earlier, office, "已查阅修订后的制度文件，同意销号。"),
        )

    # U014: overdue, with an interview and a notification to its superior department.
    overdue = _item(story, "U014", "DATA-05")
    on(
        -14,
        lambda day: rs.record_interview(
            overdue,
            actor=office,
            held_on=day,
            place="师市党委网信办302会议室",
            office_people="陈协调、李检查",
            unit_people="王立新（信息科技部总经理）、赵敏（科技风险管理岗）",
            content="通报数据库端口暴露问题逾期未整改的情况，要求说明原因并限期关闭端口、部署风险监测。",
            commitments="一周内关闭全部互联网暴露的数据库端口，月底前上线数据安全风险监测平台。",
            today=day,
        ),
    )
    on(
        -7,
        lambda day: rs.record_notification(
            overdue,
            actor=office,
            to_body="示例市农村商业银行股份有限公司董事会",
            content="贵行数据安全风险监测问题（整改期限已过）经约谈仍未整改到位，现予通报，请督促限期整改。",
        ),
    )
    # U014: answered with a photo, returned, now the unit's turn again.
    returned = _item(story, "U014", "PI-03")
    on(
        -20,
        respond(
            returned,
            bank,
            "测试环境数据由生产库直接导出，未经过脱敏处理。",
            "已删除测试环境中的明文客户信息，后续测试数据经脱敏平台处理后导入。",
            "赵敏（科技风险管理岗）",
            files=_photos("U014 PI-03 整改后"),
        ),
    )
    on(
        -12,
        lambda day: rs.return_item(
            returned,
            actor=office,
            reason="只删除了一个测试环境的数据；另两个测试环境仍有明文身份证号，请全部整改并附脱敏平台配置截图。",
            due_date=today + timedelta(days=10),
            today=day,
        ),
    )
    # U014: answered with a photo, waiting for verification.
    on(
        -6,
        respond(
            _item(story, "U014", "PI-06"),
            bank,
            "隐私政策由产品部门编写，未经法律合规部门审核。",
            "修订手机银行隐私政策，单独列明人脸信息的处理目的、方式和保存期限，并在首次使用时单独取得同意。",
            "刘洋（零售银行部副总经理）",
            files=_photos("U014 PI-06 隐私政策截图"),
        ),
    )

    # U006: verified after an on-site re-check.
    rechecked = _item(story, "U006", "PI-02")
    on(
        -18,
        respond(
            rechecked,
            hospital,
            "信息科未对诊疗数据做敏感性标注。",
            "完成患者信息分类，诊疗记录、检验结果标注为敏感个人信息，访问需二次授权。",
            "孙丽（信息科科长）",
            files=_photos("U006 PI-02 分类清单"),
        ),
    )
    on(
        -9,
        verify(
            rechecked,
            lead,
            "现场复查：敏感信息标注和二次授权均已生效，同意销号。",
            recheck=rs.Recheck(checked_on=today - timedelta(days=10), checked_by="李检查、王警官"),
            files=_photos("U006 PI-02 现场复查"),
        ),
    )
    # U006: an extension asked and granted (the due date moves; both dates in the history).
    extended = _item(story, "U006", "PI-05")
    on(
        -6,
        lambda day: rs.request_extension(
            extended,
            actor=hospital,
            reason="应急预案需经医院网络安全领导小组审议，下次会议在下月初召开。",
            proposed_date=today + timedelta(days=35),
            interim_measures="已明确应急联系人和上报流程，先按《网络安全事件应急预案》处置。",
            today=day,
        ),
    )
    on(
        -4,
        lambda day: rs.decide_extension(
            extended, actor=office, grant=True, reason="理由充分，同意延期。", today=day
        ),
    )
    # U006: an extension request waiting for the office.
    on(
        -1,
        lambda day: rs.request_extension(
            _item(story, "U006", "PI-07"),
            actor=hospital,
            reason="小程序由第三方开发，功能改造需重新签订合同。",
            proposed_date=today + timedelta(days=65),
            interim_measures="在小程序首页公布个人信息查阅、更正的联系电话，人工受理。",
            today=day,
        ),
    )

    # U010: a risk accepted until a date, one item handed over to the police.
    on(
        -10,
        lambda day: rs.accept_risk(
            _item(story, "U010", "DATA-02"),
            actor=office,
            reason="数据分类分级工具需政府采购，已列入明年一季度预算；期间按现有台账管理。",
            until=today + timedelta(days=80),
            today=day,
        ),
    )
    on(
        -3,
        lambda day: rs.escalate(
            _item(story, "U010", "PI-11"),
            actor=office,
            to="police",
            body=POLICE,
            reason="涉嫌未履行个人信息泄露报告义务，且泄露数据已在境外论坛出现，移送公安机关调查。",
        ),
    )
    # U010: answered, returned with a reason, answered again.
    again = _item(story, "U010", "PI-01")
    on(
        -20,
        respond(
            again,
            water,
            "公司未设置个人信息保护岗位，制度一直缺位。",
            "起草《个人信息保护管理办法》。",
            "钱进（信息中心主任）",
        ),
    )
    on(
        -15,
        lambda day: rs.return_item(
            again,
            actor=office,
            reason="只提交了制度草稿，未正式印发，也没有配套的操作规程。",
            due_date=today + timedelta(days=5),
            today=day,
        ),
    )
    on(
        -5,
        respond(
            again,
            water,
            "制度起草后未及时履行发文程序。",
            "《个人信息保护管理办法》及三项操作规程已经总经理办公会审议并正式印发（附文件扫描件）。",
            "钱进（信息中心主任）",
            files=_photos("U010 PI-01 印发文件"),
        ),
    )
    # U010: answered and verified.
    closed = _item(story, "U010", "PI-08")
    on(
        -12,
        respond(
            closed,
            water,
            "对个人信息保护负责人的要求不了解。",
            "发文指定分管副总经理为个人信息保护负责人，并在官网公开联系方式。",
            "钱进（信息中心主任）",
        ),
    )
    on(-6, verify(closed, office, "任命文件和官网公示已核实，同意销号。"))

    # U012 has no account: the office enters its paper response (代录).
    on(
        -4,
        respond(
            _item(story, "U012", "PI-10"),
            office,
            "业务部门对影响评估的要求不了解。",
            "已补做个人信息保护影响评估并形成报告，暂停向第三方提供乘车记录直至评估通过。",
            "郑凯（信息中心副主任）",
            files=_photos("U012 整改报告扫描件", "整改报告扫描件.jpg"),
            on_behalf=True,
            source="单位报送的纸质《整改情况报告》（加盖公章），邮寄送达",
        ),
    )
    return steps


# --- the planned rounds' older items ------------------------------------------------------------

# (cause, measures) of the paper and online answers the planned rounds' items got.
ANSWERS = [
    (
        "相关制度执行不到位，责任人员对要求理解不够。",
        "已对照检查发现逐项整改，补充完善制度和记录，并组织相关人员学习。",
    ),
    (
        "日常运维中疏于检查，未及时发现问题。",
        "已完成配置整改并建立每月自查机制，自查记录留存备查。",
    ),
    ("前期建设时未同步考虑安全要求。", "已完成技术整改并经第三方测评机构复测，复测报告附后。"),
]
LEAVE_OPEN_EVERY = 6  # one in six stays open: a ledger is never entirely clean


def age_planned_items(story: Story) -> int:
    """Answer and verify the planned rounds' items that fell due more than a month before the
    demo's today (all but one in LEAVE_OPEN_EVERY): the unit's liaison answers where the unit has
    an account, else the office enters the paper answer. Returns how many were closed."""
    story_ids = set(story.built.values())
    cutoff = story.today - timedelta(days=30)
    items = db.session.execute(
        sa.select(RectificationItem.id, RectificationItem.unit_id, RectificationItem.due_date)
        .join(Finding, Finding.id == RectificationItem.finding_id)
        .join(Inspection, Inspection.id == Finding.inspection_id)
        .where(
            RectificationItem.status == "open",
            RectificationItem.due_date < cutoff,
            Inspection.id.not_in(story_ids or [0]),
        )
        .order_by(RectificationItem.id)
    ).all()
    liaisons = {
        u.unit_id: u for u in db.session.scalars(sa.select(User).where(User.role == "unit"))
    }
    office = story.coordinator
    closed = 0
    for n, (item_id, unit_id, due) in enumerate(items):
        if n % LEAVE_OPEN_EVERY == LEAVE_OPEN_EVERY - 1:
            continue
        cause, measures = ANSWERS[n % len(ANSWERS)]
        answered = due - timedelta(days=3)
        liaison = liaisons.get(unit_id)
        _dated(
            answered,
            n,
            lambda day=answered, liaison=liaison, item_id=item_id, cause=cause, measures=measures: (
                rs.respond(
                    item_id,
                    actor=liaison or office,
                    cause=cause,
                    measures=measures,
                    completed_on=day,
                    responsible_person="单位网络安全负责人",
                    on_behalf=liaison is None,
                    source="" if liaison else "单位报送的纸质《整改情况报告》（加盖公章）",
                    today=day,
                    now=datetime.combine(day, time(2, 0)),
                )
            ),
        )
        verified = due + timedelta(days=4)
        _dated(
            verified,
            n,
            lambda day=verified, item_id=item_id: rs.verify(
                item_id,
                actor=office,
                note="经核查整改材料，整改到位，同意销号。",
                today=day,
                now=datetime.combine(day, time(7, 0)),
            ),
        )
        closed += 1
    return closed


def settle_inbox(today: date) -> None:
    """Date each "new items" notification to its inspection's submission, and mark what is more
    than two weeks old read a day after it came (people read their notifications)."""
    for note in db.session.scalars(
        sa.select(Notification).where(Notification.kind == "items_opened")
    ):
        inspection = db.session.get(Inspection, note.data.get("inspection_id"))
        if inspection is not None and inspection.submitted_at is not None:
            note.created_at = inspection.submitted_at
    db.session.flush()
    old = datetime.combine(today - timedelta(days=14), time())
    for note in db.session.scalars(
        sa.select(Notification).where(Notification.read_at.is_(None), Notification.created_at < old)
    ):
        note.read_at = note.created_at + timedelta(days=1)
    db.session.commit()


def _dated(day: date, n: int, run) -> None:
    """Run a step, then date its history entries and notifications to the day it happened."""
    last_event = db.session.scalar(sa.select(sa.func.max(RectificationEvent.id))) or 0
    last_note = db.session.scalar(sa.select(sa.func.max(Notification.id))) or 0
    run()
    when = datetime.combine(day, time(2, 0)) + timedelta(minutes=n)
    db.session.execute(
        sa.update(RectificationEvent)
        .where(RectificationEvent.id > last_event)
        .values(created_at=when)
    )
    db.session.execute(
        sa.update(Notification).where(Notification.id > last_note).values(created_at=when)
    )
    db.session.commit()
