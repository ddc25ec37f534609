"""One visit, one notice: grouping, review before issue, the notice's content, a real 送达回证."""

import re
from datetime import date, time

import pytest

from inspect_app.errors import InvalidTransition, NotAllowed, ValidationFailed
from inspect_app.extensions import db
from inspect_app.inspections import answering, notices, services
from inspect_app.models import AuditEvent, Inspection, User, Visit
from inspect_app.rounds import services as rounds
from inspect_app.rounds.services import Target, TeamMember

from ..conftest import Browser
from .helpers import png_bytes, signature_data_url

ITEMS = [
    {
        "code": "N-01",
        "text": "是否落实网络安全等级保护制度？",
        "severity": "high",
        "deadline_days": 15,
        "legal_basis": [{"standard": "GB/T 22239-2019", "clause": "8.1.1"}],  # no law at all
    },
    {
        "code": "N-02",
        "text": "是否建立数据安全管理制度？",
        "severity": "medium",
        "deadline_days": 30,
        "legal_basis": [{"law": "数据安全法", "article": "第二十七条"}],
    },
    {"code": "N-03", "text": "是否开展应急演练？", "severity": "low", "deadline_days": 60},
]
DAY = date(2026, 5, 10)


@pytest.fixture
def world(app, make):
    """A coordinator, a 网信 and a 公安 inspector, a checklist, a 党政机关 and an enterprise."""
    with app.app_context():
        cac, psb = (
            make.department(code="CAC", name="市委网信办"),
            make.department(code="PSB", name="市公安局网安支队"),
        )
        lead = make.user(role="inspector", department=cac, certificate_no="网信001")
        member = make.user(role="inspector", department=psb, certificate_no="公安002")
        coordinator = make.user(role="coordinator")
        template = make.template(key="NT", items=ITEMS)
        second = make.template(key="NT2", items=[{"code": "M-01", "text": "是否备案？"}])
        rnd = make.round(seq=2, start_date=date(2026, 5, 1), end_date=date(2026, 6, 30))
        party = make.unit(kind="party_gov", name="示例市教育局", code="P1")
        firm = make.unit(
            kind="private_enterprise", name="示例科技有限公司", code="E1", credit_code="91650000X"
        )
        unit_user = make.user(role="unit", unit=firm)
        return {
            "lead": lead.id,
            "member": member.id,
            "coordinator": coordinator.id,
            "template": template.id,
            "second": second.id,
            "round": rnd.id,
            "party": party.id,
            "firm": firm.id,
            "unit_user": unit_user.username,
            "names": {
                "lead": lead.username,
                "member": member.username,
                "coordinator": coordinator.username,
            },
        }


def _u(user_id):
    return db.session.get(User, user_id)


def _assign(world, unit_id, template_key="template"):
    return rounds.assign_targets(
        world["round"],
        [Target("unit", unit_id)],
        actor=_u(world["coordinator"]),
        template_id=world[template_key],
        scheduled_on=DAY,
        team=[TeamMember(world["lead"]), TeamMember(world["member"])],
        lead_id=world["lead"],
        confirmed_over_cap=True,
    ).inspections[0]


def _fill_and_submit(world, inspection_id, noncompliant=("N-01", "N-02")):
    from .conftest import change

    lead = _u(world["lead"])
    inspection = db.session.get(Inspection, inspection_id)
    changes = []
    for item in inspection.template.items:
        if item.code in noncompliant:
            changes.append(
                change(
                    item.id, result="noncompliant", finding_description=f"经查，{item.code}未落实"
                )
            )
        else:
            changes.append(change(item.id, result="compliant"))
    answering.apply_changes(inspection_id, changes, actor=lead)
    services.submit_inspection(
        inspection_id, actor=lead, signatory_name="赵六", signature_png=png_bytes(), today=DAY
    )


def _issued(world, unit_id):
    inspection = _assign(world, unit_id)
    _fill_and_submit(world, inspection.id)
    notices.approve_notice(inspection.id, actor=_u(world["coordinator"]), today=DAY)
    return inspection.id


# --- one visit --------------------------------------------------------------------------------


def test_two_checklists_for_one_unit_on_one_day_with_one_team_are_one_visit(ctx, world):
    first = _assign(world, world["firm"])
    second = _assign(world, world["firm"], "second")
    assert first.visit_id == second.visit_id
    assert rounds.year_counts(2026, [world["firm"]]) == {world["firm"]: 1}  # the cap counts visits
    assert first.visit.nature == "enterprise_inspection"
    assert _assign(world, world["party"]).visit.nature == "party_gov_supervision"


