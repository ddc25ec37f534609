"""The office's ledger (filters, overdue first, pages), the verification queue and bulk steps
(all or nothing, every refusal shown), the home counts, and the unit page's history."""

from __future__ import annotations

from datetime import timedelta

import pytest

from inspect_app.extensions import db
from inspect_app.models import Finding

from ..conftest import Browser
from .pages import browser, build, item, respond_form, text, visible_text


@pytest.fixture
def site(app, make):
    with app.app_context():
        return build(make)


def _url(site, name, suffix=""):
    return f"/rectification/items/{site.items[name]}{suffix}"


def _answer(app, site, *names):
    liaison = browser(app, site, "liaison")
    for name in names:
        assert liaison.post(_url(site, name, "/respond"), respond_form(0)).status_code == 302


def test_the_ledger_lists_the_overdue_first_and_links_every_row(app, site):
    html = text(browser(app, site, "office").get("/rectification/"))
    codes = [site.codes[n] for n in ("overdue", "soon", "open", "other", "unserved")]
    positions = [html.index(code) for code in codes]
    assert positions == sorted(positions)
    for name in site.items:
        assert _url(site, name) in html


@pytest.mark.parametrize(
    ("query", "shown", "hidden"),
    [
        ("status=overdue", ["overdue"], ["open", "soon", "unserved"]),
        ("status=due_soon", ["soon"], ["open", "overdue"]),
        ("status=open", ["open", "overdue", "soon", "unserved"], []),
        ("q=PG-SOON", ["soon"], ["open"]),
        ("q=检查发现unserved", ["unserved"], ["open"]),
        ("severity=high", [], ["open", "overdue"]),
        ("repeat=1", [], ["open", "overdue"]),
    ],
)
def test_the_ledger_filters(app, site, query, shown, hidden):
    html = text(browser(app, site, "office").get(f"/rectification/?{query}"))
    for name in shown:
        assert site.codes[name] in html, name
    for name in hidden:
        assert site.codes[name] not in html, name


def test_the_ledger_filters_by_unit_and_round(app, site):
    office = browser(app, site, "office")
    html = text(office.get(f"/rectification/?unit={site.ids['other_unit']}"))
    assert site.codes["other"] in html and site.codes["open"] not in html
    assert f'<option value="{site.ids["other_unit"]}" selected>' in html


def test_repeat_findings_are_badged_and_filtered(app, site):
    with app.app_context():
        finding = db.session.scalar(db.select(Finding).where(Finding.code == site.codes["soon"]))
        finding.repeat_of_id = db.session.scalar(
            db.select(Finding.id).where(Finding.code == site.codes["open"])
        )
        finding.repeat_count, finding.raised_from, finding.severity = 2, "medium", "high"
        db.session.commit()
    office = browser(app, site, "office")
    html = text(office.get("/rectification/?repeat=1"))
    assert site.codes["soon"] in html and site.codes["open"] not in html
    assert "重复问题" in html and "×3" in html
    page = visible_text(text(office.get(_url(site, "soon"))))
    assert "此前已发现2次" in page and "由中上调" in page
    liaison_home = visible_text(text(browser(app, site, "liaison").get("/")))
    assert "重复问题" in liaison_home


@pytest.mark.parametrize(
    "query",
    ["status=nonsense", "severity=extreme", "unit=abc", "year=1800", "page=0", "q=" + "x" * 101],
)
def test_bad_filters_are_a_400_with_a_message(app, site, query):
    response = browser(app, site, "office").get(f"/rectification/?{query}")
    assert response.status_code == 400


def test_the_ledger_is_paged(app, site):
    app.config["PAGE_SIZE"] = 2
    try:
        office = browser(app, site, "office")
        first = text(office.get("/rectification/"))
        second = text(office.get("/rectification/?page=2"))
    finally:
        app.config["PAGE_SIZE"] = 25
    assert site.codes["overdue"] in first and site.codes["overdue"] not in second
    assert 'href="/rectification/?page=2"' in first


def test_the_queue_lists_only_submitted_items(app, site):
    _answer(app, site, "open")
    html = text(browser(app, site, "office").get("/rectification/queue"))
    assert site.codes["open"] in html and site.codes["overdue"] not in html
    assert 'value="verify"' in html and 'value="return"' in html and 'value="extend"' not in html
    assert browser(app, site, "liaison").get("/rectification/queue").status_code == 403


def _bulk(b, selection, action, **fields):
    return b.post(
        "/rectification/bulk",
        {"item": selection, "action": action, "origin": "queue", **fields},
    )


