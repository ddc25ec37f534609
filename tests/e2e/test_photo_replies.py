"""A photo the server cannot take now is kept on the tablet and sent again; what the server
refuses, or a file the tablet cannot read, is said in the user's language (fill-media.js)."""

import io
import time

import sqlalchemy as sa
from PIL import Image

from inspect_app.extensions import db
from inspect_app.models import Attachment

from .conftest import e2e_inspection
from .test_smoke import _login

STATE = "document.querySelector('[data-save-state]')"


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (150, 90, 60)).save(out, "JPEG", quality=80)
    return out.getvalue()


def _until(page, expression: str, timeout: float = 20.0) -> None:
    """Poll from Python (the page's CSP forbids wait_for_function's eval)."""
    end = time.monotonic() + timeout
    while not page.evaluate(expression):
        assert time.monotonic() < end, (expression, page.evaluate(f"{STATE}.textContent"))
        page.wait_for_timeout(100)


def _photos(live_app, iid) -> list[str]:
    with live_app.app_context():
        names = db.session.scalars(
            sa.select(Attachment.original_name).where(
                Attachment.inspection_id == iid, Attachment.kind == "photo"
            )
        ).all()
        db.session.remove()
        return names


def test_a_photo_the_server_cannot_take_now_is_kept_and_sent_again(tablet, live_app):
    with live_app.app_context():
        inspection = e2e_inspection("photos")
        iid = inspection.id
        items = sorted(inspection.template.items, key=lambda i: i.position)
        first, second, third = (i.id for i in items[:3])
    page = tablet
    _login(page, "inspector1")
    page.goto(f"/inspections/{iid}")
    evidence = f"**/api/v1/inspections/{iid}/evidence"

    # A proxy's own page instead of JSON: a 413 in words, and nothing kept to send again.
    page.route(
        evidence,
        lambda route: route.fulfill(
            status=413, content_type="text/html", body="<html><h1>413 Request Entity Too Large"
        ),
    )
    page.locator(f"#i{first} input[type=file]").set_input_files(
        files=[{"name": "a.jpg", "mimeType": "image/jpeg", "buffer": _jpeg()}]
    )
    _until(page, f"{STATE}.textContent.includes('文件太大')")
    assert page.locator(f"#i{first} .ph a").count() == 0
    page.unroute(evidence)

    # A file that is no image: said so, in Chinese.
    page.locator(f"#i{second} input[type=file]").set_input_files(
        files=[{"name": "b.jpg", "mimeType": "image/jpeg", "buffer": b"not a picture at all"}]
    )
    _until(page, f"{STATE}.textContent.includes('无法读取这张照片')")

    # The server busy (503 while the database restarts): the photo stays on the tablet, shown
    # as waiting, and goes once the server answers again (here: after the next answer saved).
    page.route(
        evidence,
        lambda route: route.fulfill(
            status=503,
            content_type="application/json",
            body='{"error": {"status": 503, "code": "database_unavailable", "message": "x"}}',
        ),
    )
    page.locator(f"#i{third} input[type=file]").set_input_files(
        files=[{"name": "c.jpg", "mimeType": "image/jpeg", "buffer": _jpeg()}]
    )
    _until(page, f"{STATE}.textContent.includes('稍后自动重新上传')")
    assert page.locator(f"#i{third} [data-pending] img").count() == 1
    assert page.locator(f"#i{third} [data-pending] img").get_attribute("alt") == "取证照片"
    assert _photos(live_app, iid) == []
    page.unroute(evidence)
    page.locator(f"#i{first}").get_by_text("不适用", exact=True).tap()
    page.locator(f"#i{third} [data-att] img").wait_for(timeout=20000)
    (name,) = _photos(live_app, iid)
    assert name.startswith("现场照片-") and name.endswith(".jpg")