def test_the_notice_waits_until_every_inspection_of_the_visit_is_submitted(ctx, world):
    first = _assign(world, world["firm"])
    second = _assign(world, world["firm"], "second")
    _fill_and_submit(world, first.id)
    with pytest.raises(InvalidTransition):
        notices.approve_notice(first.id, actor=_u(world["coordinator"]))
    answering.apply_changes(
        second.id,
        [
            {
                "change_id": "00000000-0000-0000-0000-00000000f001",
                "item_id": second.template.items[0].id,
                "base_version": 0,
                "result": "noncompliant",
                "finding_description": "经查，未备案",
            }
        ],
        actor=_u(world["lead"]),
    )
    services.submit_inspection(
        second.id, actor=_u(world["lead"]), signatory_name="赵六", signature_png=png_bytes()
    )
    visit = notices.approve_notice(first.id, actor=_u(world["coordinator"]), today=DAY)
    # One notice, one number, every finding of the visit on it.
    assert visit.notice_number == "师市网信整改〔2026〕第1号"
    assert len(notices.visit_findings(visit)) == 3
    assert db.session.get(Inspection, second.id).notice_number == visit.notice_number


# --- review before issue --------------------------------------------------------------------------


def test_no_number_before_approval_and_only_the_office_approves(ctx, world):
    inspection = _assign(world, world["firm"])
    _fill_and_submit(world, inspection.id)
    visit = db.session.get(Visit, inspection.visit_id)
    assert visit.notice_status == "draft" and visit.notice_number is None
    with pytest.raises(NotAllowed):
        notices.approve_notice(inspection.id, actor=_u(world["lead"]))
    with pytest.raises(ValidationFailed):
        notices.approve_notice(inspection.id, actor=_u(world["coordinator"]), legal_review=True)
    assert db.session.get(Visit, inspection.visit_id).notice_number is None
    notices.approve_notice(
        inspection.id,
        actor=_u(world["coordinator"]),
        legal_review=True,
        legal_review_note="法律顾问审核：事实清楚，依据充分",
        today=DAY,
    )
    visit = db.session.get(Visit, inspection.visit_id)
    assert visit.notice_status == "approved" and visit.notice_number
    assert visit.legal_review and visit.notice_approved_by_id == world["coordinator"]
    event = db.session.query(AuditEvent).filter_by(action="notice.approve").one()
    assert event.after["legal_review"] is True and event.after["notice_number"]
    with pytest.raises(InvalidTransition):
        notices.approve_notice(inspection.id, actor=_u(world["coordinator"]))


def test_a_unit_sees_no_draft_notice(app, world, monkeypatch):
    with app.app_context():
        inspection = _assign(world, world["firm"])
        _fill_and_submit(world, inspection.id)
        inspection_id = inspection.id
    liaison = Browser(app.test_client())
    liaison.login(world["unit_user"])
    assert liaison.get(f"/inspections/{inspection_id}/notice").status_code == 404
    with app.app_context():
        notices.approve_notice(inspection_id, actor=_u(world["coordinator"]), today=DAY)
    assert liaison.get(f"/inspections/{inspection_id}/notice").status_code == 200


# --- content ----------------------------------------------------------------------------------


def _text(html: str) -> str:
    return re.sub(r"\s+", "", re.sub(r"<[^>]+>", "", html))


def _notice(app, world, unit_key, monkeypatch, **config):
    settings = {
        "NOTICE_CONTACT_NAME": "李明",
        "NOTICE_CONTACT_PHONE": "0997-4600000",
        "NOTICE_CONTACT_ADDRESS": "示例市塔里木大道1号",
        "NOTICE_CC": ("示例市教育局",),
        **config,
    }
    for key, value in settings.items():  # the app is the session's: put everything back after
        monkeypatch.setitem(app.config, key, value)
    with app.app_context():
        inspection_id = _issued(world, world[unit_key])
    b = Browser(app.test_client())
    b.login(world["names"]["lead"])
    return _text(b.get(f"/inspections/{inspection_id}/notice").get_data(as_text=True))


def _common(text):
    assert "示例市互联网信息办公室" in text and "市委网信办" not in text.split("检查组")[0]
    assert "（印章）" in text
    assert "师市网信整改〔2026〕第1号" in text
    # The authority to inspect, full title at first mention: never an empty 依据 sentence.
    assert "依据《" in text and "依据对你单位" not in text
    assert "《中华人民共和国网络安全法》第九条（原第八条）" in text
    assert "（以下简称《网络安全法》）" not in text or text.count("中华人民共和国网络安全法") == 1
    assert "2026年度网络安全监督检查计划第2轮" in text  # 任务来源
    assert "本机关会同市公安局网安支队" in text  # the issuer does not "join" itself
    assert "经查，N-01未落实" in text and "GB/T22239-2019" in text  # fact and basis
    assert "整改要求" in text and "按所列依据落实相应要求" in text
    assert "2026年5月10日" in text and "2026-05" not in text  # Chinese dates throughout
    assert "联系人" in text or "李明" in text
    assert "0997-4600000" in text and "示例市塔里木大道1号" in text
    assert "抄送：示例市教育局" in text
    # The 送达回证 is blank until served: no typed name of the signatory.
    receipt = text.split("送达回证")[-1]
    assert "赵六" not in receipt


def test_the_notice_to_an_enterprise_names_the_penalty_articles_and_the_reconsideration_body(
    app, world, monkeypatch
):
    text = _notice(app, world, "firm", monkeypatch)
    _common(text)
    assert "涉企行政检查" in text
    assert "《网络安全法》第六十一条（原第五十九条）" in text
    assert "《数据安全法》第四十五条" in text  # a data finding
    assert "《中华人民共和国数据安全法》" in text  # full title at its first mention
    assert "向示例市人民政府申请行政复议" in text and "六十日" in text and "六个月" in text
    assert "责任制" not in text


