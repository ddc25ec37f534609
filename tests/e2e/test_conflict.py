"""Two inspectors answer the same item on two tablets: the second sees the conflict and keeps
their own answer, which one tap re-applies."""

import re
from contextlib import contextmanager

from inspect_app.extensions import db
from inspect_app.models import Answer

from .conftest import IPAD, e2e_inspection
from .test_smoke import _login

_SAVED = "() => document.querySelector('[data-save-state]').dataset.kind === 'saved'"


@contextmanager
def _tablets(browser, live_server, users=("inspector1", "inspector2")):
    """A tablet (an iPad's browser) logged in for each user; closed after."""
    contexts = [
        browser.new_context(**IPAD, base_url=live_server, locale="zh-CN", service_workers="block")
        for _ in users
    ]
    try:
        pages = [c.new_page() for c in contexts]
        for page, user in zip(pages, users, strict=True):
            _login(page, user)
        yield pages
    finally:
        for c in contexts:
            c.close()


def _open(page, unit):
    page.goto("/inspections/")
    page.get_by_role("link", name=re.compile(unit)).first.click()
    page.wait_for_selector("#fill-form")


def test_a_conflict_shows_the_other_answer_and_offers_mine(browser, live_server, live_app):
    with _tablets(browser, live_server) as (first, second):
        _open(first, "示例物流信息服务有限公司")
        _open(second, "示例物流信息服务有限公司")
        item = "fieldset.q:not([hidden]) >> nth=5"
        first.locator(item).get_by_text("不适用", exact=True).tap()
        first.wait_for_function(_SAVED)
        second.locator(item).get_by_text("符合", exact=True).tap()
        second.wait_for_selector(f"{item} >> .mine")
        assert second.locator(item).locator("input[value=x]").is_checked()  # the other answer
        second.locator(item).get_by_role("button", name="采用我的答案").click()
        second.wait_for_function(_SAVED)
        assert second.locator(item).locator("input[value=c]").is_checked()
    with live_app.app_context():
        inspection = e2e_inspection("conflict")
        results = [
            a.result
            for a in db.session.query(Answer).filter_by(inspection_id=inspection.id)
            if a.version == 2
        ]
        assert results == ["compliant"]
        db.session.remove()


def test_after_a_conflict_the_risk_level_and_deadline_are_the_servers_too(
    browser, live_server, live_app
):
    """The stale tablet showed the other inspector's description but its own old risk level and
    deadline, and its next change (a note) wrote them back over the other's."""
    item = "fieldset.q:not([hidden]) >> nth=7"
    with _tablets(browser, live_server) as (first, second):
        _open(first, "示例物流信息服务有限公司")
        first.locator(item).get_by_text("不符合", exact=True).tap()
        first.wait_for_function(_SAVED)
        _open(second, "示例物流信息服务有限公司")  # opened now: it sees the finding
        first.locator(item).locator("select[name^='fs']").select_option("low")
        first.wait_for_function(_SAVED)
        first.locator(item).locator("input[name^='fdd']").fill("90")
        first.wait_for_function(_SAVED)
        second.locator(item).locator("textarea[name^='fd']").fill("经查，另有说明")
        second.wait_for_selector(f"{item} >> .mine")
        assert second.locator(item).locator("select[name^='fs']").input_value() == "low"
        assert second.locator(item).locator("input[name^='fdd']").input_value() == "90"
        second.locator(item).locator("textarea[name^='n']").fill("补充备注")
        for _ in range(100):  # sent, while the conflict still waits for a choice beside the item
            if _noted(live_app):
                break
            second.wait_for_timeout(200)
        assert second.locator("[data-save-state]").get_attribute("data-kind") == "failed"
    answer = _noted(live_app)
    assert (answer.finding_severity, answer.finding_deadline_days) == ("low", 90)


def _noted(live_app):
    """The answer with the note of the test above, once stored."""
    with live_app.app_context():
        inspection = e2e_inspection("conflict")
        answers = db.session.query(Answer).filter_by(inspection_id=inspection.id).all()
        db.session.remove()
    return next((a for a in answers if a.note == "补充备注"), None)


def test_an_offer_of_only_a_risk_level_names_it(browser, live_server):
    """The offer described only a result, value, note and description: a conflict on the risk
    level alone read "…someone else changed this item first: ."."""
    item = "fieldset.q:not([hidden]) >> nth=9"
    with _tablets(browser, live_server) as (first, second):
        _open(first, "示例物流信息服务有限公司")
        first.locator(item).get_by_text("不符合", exact=True).tap()
        first.wait_for_function(_SAVED)
        _open(second, "示例物流信息服务有限公司")  # opened now: it sees the finding
        first.locator(item).locator("textarea[name^='fd']").fill("经查，另有说明")
        first.wait_for_function(_SAVED)
        second.locator(item).locator("select[name^='fs']").select_option("low")
        offer = second.locator(item).locator(".mine")
        offer.wait_for()
        assert "风险等级: 低" in offer.inner_text()
        assert ": ." not in offer.inner_text()