def test_bulk_verify_is_all_or_nothing_and_shows_every_refusal(app, site):
    _answer(app, site, "open", "soon")
    office = browser(app, site, "office")
    before = {n: item(app, site.items[n]) for n in ("open", "soon", "overdue")}
    selection = [
        f"{site.items['open']}:1",
        f"{site.items['soon']}:1",
        f"{site.items['overdue']}:0",
    ]
    response = _bulk(office, selection, "verify")
    assert response.status_code == 400
    html = text(response)
    assert "未作任何修改" in html
    assert html.count('class="error"') >= 2  # the summary and the overdue item's reason
    assert f'value="{site.items["open"]}:1" checked' in html
    assert f'value="{site.items["overdue"]}:0" checked' not in html
    assert {n: item(app, site.items[n]) for n in before} == before
    response = _bulk(office, selection[:2], "verify")
    assert response.status_code == 302 and response.headers["Location"].endswith("/queue")
    assert item(app, site.items["open"])["status"] == "closed"
    assert item(app, site.items["soon"])["status"] == "closed"


def test_bulk_return_needs_a_reason_and_a_date(app, site):
    _answer(app, site, "open")
    office = browser(app, site, "office")
    before = item(app, site.items["open"])
    response = _bulk(office, [f"{site.items['open']}:1"], "return")
    assert response.status_code == 400 and item(app, site.items["open"]) == before
    due = (site.today + timedelta(days=14)).isoformat()
    response = _bulk(office, [f"{site.items['open']}:1"], "return", note="证据不足", due_date=due)
    assert response.status_code == 302
    assert item(app, site.items["open"])["status"] == "returned"


def test_bulk_extend_from_the_ledger(app, site):
    office = browser(app, site, "office")
    due = (site.today + timedelta(days=60)).isoformat()
    response = office.post(
        "/rectification/bulk",
        {
            "item": [f"{site.items['overdue']}:0", f"{site.items['soon']}:0"],
            "action": "extend",
            "due_date": due,
            "note": "统一延期",
            "origin": "ledger",
        },
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("/rectification/")
    assert item(app, site.items["overdue"])["due_date"].isoformat() == due


def test_bulk_refuses_a_garbled_selection_and_other_units_items(app, site):
    office, lead = browser(app, site, "office"), browser(app, site, "lead")
    assert _bulk(office, ["x:1"], "verify").status_code == 400
    _answer(app, site, "open")
    office_b = browser(app, site, "office")
    office_b.post(_url(site, "other", "/respond"), respond_form(0, **{"respond-source": "纸质"}))
    before = item(app, site.items["other"])
    response = _bulk(lead, [f"{site.items['open']}:1", f"{site.items['other']}:1"], "verify")
    assert response.status_code == 400
    html = text(response)
    assert site.codes["other"] not in html  # not the lead's team: refused, never shown
    assert item(app, site.items["other"]) == before
    assert item(app, site.items["open"])["status"] == "submitted"
    assert browser(app, site, "viewer").post("/rectification/bulk", {}).status_code == 403
    assert browser(app, site, "liaison").post("/rectification/bulk", {}).status_code == 403


def test_the_home_page_counts_overdue_due_soon_and_waiting(app, site, make):
    """Admins and inspectors land on tiles with these counts (coordinators on the dashboard)."""
    _answer(app, site, "open")
    with app.app_context():
        admin = make.user(role="admin").username
    b = Browser(app.test_client())
    b.login(admin)
    page = visible_text(text(b.get("/")))
    assert "逾期整改事项 1" in page and "即将到期 1" in page and "待验收 1" in page


def test_the_unit_page_shows_its_findings_across_rounds(app, site):
    office = browser(app, site, "office")
    html = text(office.get(f"/directory/units/{site.ids['unit']}"))
    assert site.codes["open"] in html and site.codes["other"] not in html
    assert f"/rectification/?unit={site.ids['unit']}" in html
    mine = text(browser(app, site, "liaison").get("/directory/my-unit"))
    assert site.codes["open"] in mine and site.codes["other"] not in mine


def test_a_waiting_extension_request_is_counted_and_listed_until_decided(app, site):
    """Only the bell led to a request: the ledger showed the item as 待整改 with no marker."""
    liaison, office = browser(app, site, "liaison"), browser(app, site, "office")
    asked = liaison.post(
        f"/rectification/items/{site.items['open']}/extension",
        {
            "extension-version": "0",
            "extension-reason": "设备采购周期长",
            "extension-proposed_date": (site.today + timedelta(days=40)).isoformat(),
            "extension-interim_measures": "临时关闭外网访问",
        },
    )
    assert asked.status_code == 302
    ledger = text(office.get("/rectification/"))
    assert "status=extension" in ledger and "延期待审批 <b>1</b>" in ledger
    waiting = text(office.get("/rectification/?status=extension"))
    assert site.codes["open"] in waiting and waiting.count("延期待审批") == 3  # link, option, row
    assert site.codes["overdue"] not in waiting and site.codes["soon"] not in waiting
    refused = office.post(
        f"/rectification/items/{site.items['open']}/extension/decide",
        {"decide-version": "1", "decide-decision": "refuse", "decide-reason": "理由不充分"},
    )
    assert refused.status_code == 302
    assert site.codes["open"] not in text(office.get("/rectification/?status=extension"))
