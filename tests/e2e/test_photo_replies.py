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


def _submitted(message: str) -> dict:
    """The API's refusal of a photo for an inspection submitted meanwhile (409)."""
    return {"error": {"status": 409, "code": "invalid_transition", "message": message}}


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


def test_a_photo_the_server_refuses_is_kept_on_the_device_to_be_saved_then_discarded(
    tablet, live_app
):
    """Photos taken offline for an inspection submitted meanwhile (409): they used to be deleted
    from the device, the only copy. Both senders keep them: the filling page and the sync from
    any other page (sync.js)."""
    with live_app.app_context():
        inspection = e2e_inspection("photos")
        iid = inspection.id
        items = sorted(inspection.template.items, key=lambda i: i.position)
        fourth, fifth = (i.id for i in items[3:5])
    stored = _photos(live_app, iid)
    page = tablet
    _login(page, "inspector1")
    page.goto(f"/inspections/{iid}")
    evidence = f"**/api/v1/inspections/{iid}/evidence"

    # Taken while the network drops: waits on the tablet.
    page.route(evidence, lambda route: route.abort())
    for item in (fourth, fifth):
        page.locator(f"#i{item} input[type=file]").set_input_files(
            files=[{"name": "d.jpg", "mimeType": "image/jpeg", "buffer": _jpeg()}]
        )
        page.locator(f"#i{item} [data-pending] img").wait_for()
    page.unroute(evidence)

    # The filling page sends them when the network is back: refused, kept, listed.
    page.route(evidence, lambda route: route.fulfill(status=409, json=_submitted("检查已提交。")))
    page.evaluate("() => document.dispatchEvent(new Event('inspect:sync'))")
    box = page.locator("[data-refused-photos]")
    box.wait_for(state="visible", timeout=20000)
    _until(page, "document.querySelectorAll('[data-refused-list] li').length === 2")
    assert "2 张照片被服务器拒收" in box.inner_text()
    assert "检查已提交。" in box.inner_text() and "示例" in box.inner_text()
    assert page.locator(f"#i{fourth} [data-pending]").count() == 0
    assert _photos(live_app, iid) == stored

    # On any other page the list is there too; one is saved as a file, then both discarded.
    page.goto("/inspections/")
    box.wait_for(state="visible")
    assert page.locator("[data-pending-bar]").is_hidden()  # nothing waits to be sent
    with page.expect_download() as download:
        box.get_by_role("link").first.click()
    path = download.value.path()
    assert download.value.suggested_filename.startswith("现场照片-")
    with open(path, "rb") as saved:
        assert saved.read(2) == b"\xff\xd8"  # a JPEG
    page.on("dialog", lambda dialog: dialog.accept())
    for _ in range(2):
        box.get_by_role("button", name="丢弃").first.click()
        page.wait_for_timeout(300)
    box.wait_for(state="hidden")
    assert (
        page.evaluate(
            """async () => {
          const db = await new Promise((ok) => { const r = indexedDB.open("inspect-outbox");
            r.onsuccess = () => ok(r.result); });
          const all = await new Promise((ok) => {
            const r = db.transaction("photos").objectStore("photos").getAll();
            r.onsuccess = () => ok(r.result); });
          return all.length;
        }"""
        )
        == 0
    )


def _refused_by_the_sync(page, live_app, refuse) -> tuple:
    """A photo taken while the upload fails, then sent by sync.js from another page, where the
    evidence route answers with `refuse(route)`. Returns the refused photos' box, the
    inspection's id and the photos stored for it before."""
    with live_app.app_context():
        inspection = e2e_inspection("photos")
        iid = inspection.id
        sixth = sorted(inspection.template.items, key=lambda i: i.position)[5].id
    _login(page, "inspector1")
    page.goto(f"/inspections/{iid}")
    evidence = f"**/api/v1/inspections/{iid}/evidence"
    page.route(evidence, lambda route: route.abort())
    page.locator(f"#i{sixth} input[type=file]").set_input_files(
        files=[{"name": "f.jpg", "mimeType": "image/jpeg", "buffer": _jpeg()}]
    )
    page.locator(f"#i{sixth} [data-pending] img").wait_for()
    page.unroute(evidence)
    page.route(evidence, refuse)
    stored = _photos(live_app, iid)
    page.goto("/inspections/")  # not the filling page: sync.js sends it, at once when online
    box = page.locator("[data-refused-photos]")
    box.wait_for(state="visible", timeout=20000)
    return box, iid, stored


