"""The 检查记录 of a visit: time span, place, method, 告知, support staff, every signature."""

import re
from datetime import date, datetime, time

import pytest

from inspect_app.clock import local_to_utc
from inspect_app.errors import InvalidTransition, ValidationFailed
from inspect_app.extensions import db
from inspect_app.inspections import answering, evidence, notices, record, services
from inspect_app.models import Answer, AuditEvent, Inspection, User

from ..conftest import Browser
from .conftest import change
from .helpers import jpeg_bytes, png_bytes, signature_data_url


def _user(name):
    return db.session.query(User).filter_by(username=name).one()


def _submit(setup, lead, *, at=None):
    changes = [
        change(setup["items"]["T-01"], result="noncompliant", finding_description="经查，未明确"),
        change(setup["items"]["T-02"], result="compliant"),
        change(setup["items"]["T-03"], result="compliant"),
        change(setup["items"]["T-04"], result="compliant"),
        change(setup["items"]["T-06"], value=2),
    ]
    answering.apply_changes(setup["inspection"], changes, actor=lead)
    answer = db.session.query(Answer).filter_by(item_id=setup["items"]["T-01"]).one()
    inspection = db.session.get(Inspection, setup["inspection"])
    evidence.add_evidence(inspection, jpeg_bytes(), actor=lead, answer=answer)
    services.submit_inspection(
        setup["inspection"],
        actor=lead,
        signatory_name="张三",
        signature_png=png_bytes(),
        today=date(2026, 5, 10),
        now=at,
    )


def _facts(**kw):
    args = {
        "started_at": local_to_utc(datetime(2026, 5, 10, 9, 5)),
        "ended_at": local_to_utc(datetime(2026, 5, 10, 11, 40)),
        "method": "onsite",
        "support_staff": [{"name": "周工", "organisation": "示例测评中心"}],
        "credentials_shown": True,
        "unit_refused_to_sign": False,
        "place": "被检查单位三楼机房",
        "unit_reply": "不申请回避",
        "representative_post": "信息科科长",
        "representative_phone": "0997-4601111",
        "unit_statement": "日志留存问题系设备故障所致，正在更换。",
    }
    args.update(kw)
    return args


def test_the_record_facts_are_checked_and_audited(ctx, setup):
    lead = _user(setup["lead"])
    for bad in (
        {"ended_at": local_to_utc(datetime(2026, 5, 10, 8, 0))},  # before the start
        {"method": "remote", "remote_authorisation": ""},
        {"unit_refused_to_sign": True, "refusal_witness": ""},
        {"method": "telepathy"},
        {"place": "地" * 301},
        # before the year of the round: "1999年12月8日 10:00 至 2026年…" was printed
        {"started_at": local_to_utc(datetime(1999, 12, 8, 10, 0))},
        {"ended_at": local_to_utc(datetime(2099, 1, 1, 10, 0))},  # ahead of now
    ):
        with pytest.raises(ValidationFailed):
            record.update_record(setup["inspection"], actor=lead, **_facts(**bad))
    visit = record.update_record(setup["inspection"], actor=lead, **_facts())
    assert visit.place == "被检查单位三楼机房" and visit.support_staff[0]["name"] == "周工"
    event = db.session.query(AuditEvent).filter_by(action="visit.record").one()
    assert event.after["unit_reply"] == "不申请回避"


def test_start_and_end_come_from_the_work_and_the_record_is_closed_once_the_notice_is_approved(
    ctx, setup, make
):
    lead = _user(setup["lead"])
    services.start_inspection(setup["inspection"], actor=lead)
    visit = db.session.get(Inspection, setup["inspection"]).visit
    assert visit.started_at is not None and visit.started_at.second == 0
    _submit(setup, lead, at=datetime(2026, 5, 10, 3, 41, 27))
    assert visit.ended_at == datetime(2026, 5, 10, 3, 41)
    notices.approve_notice(setup["inspection"], actor=make.user(role="coordinator"))
    with pytest.raises(InvalidTransition):
        record.update_record(setup["inspection"], actor=lead, **_facts())