def test_after_a_conflict_with_no_finding_on_the_server_a_new_finding_starts_afresh(
    browser, live_server, live_app
):
    """The risk level chosen for a finding that lost its conflict stayed in the hidden finding
    and went with the item's next change: the item's own risk level and deadline are shown."""
    item = "fieldset.q:not([hidden]) >> nth=11"
    with _tablets(browser, live_server) as (first, second):
        _open(first, "示例物流信息服务有限公司")
        _open(second, "示例物流信息服务有限公司")
        own = second.locator(item).get_attribute("data-d")  # the item's level and deadline
        other = "low" if own[0] != "l" else "high"
        first.locator(item).get_by_text("符合", exact=True).tap()
        first.wait_for_function(_SAVED)
        second.context.set_offline(True)
        second.locator(item).get_by_text("不符合", exact=True).tap()
        second.locator(item).locator("select[name^='fs']").select_option(other)
        second.locator(item).locator("input[name^='fdd']").fill("200")
        second.context.set_offline(False)
        second.locator(item).locator(".mine").wait_for()
        second.locator(item).get_by_role("button", name="保留现有答案").click()
        second.wait_for_function(_SAVED)
        second.locator(item).get_by_text("不符合", exact=True).tap()
        second.wait_for_function(_SAVED)
    with live_app.app_context():
        inspection = e2e_inspection("conflict")
        answers = db.session.query(Answer).filter_by(inspection_id=inspection.id).all()
        [answer] = [
            a
            for a in answers
            if a.result == "noncompliant"
            and a.updated_by.username == "inspector2"
            and a.version == 2
        ]
        db.session.remove()
    levels = {"h": "high", "m": "medium", "l": "low"}
    assert (answer.finding_severity, answer.finding_deadline_days) == (levels[own[0]], int(own[1:]))


def test_a_second_conflict_on_an_item_joins_the_first_and_both_are_applied_at_once(
    browser, live_server, live_app
):
    """b7b869f: a second conflict on an item left the first in the outbox, holding back a
    submission while the page said saved. The two join one offer, and using it applies both."""
    item = "fieldset.q:not([hidden]) >> nth=13"
    with _tablets(browser, live_server) as (first, second):
        _open(first, "示例物流信息服务有限公司")
        _open(second, "示例物流信息服务有限公司")
        second.context.set_offline(True)
        second.locator(item).locator("textarea[name^='n']").fill("第一处备注")
        first.locator(item).get_by_text("不适用", exact=True).tap()
        first.wait_for_function(_SAVED)
        second.context.set_offline(False)
        second.locator(item).locator(".mine").wait_for()
        second.context.set_offline(True)
        second.locator(item).get_by_text("符合", exact=True).tap()
        first.locator(item).locator("textarea[name^='n']").fill("他人备注")
        first.wait_for_function(_SAVED)
        second.context.set_offline(False)
        offer = second.locator(item).locator(".mine")
        offer.filter(has_text="符合").wait_for()
        assert offer.count() == 1 and "第一处备注" in offer.inner_text()
        offer.get_by_role("button", name="采用我的答案").click()
        second.wait_for_function(_SAVED)
        pending = second.evaluate(
            """() => new Promise((done) => {
                const open = indexedDB.open("inspect-outbox");
                open.onsuccess = () => {
                  const db = open.result;
                  if (!db.objectStoreNames.contains("changes")) return done(0);
                  const all = db.transaction("changes").objectStore("changes").getAll();
                  all.onsuccess = () => done(all.result.length);
                };
                open.onerror = () => done(-1);
            })"""
        )
        assert pending == 0
    with live_app.app_context():
        inspection = e2e_inspection("conflict")
        answers = db.session.query(Answer).filter_by(inspection_id=inspection.id).all()
        noted = [(a.result, a.updated_by.username) for a in answers if a.note == "第一处备注"]
        db.session.remove()
    assert noted == [("compliant", "inspector2")]


def test_changes_kept_for_an_inspection_submitted_meanwhile_are_shown_until_discarded(
    browser, live_server, live_app
):
    """They stayed in the device's outbox, counted as waiting on every page, and nothing showed
    them: the read-only page now lists each by its item until the inspector discards them."""
    from inspect_app.models import Inspection

    item = "fieldset.q:not([hidden]) >> nth=15"
    with live_app.app_context():
        inspection_id = e2e_inspection("conflict").id
    try:
        with _tablets(browser, live_server, ("inspector2",)) as (page,):
            _open(page, "示例物流信息服务有限公司")
            code = page.locator(item).locator("legend b").inner_text()
            page.context.set_offline(True)
            page.locator(item).locator("textarea[name^='n']").fill("来不及保存的备注")
            page.wait_for_timeout(800)  # kept in the outbox (typing waits 600 ms)
            with live_app.app_context():
                db.session.get(Inspection, inspection_id).status = "submitted"
                db.session.commit()
            page.context.set_offline(False)
            page.reload()
            notice = page.locator("[data-unsent]")
            notice.wait_for()
            assert code in notice.inner_text() and "来不及保存的备注" in notice.inner_text()
            page.once("dialog", lambda dialog: dialog.accept())
            notice.get_by_role("button", name="丢弃这些修改").click()
            notice.wait_for(state="detached")
            page.reload()
            page.wait_for_selector("#fill-form")
            page.wait_for_timeout(500)
            assert page.locator("[data-unsent]").count() == 0
    finally:
        with live_app.app_context():
            db.session.get(Inspection, inspection_id).status = "in_progress"
            db.session.commit()
            db.session.remove()