def test_the_sync_from_another_page_keeps_a_refused_photo_too(tablet, live_app):
    page = tablet
    box, iid, stored = _refused_by_the_sync(
        page, live_app, lambda route: route.fulfill(status=409, json=_submitted("已提交。"))
    )
    assert "已提交。" in box.inner_text()
    assert page.locator("[data-pending-bar]").is_hidden()
    page.on("dialog", lambda dialog: dialog.accept())
    box.get_by_role("button", name="丢弃").click()
    box.wait_for(state="hidden")
    assert _photos(live_app, iid) == stored


def test_the_sync_says_a_proxys_413_in_words(tablet, live_app):
    """It said "服务器应答 413": the filling page said the file is too large, the sync did not."""
    box, _iid, _stored = _refused_by_the_sync(
        tablet,
        live_app,
        lambda route: route.fulfill(
            status=413, content_type="text/html", body="<html><h1>413 Request Entity Too Large"
        ),
    )
    assert "文件太大，服务器不接收。" in box.inner_text()
    assert "413" not in box.inner_text()


def test_a_500_is_refused_not_retried_forever_and_a_200_that_is_no_json_is_sent_again(
    tablet, live_app
):
    """A 500 is the app failing on that file: retried forever it held back every later photo
    and a submission made offline. A 200 that is no JSON (a portal's page) may have stored the
    photo: kept to be sent again (the server keeps one copy), never listed as refused."""
    with live_app.app_context():
        inspection = e2e_inspection("photos")
        iid = inspection.id
        items = sorted(inspection.template.items, key=lambda i: i.position)
        seventh, eighth = (i.id for i in items[6:8])
    page = tablet
    _login(page, "inspector1")
    page.goto(f"/inspections/{iid}")
    evidence = f"**/api/v1/inspections/{iid}/evidence"
    page.route(evidence, lambda route: route.fulfill(status=500, body="boom"))
    page.locator(f"#i{seventh} input[type=file]").set_input_files(
        files=[{"name": "g.jpg", "mimeType": "image/jpeg", "buffer": _jpeg()}]
    )
    box = page.locator("[data-refused-photos]")
    box.wait_for(state="visible", timeout=20000)
    assert "500" in box.inner_text()
    page.unroute(evidence)
    page.route(
        evidence,
        lambda route: route.fulfill(status=200, content_type="text/html", body="<html>portal"),
    )
    page.locator(f"#i{eighth} input[type=file]").set_input_files(
        files=[{"name": "h.jpg", "mimeType": "image/jpeg", "buffer": _jpeg()}]
    )
    page.locator(f"#i{eighth} [data-pending] img").wait_for(timeout=20000)
    assert page.locator("[data-refused-list] li").count() == 1
    page.on("dialog", lambda dialog: dialog.accept())
    box.get_by_role("button", name="丢弃").click()
    box.wait_for(state="hidden")


# As a full device fails a write: the request succeeds, then its transaction aborts at commit
# (QuotaExceededError), so only a write that waits for the commit sees it.
FULL_DEVICE = """() => {
  const put = IDBObjectStore.prototype.put;
  IDBObjectStore.prototype.put = function (...args) {
    const request = put.apply(this, args);
    if (window.__full) {
      const tx = this.transaction;
      request.addEventListener("success", () => tx.abort());
    }
    return request;
  };
  window.__full = true;
}"""


def _closing_asks_first(page) -> None:
    """Closing the page shows the browser's "leave this page?" question; staying keeps it."""
    dialogs = []

    def stay(dialog):
        dialogs.append(dialog.type)
        dialog.dismiss()

    page.on("dialog", stay)
    page.close(run_before_unload=True)
    page.wait_for_timeout(500)
    page.remove_listener("dialog", stay)
    assert dialogs == ["beforeunload"] and not page.is_closed()


