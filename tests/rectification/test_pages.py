"""The rectification pages: the unit's home, the item page and its forms, files, permissions, the
409 on a stale page, bad input shown again with nothing changed, and the relative deadline until
the notice is served."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest

from .pages import (
    PDF,
    browser,
    build,
    fetch,
    files_of,
    item,
    jpeg,
    respond_form,
    text,
    visible_text,
)


@pytest.fixture
def site(app, make):
    with app.app_context():
        return build(make)


def _url(site, name, suffix=""):
    return f"/rectification/items/{site.items[name]}{suffix}"


# --- the unit's home --------------------------------------------------------------------------


def test_unit_home_groups_items_with_countdowns_and_lists_the_notices(app, site):
    liaison = browser(app, site, "liaison")
    home = liaison.get("/")
    assert home.status_code == 200
    page = visible_text(text(home))
    for heading in ("已逾期", "即将到期", "待整改"):
        assert heading in page
    assert "已逾期5天" in page and "还剩3天" in page and "还剩10天" in page
    assert "自送达之日起15日内" in page  # the unserved notice's item: no date
    assert page.index(site.codes["overdue"]) < page.index(site.codes["soon"])
    assert page.index(site.codes["soon"]) < page.index(site.codes["open"])
    html = text(home)
    assert "页测整改〔2026〕第71号" in html and "页测整改〔2026〕第72号" in html
    served = site.ids["served"]
    for link in (
        f"/inspections/{served}/notice",
        f"/inspections/{served}/record",
        f"/rectification/notices/{served}/report",
    ):
        assert link in html
    assert site.codes["other"] not in html and "页测整改〔2026〕第73号" not in html
    same = text(liaison.get("/rectification/"))
    assert all(code in same for name, code in site.codes.items() if name != "other")


def test_unit_sees_rectification_first_in_the_menu_and_no_separate_home(app, site):
    html = text(browser(app, site, "liaison").get("/rectification/"))
    nav = html[html.index('id="site-nav"') :]
    links = [part.split('"')[0] for part in nav.split('data-nav="')[1:]]
    assert links[0] == "rectification.index" and "main.index" not in links
    assert 'data-nav="rectification.index" aria-current="page"' in html


def test_every_menu_link_of_every_role_resolves(app, site):
    for who in ("liaison", "admin", "office", "viewer", "lead", "outsider"):
        b = browser(app, site, who)
        html = text(b.get("/"))
        for endpoint in (p.split('"')[0] for p in html.split('data-nav="')[1:]):
            href = html.split(f'data-nav="{endpoint}"')[0].rsplit('href="', 1)[1].split('"')[0]
            assert b.get(href).status_code == 200, (who, endpoint, href)


# --- the item page ----------------------------------------------------------------------------


def test_item_page_shows_the_finding_its_basis_deadline_and_the_units_form(app, site):
    html = text(browser(app, site, "liaison").get(_url(site, "overdue")))
    page = visible_text(html)
    assert "检查发现overdue问题" in page
    assert "《网络安全法》第23条" in page and "第21条" in page
    assert "已逾期5天" in page
    assert (site.today - timedelta(days=5)).isoformat() in page
    assert f'action="/rectification/items/{site.items["overdue"]}/respond"' in html
    assert 'name="respond-version" type="hidden" value="0"' in html
    assert 'accept="image/*,application/pdf" multiple' in html and 'capture="environment"' in html
    assert "/verify" not in html and "act-interview" not in html  # not the unit's steps


def test_unit_responds_with_a_photo_and_the_history_shows_it(app, site):
    liaison = browser(app, site, "liaison")
    item_id = site.items["open"]
    response = liaison.post(
        _url(site, "open", "/respond"),
        {**respond_form(0), "respond-files": [(io.BytesIO(jpeg()), "整改后.jpg")]},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, text(response)[:2000]
    state = item(app, item_id)
    assert state["status"] == "submitted" and state["events"] == ["response"]
    [file_id] = files_of(app, state["event_ids"][0])
    page = liaison.get(response.headers["Location"])
    html = text(page)
    assert "整改报告" in html and "已任命网络安全负责人并印发文件" in html and "李四" in html
    assert f"/rectification/files/{file_id}" in html
    photo = fetch(liaison, f"/rectification/files/{file_id}")
    assert photo.status_code == 200 and photo.mimetype == "image/jpeg"
    thumb = fetch(liaison, f"/rectification/files/{file_id}?thumb=1")
    assert thumb.status_code == 200 and thumb.headers["Cache-Control"] == "private, max-age=600"
    assert 'name="respond-cause"' not in html  # answered: the form is gone


def test_a_pdf_scan_is_served_as_a_download(app, site):
    office = browser(app, site, "office")
    response = office.post(
        _url(site, "open", "/respond"),
        {
            **respond_form(0),
            "respond-source": "单位盖章整改报告（纸质，邮寄）",
            "respond-files": [(io.BytesIO(PDF), "整改报告.pdf")],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    state = item(app, site.items["open"])
    [file_id] = files_of(app, state["event_ids"][0])
    download = fetch(office, f"/rectification/files/{file_id}")
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.headers["X-Content-Type-Options"] == "nosniff"


def test_office_enters_a_paper_response_on_the_units_behalf_and_the_history_says_so(app, site):
    office = browser(app, site, "office")
    html = text(office.get(_url(site, "open")))
    assert 'name="respond-source"' in html  # 代录 asks what the paper original is
    response = office.post(
        _url(site, "open", "/respond"),
        respond_form(0, **{"respond-source": "单位6月10日盖章报告"}),
    )
    assert response.status_code == 302
    page = visible_text(text(office.get(_url(site, "open"))))
    assert "代录" in page and "单位6月10日盖章报告" in page and "页面测试单位" in page


def test_a_paper_response_without_its_source_is_refused_beside_the_field(app, site):
    office = browser(app, site, "office")
    before = item(app, site.items["open"])
    response = office.post(_url(site, "open", "/respond"), respond_form(0))
    assert response.status_code == 400
    assert "请说明纸质材料的来源" in text(response)
    assert item(app, site.items["open"]) == before


# --- permissions ------------------------------------------------------------------------------


def test_unit_user_gets_404_for_another_units_item_file_report_and_documents(app, site):
    office = browser(app, site, "office")
    office.post(
        _url(site, "other", "/respond"),
        {
            **respond_form(0, **{"respond-source": "纸质报告"}),
            "respond-files": [(io.BytesIO(jpeg()), "a.jpg")],
        },
        content_type="multipart/form-data",
    )
    state = item(app, site.items["other"])
    [file_id] = files_of(app, state["event_ids"][0])
    liaison = browser(app, site, "liaison")
    for url in (
        _url(site, "other"),
        f"/rectification/files/{file_id}",
        f"/rectification/files/{file_id}?thumb=1",
        f"/rectification/notices/{site.ids['elsewhere']}/report",
        f"/rectification/steps/{state['event_ids'][0]}/document",
    ):
        assert liaison.get(url).status_code == 404, url
    assert liaison.post(_url(site, "other", "/respond"), respond_form(1)).status_code == 404
    assert item(app, site.items["other"])["version"] == 1


def test_unit_user_cannot_verify_or_return_its_own_item(app, site):
    liaison = browser(app, site, "liaison")
    liaison.post(_url(site, "open", "/respond"), respond_form(0))
    before = item(app, site.items["open"])
    verify = liaison.post(_url(site, "open", "/verify"), {"verify-version": "1"})
    back = liaison.post(
        _url(site, "open", "/return"),
        {"return-version": "1", "return-reason": "x", "return-due_date": "2099-01-01"},
    )
    assert verify.status_code == 403 and back.status_code == 403
    assert item(app, site.items["open"]) == before


def test_an_inspector_not_on_the_team_sees_nothing(app, site):
    outsider = browser(app, site, "outsider")
    assert outsider.get(_url(site, "open")).status_code == 404
    ledger = text(outsider.get("/rectification/"))
    assert site.codes["open"] not in ledger and "没有符合条件的整改事项" in ledger
    assert site.codes["open"] not in text(outsider.get("/rectification/queue"))
    browser(app, site, "liaison").post(_url(site, "open", "/respond"), respond_form(0))
    assert outsider.post(_url(site, "open", "/verify"), {"verify-version": "1"}).status_code == 404
    assert item(app, site.items["open"])["status"] == "submitted"


def test_an_inspector_of_the_team_verifies_from_the_queue(app, site):
    browser(app, site, "liaison").post(_url(site, "open", "/respond"), respond_form(0))
    lead = browser(app, site, "lead")
    queue = text(lead.get("/rectification/queue"))
    assert site.codes["open"] in queue
    html = text(lead.get(_url(site, "open")))
    assert "act-verify" in html and "act-return" in html and "act-escalate" not in html
    response = lead.post(
        _url(site, "open", "/verify"), {"verify-version": "1", "verify-note": "现场核实"}
    )
    assert response.status_code == 302
    assert item(app, site.items["open"])["status"] == "closed"


def test_viewers_read_but_have_no_forms_and_may_not_act(app, site):
    viewer = browser(app, site, "viewer")
    html = text(viewer.get(_url(site, "overdue")))
    assert (
        site.codes["overdue"] in html and '<form method="post" action="/rectification' not in html
    )
    assert viewer.get("/rectification/").status_code == 200
    assert viewer.get("/rectification/queue").status_code == 403
    response = viewer.post(
        _url(site, "overdue", "/interview"),
        {"interview-version": "0", "interview-place": "x"},
    )
    assert response.status_code == 403
    assert item(app, site.items["overdue"])["events"] == []


# --- stale pages and bad input ------------------------------------------------------------------


def test_a_step_without_the_pages_csrf_token_is_refused(app, site):
    liaison = browser(app, site, "liaison")
    before = item(app, site.items["open"])
    response = liaison.client.post(_url(site, "open", "/respond"), data=respond_form(0))
    assert response.status_code == 400 and "表单已过期" in text(response)
    assert item(app, site.items["open"]) == before


def test_a_stale_page_gets_the_409_message_and_keeps_what_was_typed(app, site):
    browser(app, site, "liaison").post(_url(site, "open", "/respond"), respond_form(0))
    first, second = browser(app, site, "office"), browser(app, site, "office2")
    assert second.post(_url(site, "open", "/verify"), {"verify-version": "1"}).status_code == 302
    before = item(app, site.items["open"])
    response = first.post(
        _url(site, "open", "/return"),
        {
            "return-version": "1",
            "return-reason": "未附任命文件扫描件",
            "return-due_date": (site.today + timedelta(days=7)).isoformat(),
        },
    )
    assert response.status_code == 409
    html = text(response)
    assert "已有他人对其作了处理" in html
    assert "未附任命文件扫描件" in html  # nothing typed is lost
    assert item(app, site.items["open"]) == before


def test_bad_input_is_shown_again_with_messages_beside_the_fields_and_nothing_changes(app, site):
    liaison = browser(app, site, "liaison")
    before = item(app, site.items["open"])
    response = liaison.post(
        _url(site, "open", "/respond"),
        respond_form(
            0,
            **{
                "respond-cause": "",
                "respond-completed_on": "31/06/2026",
                "respond-measures": "已部分整改",
            },
        ),
    )
    assert response.status_code == 400
    html = text(response)
    assert "请描述问题原因。" in html and "请按 YYYY-MM-DD 格式填写日期。" in html
    assert 'id="respond-cause-error"' in html and 'aria-invalid="true"' in html
    assert "已部分整改" in html and "李四" in html
    assert 'open><summary id="act-respond"' in html.replace("\n", "").replace("  ", "")
    assert item(app, site.items["open"]) == before


def test_a_file_that_is_no_photo_or_pdf_is_refused_and_the_text_kept(app, site):
    liaison = browser(app, site, "liaison")
    before = item(app, site.items["open"])
    response = liaison.post(
        _url(site, "open", "/respond"),
        {**respond_form(0), "respond-files": [(io.BytesIO(b"MZ not a photo"), "整改.jpg")]},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    html = text(response)
    assert "只接受 JPEG" in html
    assert "请重新选择" in html and "已任命网络安全负责人并印发文件" in html
    assert item(app, site.items["open"]) == before


def test_a_service_refusal_is_shown_beside_its_field(app, site):
    browser(app, site, "liaison").post(_url(site, "open", "/respond"), respond_form(0))
    office = browser(app, site, "office")
    response = office.post(
        _url(site, "open", "/return"),
        {
            "return-version": "1",
            "return-reason": "证据不足",
            "return-due_date": (site.today - timedelta(days=1)).isoformat(),
        },
    )
    assert response.status_code == 400
    html = text(response)
    assert 'id="return-due_date-error"' in html and "新的整改期限" in html
    assert item(app, site.items["open"])["status"] == "submitted"


# --- deadlines ----------------------------------------------------------------------------------


def test_an_unserved_notice_shows_the_relative_deadline_everywhere_then_the_date(app, site):
    liaison, lead = browser(app, site, "liaison"), browser(app, site, "lead")
    notice_url = f"/inspections/{site.ids['unserved']}/notice"
    item_url = _url(site, "unserved")
    for b, url in ((liaison, notice_url), (liaison, item_url), (lead, notice_url)):
        page = visible_text(text(b.get(url)))
        assert "自送达之日起15日内" in page, url
    report = visible_text(
        text(liaison.get(f"/rectification/notices/{site.ids['unserved']}/report"))
    )
    assert "自送达之日起15日内" in report
    served_on = site.today - timedelta(days=1)
    due = (served_on + timedelta(days=15)).isoformat()
    assert due not in visible_text(text(liaison.get(item_url)))
    response = lead.post(
        f"/inspections/{site.ids['unserved']}/served",
        {
            "served_on": served_on.isoformat(),
            "method": "electronic",
            "place": "单位电子邮箱",
            "server_a": str(site.ids["lead"]),
        },
    )
    assert response.status_code == 302
    due_zh = f"{served_on + timedelta(days=15):%Y}年{(served_on + timedelta(days=15)).month}月"
    assert due_zh in visible_text(text(liaison.get(notice_url)))  # Chinese dates on the notice
    page = visible_text(text(liaison.get(item_url)))
    assert due in page and "还剩14天" in page


def test_an_extension_moves_the_due_date_and_both_dates_show(app, site):
    liaison, office = browser(app, site, "liaison"), browser(app, site, "office")
    first_due = (site.today + timedelta(days=10)).isoformat()
    proposed = (site.today + timedelta(days=40)).isoformat()
    asked = liaison.post(
        _url(site, "open", "/extension"),
        {
            "extension-version": "0",
            "extension-reason": "设备采购周期长",
            "extension-proposed_date": proposed,
            "extension-interim_measures": "临时关闭外网访问",
        },
    )
    assert asked.status_code == 302
    html = text(office.get(_url(site, "open")))
    assert f'name="decide-due_date" type="date" value="{proposed}"' in html
    granted = office.post(
        _url(site, "open", "/extension/decide"),
        {"decide-version": "1", "decide-decision": "grant", "decide-due_date": proposed},
    )
    assert granted.status_code == 302
    page = visible_text(text(liaison.get(_url(site, "open"))))
    assert proposed in page and first_due in page
    assert "同意延期" in page and "临时关闭外网访问" in page
    assert item(app, site.items["open"])["due_date"].isoformat() == proposed


def test_refusing_an_extension_needs_a_reason(app, site):
    browser(app, site, "liaison").post(
        _url(site, "open", "/extension"),
        {
            "extension-version": "0",
            "extension-reason": "人手不足",
            "extension-proposed_date": (site.today + timedelta(days=30)).isoformat(),
            "extension-interim_measures": "加强巡检",
        },
    )
    office = browser(app, site, "office")
    before = item(app, site.items["open"])
    response = office.post(
        _url(site, "open", "/extension/decide"),
        {"decide-version": "1", "decide-decision": "refuse"},
    )
    assert response.status_code == 400 and 'id="decide-reason-error"' in text(response)
    assert item(app, site.items["open"]) == before


def test_a_refusal_is_said_once_and_files_are_mentioned_only_when_chosen(app, site):
    """The refusal showed at the top and again at its field, and "files are not kept" came
    once per file input although no file was chosen."""
    import io

    liaison = browser(app, site, "liaison")
    early = (site.today - timedelta(days=1)).isoformat()
    form = {
        "extension-version": "0",
        "extension-reason": "设备采购周期长",
        "extension-proposed_date": early,
        "extension-interim_measures": "临时关闭外网访问",
    }
    page = visible_text(text(liaison.post(_url(site, "open", "/extension"), form)))
    assert page.count("不能早于") == 1, page
    empty = {**respond_form(0), "respond-completed_on": "", "respond-files": (io.BytesIO(b""), "")}
    page = visible_text(text(liaison.post(_url(site, "open", "/respond"), empty)))
    assert "请重新选择" not in page
