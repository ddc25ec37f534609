"""A login that ends while an inspector fills (idle timeout after hours in a machine room): the
page asks to log in again, keeps the answer and the photo on the tablet, and sends both once
the inspector has logged in again in another tab."""

from __future__ import annotations

import io
from datetime import timedelta

import sqlalchemy as sa
from PIL import Image

from inspect_app.extensions import db
from inspect_app.models import Answer, Attachment, LoginSession, User, utcnow

from .conftest import IPAD, e2e_inspection
from .test_smoke import _login

STATE = "document.querySelector('[data-save-state]').dataset.kind"


def _photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (800, 600), (90, 60, 120)).save(out, "JPEG")
    return out.getvalue()


def _outbox_size(page) -> int:
    return page.evaluate(
        """() => new Promise((resolve) => {
            const open = indexedDB.open("inspect-outbox");
            open.onsuccess = () => {
                const req = open.result.transaction("changes").objectStore("changes").count();
                req.onsuccess = () => resolve(req.result);
            };
        })"""
    )


def test_answers_and_photos_wait_through_a_session_timeout_and_go_after_login(
    browser, live_server, live_app
):
    with live_app.app_context():
        inspection_id = e2e_inspection("relogin").id
        db.session.remove()
    context = browser.new_context(
        **IPAD, base_url=live_server, locale="zh-CN", service_workers="block"
    )
    page = context.new_page()
    try:
        _login(page, "inspector1")
        page.goto(f"/inspections/{inspection_id}")
        page.wait_for_selector("#fill-form")

        with live_app.app_context():  # two hours without a request: the idle timeout passes
            user_id = db.session.scalar(sa.select(User.id).where(User.username == "inspector1"))
            db.session.execute(
                sa.update(LoginSession)
                .where(LoginSession.user_id == user_id, LoginSession.ended_at.is_(None))
                .values(last_seen_at=utcnow() - timedelta(hours=2))
            )
            db.session.commit()
            db.session.remove()

        items = page.locator("fieldset.q:not([hidden])")
        items.nth(2).get_by_text("不适用", exact=True).tap()
        page.wait_for_function(f"() => {STATE} === 'failed'")
        assert "重新登录" in page.locator("[data-save-state]").inner_text()
        assert _outbox_size(page) == 1
        items.nth(4).locator("input[type=file]").set_input_files(
            files=[{"name": "photo.jpg", "mimeType": "image/jpeg", "buffer": _photo()}]
        )
        page.wait_for_selector("fieldset.q:not([hidden]) >> nth=4 >> [data-pending] img")

        other = context.new_page()  # log in again in another tab, as the message says
        _login(other, "inspector1")
        other.close()

        page.evaluate("() => document.dispatchEvent(new Event('visibilitychange'))")
        page.wait_for_selector("fieldset.q:not([hidden]) >> nth=4 >> [data-att] img", timeout=20000)
        # The photo's "saved" may come before the answer's: wait for the outbox to empty.
        for _ in range(100):
            if not _outbox_size(page):
                break
            page.wait_for_timeout(200)
        assert _outbox_size(page) == 0
        page.wait_for_function(f"() => {STATE} === 'saved'", timeout=20000)
    finally:
        context.close()
    with live_app.app_context():
        answers = db.session.query(Answer).filter_by(inspection_id=inspection_id).all()
        assert [a.result for a in answers if a.result] == ["not_applicable"]
        photos = db.session.query(Attachment).filter_by(inspection_id=inspection_id).all()
        assert len(photos) == 1
        db.session.remove()