def test_a_device_that_cannot_keep_a_photo_offers_it_as_a_file_and_says_so(tablet, live_app):
    """IndexedDB full (or private browsing): the photo taken offline was lost with no word, the
    store's error unhandled. It is offered as a file beside its item, and the state says why."""
    with live_app.app_context():
        inspection = e2e_inspection("photos")
        iid = inspection.id
        seventh, eighth = (
            i.id for i in sorted(inspection.template.items, key=lambda i: i.position)[6:8]
        )
    page = tablet
    _login(page, "inspector1")
    page.goto(f"/inspections/{iid}")
    page.evaluate(FULL_DEVICE)
    evidence = f"**/api/v1/inspections/{iid}/evidence"

    # Offline: neither sent nor kept on the device.
    page.route(evidence, lambda route: route.abort())
    page.locator(f"#i{seventh} input[type=file]").set_input_files(
        files=[{"name": "g.jpg", "mimeType": "image/jpeg", "buffer": _jpeg()}]
    )
    link = page.locator(f"#i{seventh} a[data-not-kept]")
    link.wait_for(timeout=20000)
    assert "本设备也无法保留" in page.evaluate(f"{STATE}.textContent")
    assert page.evaluate(f"{STATE}.dataset.kind") == "failed"
    assert "另存为文件" in link.inner_text()
    # The photo exists only in the page: closing it asks first, until the photo is saved.
    _closing_asks_first(page)
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename.startswith("现场照片-")
    with open(download.value.path(), "rb") as saved:
        assert saved.read(2) == b"\xff\xd8"  # the photo itself
    page.unroute(evidence)

    # Refused by the server, and not kept either: offered the same way, with the reason.
    page.route(evidence, lambda route: route.fulfill(status=409, json=_submitted("已提交。")))
    page.locator(f"#i{eighth} input[type=file]").set_input_files(
        files=[{"name": "h.jpg", "mimeType": "image/jpeg", "buffer": _jpeg()}]
    )
    page.locator(f"#i{eighth} a[data-not-kept]").wait_for(timeout=20000)
    assert "照片未保存：已提交。本设备也无法保留" in page.evaluate(f"{STATE}.textContent")
    assert page.locator("[data-refused-photos]").is_hidden()  # nothing was kept to list


def test_answers_the_device_cannot_keep_are_said_so_offline_and_sent_when_back(
    browser, live_server, live_app
):
    from .conftest import IPAD

    with live_app.app_context():
        inspection = e2e_inspection("photos")
        iid = inspection.id
        ninth = sorted(inspection.template.items, key=lambda i: i.position)[8].id
    context = browser.new_context(
        **IPAD, base_url=live_server, locale="zh-CN", service_workers="block"
    )
    page = context.new_page()
    try:
        _login(page, "inspector1")
        page.goto(f"/inspections/{iid}")
        page.evaluate(FULL_DEVICE)
        context.set_offline(True)
        page.evaluate("() => window.dispatchEvent(new Event('offline'))")
        page.locator(f"#i{ninth}").get_by_text("不适用", exact=True).tap()
        _until(page, f"{STATE}.textContent.includes('发送前请勿关闭此页面')")
        assert page.evaluate(f"{STATE}.dataset.kind") == "failed"

        # Closing the page asks first: what waits exists only in it.
        _closing_asks_first(page)

        context.set_offline(False)
        page.evaluate("() => window.dispatchEvent(new Event('online'))")
        _until(page, f"{STATE}.dataset.kind === 'saved'")
    finally:
        context.close()
    with live_app.app_context():
        from inspect_app.models import Answer

        answer = db.session.scalar(
            sa.select(Answer).where(Answer.inspection_id == iid, Answer.item_id == ninth)
        )
        assert answer.result == "not_applicable"
        db.session.remove()


def test_the_same_photo_twice_shows_one_thumbnail_and_a_pdf_is_a_file(tablet, live_app):
    """Two thumbnails for one stored file (deleting one left the other on a deleted file); a
    PDF was announced as "照片已保存"."""
    with live_app.app_context():
        inspection = e2e_inspection("photos")
        iid = inspection.id
        ninth = sorted(inspection.template.items, key=lambda i: i.position)[8].id
    page = tablet
    _login(page, "inspector1")
    page.goto(f"/inspections/{iid}")
    photo = {"name": "p0.jpg", "mimeType": "image/jpeg", "buffer": _jpeg()}
    box = f"document.querySelectorAll('#i{ninth} .ph a"
    for n in (1, 2):
        page.locator(f"#i{ninth} input[type=file]").set_input_files(files=[photo])
        _until(
            page, f"{box}[data-pending]').length === 0 && {STATE}.textContent.includes('已保存')"
        )
        page.wait_for_timeout(300)
        assert page.evaluate(f"{box}[data-att]').length") == 1, n
    scan = io.BytesIO()
    Image.new("RGB", (200, 280), (255, 255, 255)).save(scan, "PDF")
    pdf = {"name": "扫描件.pdf", "mimeType": "application/pdf", "buffer": scan.getvalue()}
    page.locator(f"#i{ninth} input[type=file]").set_input_files(files=[pdf])
    _until(page, f"{STATE}.textContent === '文件已保存'")
