"""What the office does about an overdue item (约谈, 通报, 移送) from its page, and the printed
documents: the unit's 整改报告 for a notice, the 约谈记录, the 通报 and the 移送函, each filled from
data with no empty sentences."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest

from .pages import browser, build, item, jpeg, respond_form, text, visible_text


@pytest.fixture
def site(app, make):
    with app.app_context():
        return build(make)


def _url(site, name, suffix=""):
    return f"/rectification/items/{site.items[name]}{suffix}"


def _no_blanks(page: str) -> None:
    """No value printed as nothing: no None, no empty brackets or dangling separators."""
    for blank in ("None", "（）", "()", "：；", "《》", "· ·"):
        assert blank not in page, blank


def _interview(office, site, version=0, **kw):
    form = {
        "interview-version": str(version),
        "interview-held_on": site.today.isoformat(),
        "interview-place": "市网信办第二会议室",
        "interview-office_people": "王科长、赵干部",
        "interview-unit_people": "分管副院长张某、信息科李某",
        "interview-content": "指出逾期未整改，要求说明原因",
        "interview-commitments": "两周内完成整改并报送",
    }
    form.update(kw)
    return office.post(_url(site, "overdue", "/interview"), form)


def test_an_overdue_item_shows_the_offices_actions_first(app, site):
    html = text(browser(app, site, "office").get(_url(site, "overdue")))
    box = html[html.index("overdue-actions") : html.index('aria-labelledby="finding-h"')]
    for anchor in ("#act-interview", "#act-notification", "#act-escalate"):
        assert anchor in box
    assert 'id="act-interview"' in html and 'id="act-escalate"' in html
    ledger = text(browser(app, site, "office").get("/rectification/?status=overdue"))
    assert f"{_url(site, 'overdue')}#act-interview" in ledger
    assert "overdue-actions" not in text(browser(app, site, "office").get(_url(site, "open")))


def test_an_interview_is_recorded_and_printed(app, site):
    office = browser(app, site, "office")
    response = _interview(office, site)
    assert response.status_code == 302
    state = item(app, site.items["overdue"])
    assert state["events"] == ["interview"] and state["status"] == "open"
    doc = office.get(f"/rectification/steps/{state['event_ids'][0]}/document")
    assert doc.status_code == 200
    page = visible_text(text(doc))
    for value in (
        "整改约谈记录",
        "市网信办第二会议室",
        "王科长、赵干部",
        "分管副院长张某、信息科李某",
        "指出逾期未整改，要求说明原因",
        "两周内完成整改并报送",
        site.codes["overdue"],
        "页测整改〔2026〕第71号",
        "约谈人（签名）",
        "被约谈人（签名）",
        "记录人（签名）",
    ):
        assert value in page, value
    _no_blanks(page)
    # Cited as the notice cites (citations.py): full title, Chinese numerals, new number first.
    assert (
        "《中华人民共和国网络安全法》（以下简称《网络安全法》）第二十三条（原第二十一条）" in page
    )
    assert "第23条" not in page
    # the unit may read the record of its own interview
    liaison = browser(app, site, "liaison")
    assert liaison.get(f"/rectification/steps/{state['event_ids'][0]}/document").status_code == 200
    assert (
        browser(app, site, "other_liaison")
        .get(f"/rectification/steps/{state['event_ids'][0]}/document")
        .status_code
        == 404
    )


def test_an_interview_without_commitments_prints_no_empty_row(app, site):
    office = browser(app, site, "office")
    _interview(office, site, **{"interview-commitments": ""})
    state = item(app, site.items["overdue"])
    page = visible_text(text(office.get(f"/rectification/steps/{state['event_ids'][0]}/document")))
    assert "单位承诺" not in page and "被约谈方的承诺" not in page
    _no_blanks(page)


def test_an_interview_in_the_future_is_refused_beside_its_date(app, site):
    office = browser(app, site, "office")
    before = item(app, site.items["overdue"])
    tomorrow = (site.today + timedelta(days=1)).isoformat()
    response = _interview(office, site, **{"interview-held_on": tomorrow})
    assert response.status_code == 400
    assert "市网信办第二会议室" in text(response)  # kept
    assert item(app, site.items["overdue"]) == before


def test_a_notification_to_the_superior_is_recorded_and_printed(app, site):
    office = browser(app, site, "office")
    html = text(office.get(_url(site, "overdue")))
    assert 'name="notification-to_body" required type="text" value="市卫生健康委员会"' in html
    response = office.post(
        _url(site, "overdue", "/notification"),
        {
            "notification-version": "0",
            "notification-to_body": "市卫生健康委员会",
            "notification-content": "经查，该单位未按期完成整改，现予通报。",
        },
    )
    assert response.status_code == 302
    state = item(app, site.items["overdue"])
    page = visible_text(text(office.get(f"/rectification/steps/{state['event_ids'][0]}/document")))
    for value in (
        "关于页面测试单位网络安全问题整改情况的通报",
        "市卫生健康委员会：",
        "经查，该单位未按期完成整改，现予通报。",
        site.codes["overdue"],
        "已逾期5天",
        "抄送：页面测试单位",
    ):
        assert value in page, value
    _no_blanks(page)


def test_an_item_is_handed_over_with_a_printable_letter(app, site):
    office = browser(app, site, "office")
    _interview(office, site)
    response = office.post(
        _url(site, "overdue", "/escalate"),
        {
            "escalate-version": "1",
            "escalate-to": "police",
            "escalate-body": "市公安局网安支队",
            "escalate-reason": "约谈后仍未整改",
        },
    )
    assert response.status_code == 302
    state = item(app, site.items["overdue"])
    assert state["status"] == "escalated" and state["events"] == ["interview", "escalated"]
    page = visible_text(text(office.get(f"/rectification/steps/{state['event_ids'][1]}/document")))
    for value in ("移送函", "市公安局网安支队：", "公安机关", "约谈后仍未整改", "约谈"):
        assert value in page, value
    _no_blanks(page)
    html = text(office.get(_url(site, "overdue")))
    assert "act-escalate" not in html and "act-interview" not in html  # finished: no more steps


def test_escalating_without_a_target_is_refused_and_kept(app, site):
    office = browser(app, site, "office")
    before = item(app, site.items["overdue"])
    response = office.post(
        _url(site, "overdue", "/escalate"),
        {"escalate-version": "0", "escalate-body": "市保密局", "escalate-reason": "涉密"},
    )
    assert response.status_code == 400
    html = text(response)
    assert 'id="escalate-to-error"' in html and "市保密局" in html
    assert item(app, site.items["overdue"]) == before


def test_a_response_step_has_no_document(app, site):
    liaison = browser(app, site, "liaison")
    liaison.post(_url(site, "open", "/respond"), respond_form(0))
    state = item(app, site.items["open"])
    assert liaison.get(f"/rectification/steps/{state['event_ids'][0]}/document").status_code == 404
    assert liaison.get("/rectification/steps/987654/document").status_code == 404


def test_the_rectification_report_prints_every_item_with_signature_and_seal_lines(app, site):
    liaison = browser(app, site, "liaison")
    liaison.post(
        _url(site, "open", "/respond"),
        {**respond_form(0), "respond-files": [(io.BytesIO(jpeg()), "任命文件.jpg")]},
        content_type="multipart/form-data",
    )
    response = liaison.get(f"/rectification/notices/{site.ids['served']}/report")
    assert response.status_code == 200
    page = visible_text(text(response))
    for value in (
        "网络安全问题整改报告",
        "页测整改〔2026〕第71号",
        "页面测试单位",
        site.codes["open"],
        site.codes["overdue"],
        site.codes["soon"],
        "管理制度未落实到人",
        "已任命网络安全负责人并印发文件",
        "李四",
        "任命文件.jpg",
        "尚未报送整改情况。",
        "单位负责人（签字）",
        "单位盖章",
        "3个问题",
    ):
        assert value in page, value
    assert site.codes["unserved"] not in page  # another notice's item
    _no_blanks(page)


def test_an_unserved_notice_has_a_report_without_a_service_date(app, site):
    page = visible_text(
        text(
            browser(app, site, "liaison").get(
                f"/rectification/notices/{site.ids['unserved']}/report"
            )
        )
    )
    assert "收到" not in page and "1个问题" in page
    _no_blanks(page)


def test_a_planned_inspection_has_no_report(app, make, site):
    with app.app_context():
        planned = make.inspection(status="planned").id
    assert (
        browser(app, site, "office").get(f"/rectification/notices/{planned}/report").status_code
        == 404
    )
