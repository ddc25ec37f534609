"""Two inspectors answer the same item on two tablets: the second sees the conflict and keeps
their own answer, which one tap re-applies."""

import re

from inspect_app.extensions import db
from inspect_app.models import Answer

from .conftest import IPAD, e2e_inspection
from .test_smoke import _login


def _open(page, unit):
    page.goto("/inspections/")
    page.get_by_role("link", name=re.compile(unit)).first.click()
    page.wait_for_selector("#fill-form")


def test_a_conflict_shows_the_other_answer_and_offers_mine(browser, live_server, live_app):
    contexts = [
        browser.new_context(**IPAD, base_url=live_server, locale="zh-CN", service_workers="block")
        for _ in range(2)
    ]
    first, second = (c.new_page() for c in contexts)
    try:
        _login(first, "inspector1")
        _login(second, "inspector2")
        _open(first, "示例物流信息服务有限公司")
        _open(second, "示例物流信息服务有限公司")
        item = "fieldset.q:not([hidden]) >> nth=5"
        first.locator(item).get_by_text("不适用", exact=True).tap()
        first.wait_for_function(
            "() => document.querySelector('[data-save-state]').dataset.kind === 'saved'"
        )
        second.locator(item).get_by_text("符合", exact=True).tap()
        second.wait_for_selector(f"{item} >> .mine")
        assert second.locator(item).locator("input[value=x]").is_checked()  # the other answer
        second.locator(item).get_by_role("button", name="采用我的答案").click()
        second.wait_for_function(
            "() => document.querySelector('[data-save-state]').dataset.kind === 'saved'"
        )
        assert second.locator(item).locator("input[value=c]").is_checked()
    finally:
        for c in contexts:
            c.close()
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
    contexts = [
        browser.new_context(**IPAD, base_url=live_server, locale="zh-CN", service_workers="block")
        for _ in range(2)
    ]
    first, second = (c.new_page() for c in contexts)
    item = "fieldset.q:not([hidden]) >> nth=7"
    saved = "() => document.querySelector('[data-save-state]').dataset.kind === 'saved'"
    try:
        _login(first, "inspector1")
        _login(second, "inspector2")
        _open(first, "示例物流信息服务有限公司")
        first.locator(item).get_by_text("不符合", exact=True).tap()
        first.wait_for_function(saved)
        _open(second, "示例物流信息服务有限公司")  # opened now: it sees the finding
        first.locator(item).locator("select[name^='fs']").select_option("low")
        first.wait_for_function(saved)
        first.locator(item).locator("input[name^='fdd']").fill("90")
        first.wait_for_function(saved)
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
    finally:
        for c in contexts:
            c.close()
    answer = _noted(live_app)
    assert (answer.finding_severity, answer.finding_deadline_days) == ("low", 90)


def _noted(live_app):
    """The answer with the note of the test above, once stored."""
    with live_app.app_context():
        inspection = e2e_inspection("conflict")
        answers = db.session.query(Answer).filter_by(inspection_id=inspection.id).all()
        db.session.remove()
    return next((a for a in answers if a.note == "补充备注"), None)