def test_the_notice_to_a_party_organ_is_supervision_without_fines_or_reconsideration(
    app, world, monkeypatch
):
    text = _notice(app, world, "party", monkeypatch)
    _common(text)
    assert "党政机关" in text or "督查" in text
    assert "《党委（党组）网络安全工作责任制实施办法》第五条" in text
    assert "通报、约谈" in text and "依法给予处分" in text
    assert "罚款" not in text and "行政复议" not in text and "陈述、申辩" not in text


# --- service (送达回证) -----------------------------------------------------------------------------


def _serve(world, inspection_id, **kw):
    args = {
        "served_on": DAY,
        "served_time": time(15, 20),
        "method": "direct",
        "place": "示例科技有限公司办公室",
        "server_ids": [world["lead"], world["member"]],
        "recipient_name": "钱七",
        "signature_png": png_bytes(),
        "today": DAY,
    }
    args.update(kw)
    return notices.record_notice_served(inspection_id, actor=_u(world["lead"]), **args)


def test_service_needs_method_place_two_officers_and_the_recipients_own_signature(ctx, world):
    inspection_id = _issued(world, world["firm"])
    for bad in (
        {"method": None},
        {"place": ""},
        {"server_ids": [world["lead"]]},
        {"signature_png": None},
        {"recipient_name": ""},
        {"method": "left", "witness": ""},
    ):
        with pytest.raises(ValidationFailed):
            _serve(world, inspection_id, **bad)
    outsider = db.session.query(User).filter_by(role="coordinator").first()
    with pytest.raises(ValidationFailed):
        _serve(world, inspection_id, server_ids=[world["lead"], outsider.id])
    visit = _serve(world, inspection_id)
    assert visit.service_method == "direct" and visit.served_at.hour == 7  # 15:20 Beijing
    assert {visit.server_a_id, visit.server_b_id} == {world["lead"], world["member"]}
    assert notices.receipt_signature(visit) is not None
    event = db.session.query(AuditEvent).filter_by(action="inspection.notice_served").one()
    assert event.after["signature_sha256"] and event.after["method"] == "direct"


def test_a_refusal_is_served_by_leaving_it_before_a_witness(ctx, world):
    inspection_id = _issued(world, world["firm"])
    visit = _serve(
        world,
        inspection_id,
        method="left",
        recipient_name="",
        signature_png=None,
        witness="孙八（社区工作人员）",
    )
    assert visit.recipient_refused and visit.service_witness.startswith("孙八")
    assert notices.receipt_signature(visit) is None


def test_the_served_receipt_prints_the_record_and_not_a_typed_signature(app, world, monkeypatch):
    with app.app_context():
        inspection_id = _issued(world, world["firm"])
        _serve(world, inspection_id)
    b = Browser(app.test_client())
    b.login(world["names"]["member"])
    html = b.get(f"/inspections/{inspection_id}/notice").get_data(as_text=True)
    text = _text(html)
    assert "直接送达" in text and "示例科技有限公司办公室" in text
    assert "2026年5月10日15:20" in text
    assert "/inspections/visit-files/" in html  # the recipient's own signature image


def test_the_service_form_on_the_record_page_records_a_service(app, world, monkeypatch):
    with app.app_context():
        inspection_id = _issued(world, world["firm"])
    b = Browser(app.test_client())
    b.login(world["names"]["lead"])
    r = b.post(
        f"/inspections/{inspection_id}/served",
        {
            "served_on": "2026-05-10",
            "served_time": "10:05",
            "method": "direct",
            "place": "单位会议室",
            "server_a": str(world["lead"]),
            "server_b": str(world["member"]),
            "recipient_name": "钱七",
            "signature": signature_data_url(),
        },
    )
    assert r.status_code == 302
    with app.app_context():
        visit = db.session.get(Inspection, inspection_id).visit
        assert visit.notice_served_on == date(2026, 5, 10) and visit.recipient_name == "钱七"


def test_a_special_review_of_a_party_organ_has_no_reconsideration_clause(app, world, monkeypatch):
    from inspect_app.models import Round

    with app.app_context():
        db.session.get(Round, world["round"]).nature = "special_review"
        db.session.commit()
    text = _notice(app, world, "party", monkeypatch)
    assert "专项排查" in text and "行政复议" not in text and "通报、约谈" in text


def test_findings_another_department_leads_make_a_joint_notice_when_configured(
    app, world, monkeypatch
):
    from inspect_app.models import ChecklistItem

    with app.app_context():
        item = db.session.query(ChecklistItem).filter_by(code="N-01").one()
        item.lead_department = "PSB"
        db.session.commit()
    text = _notice(app, world, "firm", monkeypatch, NOTICE_CO_ISSUERS={"PSB": "示例市公安局"})
    assert text.count("（印章）") == 2 and "示例市公安局" in text
