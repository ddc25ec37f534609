"""Two-step login on an iPad: a new coordinator is made to set it up at the first login (QR code
and key on the page, a first code, ten recovery codes), then logs in with password and code."""

from __future__ import annotations

import re

from inspect_app.auth.services import hash_password
from inspect_app.demo.seed import DEMO_PASSWORD
from inspect_app.extensions import db
from inspect_app.models import User

from .conftest import totp_code


def _targets_are_touchable(page) -> None:
    for element in page.locator("main button, main a.button, main input").all():
        if element.is_visible() and element.get_attribute("type") != "hidden":
            assert element.bounding_box()["height"] >= 44, element.evaluate("e => e.outerHTML")


def test_new_coordinator_sets_up_two_step_login_and_logs_in_with_a_code(tablet, live_app):
    with live_app.app_context():
        db.session.add(
            User(
                username="e2e_mfa_coord",
                role="coordinator",
                display_name="新协调员",
                password_hash=hash_password(DEMO_PASSWORD),
            )
        )
        db.session.commit()
        db.session.remove()
    page = tablet
    page.goto("/auth/login")
    page.get_by_label("用户名").fill("e2e_mfa_coord")
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/auth/mfa")
    assert page.get_by_role("heading", name="设置两步登录").is_visible()
    _targets_are_touchable(page)
    page.get_by_role("button", name="设置两步登录").click()
    page.wait_for_selector("#mfa-secret")

    qr = page.get_by_role("img", name="两步登录密钥的二维码")
    assert qr.is_visible()
    assert qr.evaluate("img => img.complete && img.naturalWidth > 100")
    secret = page.locator("#mfa-secret").inner_text().strip()
    assert re.fullmatch(r"[A-Z2-7]{32}", secret)
    _targets_are_touchable(page)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    page.get_by_label("验证码").fill(totp_code("e2e_mfa_coord", secret))
    page.get_by_role("button", name="开启两步登录").click()
    page.wait_for_selector("ol.recovery-codes")
    assert page.locator("ol.recovery-codes li").count() == 10
    page.get_by_role("link", name="我已保存，继续").click()
    page.wait_for_url(re.compile(r"/$"))
    # Logged in as the new coordinator, whose home is the dashboard.
    assert "新协调员" in page.locator(".user-name").text_content()
    assert page.get_by_role("heading", name=re.compile(r"^\d{4}年工作概览$")).is_visible()

    page.get_by_role("button", name="菜单").click()
    page.get_by_role("button", name="退出登录").click()
    page.wait_for_url("**/auth/login")
    page.get_by_label("用户名").fill("e2e_mfa_coord")
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/auth/login/code")
    _targets_are_touchable(page)
    page.get_by_label("验证码").fill(totp_code("e2e_mfa_coord", secret))
    page.get_by_role("button", name="确认并登录").click()
    page.wait_for_url(re.compile(r"/$"))
    # Logged in as the new coordinator, whose home is the dashboard.
    assert "新协调员" in page.locator(".user-name").text_content()
    assert page.get_by_role("heading", name=re.compile(r"^\d{4}年工作概览$")).is_visible()
