"""On a phone: a unit liaison answers an item with a photo, a coordinator returns it, the unit
answers again, the coordinator verifies it; the history shows the four steps."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from PIL import Image

from inspect_app import audit
from inspect_app.clock import local_today
from inspect_app.extensions import db
from inspect_app.models import RectificationItem, Unit, User

from ..factories import Factory
from .test_smoke import _login

PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
}
CODE = "E2E-PHONE-01"


@pytest.fixture
def open_item(live_app):
    """An open item of U014 made for this test (the demo's own items may be in any state)."""
    with live_app.app_context():
        make = Factory()
        unit = db.session.scalar(db.select(Unit).where(Unit.code == "U014"))
        team = [
            db.session.scalar(db.select(User).where(User.username == name))
            for name in ("inspector1", "inspector2")
        ]
        inspection = make.inspection(
            unit=unit,
            members=team,
            status="submitted",
            notice_number="E2E整改〔2026〕第901号",
            notice_issued_on=local_today() - timedelta(days=3),
            notice_served_on=local_today() - timedelta(days=2),
        )
        finding = make.finding(
            inspection,
            code=CODE,
            description="手机端测试：未落实网络安全责任人",
            due_date=local_today() + timedelta(days=12),
        )
        item_id = finding.rectification.id
        db.session.remove()
    return item_id


def _photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (1200, 900), (40, 120, 60)).save(out, "JPEG")
    return out.getvalue()


def _no_sideways_scroll(page):
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), page.url


def _answer(page, measures: str):
    form = page.locator("form[action$='/respond']")
    form.locator("#respond-cause").fill("责任人调离后未及时补任")
    form.locator("#respond-measures").fill(measures)
    form.locator("#respond-completed_on").fill(local_today().isoformat())
    form.locator("#respond-responsible_person").fill("李四")
    form.locator("#respond-responsible_phone").fill("0997-1234567")
    form.locator("#respond-files-pick").set_input_files(
        {"name": "整改后.jpg", "mimeType": "image/jpeg", "buffer": _photo()}
    )
    form.get_by_role("button", name="提交整改报告").click()
    page.wait_for_url("**#history")


def test_unit_and_coordinator_close_an_item_on_phones(browser, live_server, live_app, open_item):
    contexts = [
        browser.new_context(**PHONE, base_url=live_server, locale="zh-CN", service_workers="block")
        for _ in range(2)
    ]
    unit, office = (c.new_page() for c in contexts)
    item_url = f"/rectification/items/{open_item}"
    try:
        _login(unit, "unit_u014")
        unit.goto("/")
        card = unit.locator(".rect-card", has_text=CODE)
        assert card.get_by_text("还剩12天").is_visible()
        _no_sideways_scroll(unit)
        card.get_by_role("link").click()
        unit.wait_for_url(f"**{item_url}")
        _no_sideways_scroll(unit)
        for target in unit.locator("main button, main summary, main input[type=date]").all():
            if target.is_visible():
                assert target.bounding_box()["height"] >= 44, target.inner_text()
        _answer(unit, "已任命新的网络安全责任人")
        assert unit.locator(".history > li").count() == 1

        _login(office, "coordinator")
        office.goto("/rectification/queue")
        office.get_by_role("link", name=CODE).click()
        office.get_by_text("退回单位重新整改").click()
        returned = office.locator("form[action$='/return']")
        returned.locator("#return-reason").fill("未附任命文件")
        returned.locator("#return-due_date").fill((local_today() + timedelta(days=7)).isoformat())
        returned.get_by_role("button", name="退回").click()
        office.wait_for_url("**#history")
        _no_sideways_scroll(office)

        unit.goto(item_url)
        assert unit.get_by_text("未附任命文件").is_visible()
        _answer(unit, "已补充任命文件扫描件")

        office.goto(item_url)
        verified = office.locator("form[action$='/verify']")
        verified.locator("#verify-note").fill("材料齐全，同意销号")
        verified.get_by_role("button", name="验收通过并销号").click()
        office.wait_for_url("**#history")
        steps = office.locator(".history > li h3").all_inner_texts()
        assert steps == ["整改报告", "已退回", "整改报告", "验收通过并销号"]
        assert office.locator(".history img").count() == 2  # the unit's two photos
        _no_sideways_scroll(office)
    finally:
        for context in contexts:
            context.close()
    with live_app.app_context():
        item = db.session.get(RectificationItem, open_item)
        assert item.status == "closed" and item.version == 4
        _count, problem = audit.verify_chain()  # what `flask audit verify` checks first
        assert problem is None
        db.session.remove()