def test_every_inspector_signs_once_and_only_inspectors_of_the_team(ctx, setup):
    lead, member, outsider = (_user(setup[k]) for k in ("lead", "member", "outsider"))
    record.sign_record(setup["inspection"], actor=lead, signature_png=png_bytes())
    with pytest.raises(InvalidTransition):
        record.sign_record(setup["inspection"], actor=lead, signature_png=png_bytes())
    with pytest.raises(ValidationFailed):
        record.sign_record(setup["inspection"], actor=member, signature_png=b"not a png")
    from inspect_app.errors import NotFound

    with pytest.raises(NotFound):
        record.sign_record(setup["inspection"], actor=outsider, signature_png=png_bytes())
    record.sign_record(setup["inspection"], actor=member, signature_png=png_bytes())
    visit = db.session.get(Inspection, setup["inspection"]).visit
    assert {a.uploaded_by_id for a in record.inspector_signatures(visit)} == {lead.id, member.id}


def _text(html):
    return re.sub(r"\s+", "", re.sub(r"<[^>]+>", "", html))


def test_the_printed_record_has_every_element(app, setup):
    with app.app_context():
        lead = _user(setup["lead"])
        record.update_record(setup["inspection"], actor=lead, **_facts())
        # Signed at 16:30 Beijing time: stored as 08:30 UTC, printed as 16:30 the same day.
        _submit(setup, lead, at=local_to_utc(datetime.combine(date(2026, 5, 10), time(16, 30))))
        record.sign_record(setup["inspection"], actor=lead, signature_png=png_bytes())
    b = Browser(app.test_client())
    b.login(setup["member"])
    html = b.get(f"/inspections/{setup['inspection']}/record").get_data(as_text=True)
    text = _text(html)
    assert "2026年5月10日09:05至2026年5月10日11:40" in text  # time span to the minute
    assert "被检查单位三楼机房" in text and "现场检查" in text  # place and method
    assert "出示执法证件" in text and "不申请回避" in text  # 告知 and the unit's answer
    assert "信息科科长0997-4601111" in text
    assert "技术支撑人员周工（示例测评中心）" in text  # apart from the inspectors
    assert "日志留存问题系设备故障所致" in text and "以上记录已核对无误" in text
    assert "T-01经查，未明确" in text  # the problems found, listed before the signatures
    assert re.search(r"1[^<]*\.jpg|1image/jpeg", text) or "SHA-256" in text
    assert re.search(r"[0-9a-f]{64}", html)  # the evidence hash
    assert "张三·2026年5月10日16:30" in text and "5月11日00:30" not in text
    assert text.count("检查人员（签名）") == 2  # one line per inspector, signed or blank
    assert html.count("/inspections/visit-files/") == 1  # the lead signed, the member not yet
    # The member signs through the page.
    r = b.post(
        f"/inspections/{setup['inspection']}/sign-record", {"signature": signature_data_url()}
    )
    assert r.status_code == 302
    html = b.get(f"/inspections/{setup['inspection']}/record").get_data(as_text=True)
    assert html.count("/inspections/visit-files/") == 2


def test_the_record_prints_a_choices_label_not_its_stored_value(app, make):
    """A choice answered 每年 printed "yearly", the value the checklist stores, in both languages."""
    with app.app_context():
        options = [
            {"value": "never", "label": "从未", "label_en": "Never"},
            {"value": "yearly", "label": "每年", "label_en": "Yearly"},
        ]
        template = make.template(
            key="CHO",
            items=[
                {"code": "C-01", "text": "多久研究一次？", "kind": "choice", "options": options}
            ],
        )
        inspection = make.inspection(template=template)
        lead = db.session.get(User, inspection.lead_id)
        answering.apply_changes(
            inspection.id, [change(template.items[0].id, value="yearly")], actor=lead
        )
        iid, username = inspection.id, lead.username
    b = Browser(app.test_client())
    b.login(username)
    cells = re.findall(
        r'data-label="结论">([^<]*)<', b.get(f"/inspections/{iid}/record").get_data(as_text=True)
    )
    assert cells == ["每年"], cells
    english = b.get(f"/inspections/{iid}/record?lang=en").get_data(as_text=True)
    assert re.findall(r'data-label="Result">([^<]*)<', english) == ["Yearly"]


def test_a_refused_record_comes_back_with_what_was_typed(app, setup):
    """A refused save redirected to the record as it was: a long statement typed was gone."""
    b = Browser(app.test_client())
    b.login(setup["lead"])
    statement = "被检查单位对第3项有异议，称相关日志由上级单位统一留存。" * 5
    response = b.post(
        f"/inspections/{setup['inspection']}/visit-record",
        {
            "started_at": "2099-01-01T10:00",  # ahead of now
            "method": "onsite",
            "place": "三楼机房",
            "unit_statement": statement,
        },
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert statement in html and "三楼机房" in html
    assert "开始时间不能晚于当前时间。" in html
