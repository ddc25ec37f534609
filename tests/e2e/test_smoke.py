"""On a tablet: the login page is Chinese, every role's navigation works, targets are touchable."""

import re

from inspect_app.demo.seed import DEMO_PASSWORD

from .conftest import totp_code


def _login(page, username):
    """Log in through the real form; admin and coordinator then type their two-step code."""
    page.goto("/auth/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(r"/(auth/login/code)?$"))
    if page.url.endswith("/auth/login/code"):
        page.get_by_label("验证码").fill(totp_code(username))
        page.get_by_role("button", name="确认并登录").click()
        page.wait_for_url("**/")


def test_coordinator_logs_in_on_a_tablet_in_chinese_and_switches_to_english(tablet):
    tablet.goto("/auth/login")
    assert tablet.locator("html").get_attribute("lang") == "zh-CN"
    assert tablet.get_by_role("heading", name="登录").is_visible()
    _login(tablet, "coordinator")
    tablet.get_by_role("button", name="菜单").click()
    nav = tablet.get_by_role("navigation", name="主导航")
    assert nav.get_by_role("link", name="审计日志").is_visible()
    tablet.goto("/?lang=en")
    # A coordinator's home is the dashboard of the year.
    assert tablet.get_by_role("heading", name=re.compile(r"^Overview of \d{4}$")).is_visible()


def test_touch_targets_are_at_least_44px_and_nothing_overflows_at_768(tablet):
    tablet.set_viewport_size({"width": 768, "height": 1024})
    _login(tablet, "coordinator")
    tablet.get_by_role("button", name="菜单").click()
    for element in tablet.locator("nav a, nav button, main a.tile, .lang-switch a").all():
        if element.is_visible():
            box = element.bounding_box()
            assert box["height"] >= 44, element.inner_text()
    assert tablet.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_unit_user_on_a_phone_sees_only_its_menu(tablet):
    tablet.set_viewport_size({"width": 390, "height": 844})
    _login(tablet, "unit_u006")
    tablet.get_by_role("button", name="菜单").click()
    links = tablet.get_by_role("navigation", name="主导航").get_by_role("link").all_inner_texts()
    assert "审计日志" in links
    assert "用户" not in links and "单位" not in links
    assert tablet.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_logout_returns_to_the_login_page(tablet):
    _login(tablet, "viewer")
    tablet.get_by_role("button", name="菜单").click()
    tablet.get_by_role("button", name="退出登录").click()
    tablet.wait_for_url("**/auth/login")
    assert tablet.get_by_role("heading", name="登录").is_visible()
