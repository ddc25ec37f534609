"""The bell on a phone: the unit liaison sees its count, opens the list and one notification."""

import re

from .test_smoke import _login


def test_unit_liaison_on_a_phone_opens_the_bell_and_one_notification(tablet):
    tablet.set_viewport_size({"width": 390, "height": 844})
    _login(tablet, "unit_u014")
    bell = tablet.get_by_role("link", name=re.compile(r"^通知（\d+条未读）$"))
    assert bell.is_visible()
    unread = int(re.search(r"\d+", bell.get_attribute("aria-label")).group())
    assert unread > 0  # the demo's steps told the bank about its items
    box = bell.bounding_box()
    assert box["height"] >= 44 and box["width"] >= 44
    assert tablet.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    bell.click()
    tablet.wait_for_url("**/notifications/")
    assert tablet.get_by_role("heading", name="通知").is_visible()
    entry = tablet.locator(".notice-entry.unread button.notice-open").first
    assert entry.bounding_box()["height"] >= 44
    entry.click()
    tablet.wait_for_load_state()
    tablet.goto("/notifications/")
    label = f"通知（{unread - 1}条未读）"
    assert tablet.get_by_role("link", name=label).is_visible()
    assert tablet.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
