"""The UX review's papercuts, measured in the browser: jumps land below the sticky bars, the next
unanswered item, deleting a photo, and pages that fit a 390 px phone (audit event, notice, record)
while the documents still print on A4."""

import io
import re

import pytest
import sqlalchemy as sa
from PIL import Image

from inspect_app.extensions import db
from inspect_app.models import Attachment, AuditEvent, Inspection, Visit

from .conftest import e2e_inspection
from .test_smoke import _login

PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
}

# True when the point a little inside the item's legend (its code and question) belongs to the
# item itself, i.e. no sticky bar or section heading covers it.
UNCOVERED = """(id) => {
  const el = document.getElementById(id);
  const r = el.querySelector("legend").getBoundingClientRect();
  const seg = el.querySelector(".seg label").getBoundingClientRect();
  const at = (x, y) => el.contains(document.elementFromPoint(x, y));
  return r.top >= 0 && at(r.left + 20, r.top + 4) && at(seg.left + 10, seg.top + 4);
}"""


@pytest.fixture
def phone(browser, live_server):
    context = browser.new_context(
        **PHONE, base_url=live_server, locale="zh-CN", service_workers="block"
    )
    page = context.new_page()
    yield page
    context.close()


def _until(page, expression: str, timeout: float = 15.0) -> None:
    """Poll an expression from Python (the page's CSP forbids wait_for_function's eval)."""
    import time

    end = time.monotonic() + timeout
    while not page.evaluate(expression):
        assert time.monotonic() < end, expression
        page.wait_for_timeout(100)


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (800, 600), (90, 120, 150)).save(out, "JPEG", quality=80)
    return out.getvalue()


def test_jumps_land_below_the_sticky_bars_and_next_unanswered_walks_the_form(tablet, live_app):
    with live_app.app_context():
        inspection = e2e_inspection("papercuts")
        iid = inspection.id
        ids = [i.id for i in sorted(inspection.template.items, key=lambda i: i.position)]
    page = tablet
    _login(page, "inspector1")
    page.goto(f"/inspections/{iid}")
    page.wait_for_selector("#fill-form")
    for n in range(3):
        page.locator(f"#i{ids[n]}").get_by_text("符合", exact=True).tap()
    _until(page, "document.querySelector('[data-save-state]').dataset.kind === 'saved'")
    # "Next unanswered" goes to the 4th item, then (once it is answered) past it.
    page.get_by_role("link", name="下一未答项").tap()
    page.wait_for_timeout(300)
    assert page.evaluate("location.hash") == f"#i{ids[3]}"
    assert page.evaluate(UNCOVERED, f"i{ids[3]}")
    page.locator(f"#i{ids[3]}").get_by_text("不适用", exact=True).tap()
    page.get_by_role("link", name="下一未答项").tap()
    page.wait_for_timeout(300)
    assert page.evaluate("location.hash") == f"#i{ids[4]}"
    # A link from the missing list (a fresh load with #i<id>) deep in the second section.
    page.goto(f"/inspections/{iid}#i{ids[20]}")
    page.wait_for_selector("#fill-form")
    page.wait_for_timeout(300)
    assert page.evaluate(UNCOVERED, f"i{ids[20]}")
    # A section chip: the section's heading and first item show below the progress bar.
    page.goto(f"/inspections/{iid}")
    page.locator("nav.sections a").nth(1).tap()
    page.wait_for_timeout(300)
    heading_top = page.evaluate(
        "document.querySelector('#s1 h2').getBoundingClientRect().top"
        " - document.querySelector('.fill-bar').getBoundingClientRect().bottom"
    )
    assert heading_top >= -1


def test_a_photo_is_deleted_from_the_filling_page(tablet, live_app):
    with live_app.app_context():
        inspection = e2e_inspection("papercuts")
        iid = inspection.id
        first = min(inspection.template.items, key=lambda i: i.position).id
    page = tablet
    _login(page, "inspector1")
    page.goto(f"/inspections/{iid}")
    item = page.locator(f"#i{first}")
    item.locator("input[type=file]").set_input_files(
        files=[{"name": "p.jpg", "mimeType": "image/jpeg", "buffer": _jpeg()}]
    )
    item.locator("button.del").wait_for(timeout=20000)

    def photos() -> int:
        with live_app.app_context():
            n = db.session.scalar(
                sa.select(sa.func.count(Attachment.id)).where(
                    Attachment.inspection_id == iid, Attachment.kind != "signature"
                )
            )
            db.session.remove()
            return n

    assert photos() == 1
    page.once("dialog", lambda dialog: dialog.accept())
    item.get_by_role("button", name="删除或替换照片").tap()
    _until(page, "document.querySelector('[data-save-state]').textContent.includes('照片已删除')")
    assert item.locator(".ph img").count() == 0 and photos() == 0
    # The camera button has the focus: the next photo replaces the deleted one.
    assert page.evaluate("document.activeElement.type") == "file"


def _no_sideways_scroll(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def test_audit_event_notice_and_record_fit_a_phone_and_still_print_on_a4(phone, live_app):
    with live_app.app_context():
        event = db.session.scalar(sa.select(AuditEvent).order_by(AuditEvent.id.desc()))
        inspection = db.session.scalar(
            sa.select(Inspection)
            .join(Visit, Visit.id == Inspection.visit_id)
            .where(Visit.notice_number.is_not(None))
            .order_by(Inspection.id)
        )
        event_id, iid = event.id, inspection.id
        db.session.remove()
    page = phone
    _login(page, "coordinator")
    page.goto(f"/audit/{event_id}")
    assert _no_sideways_scroll(page) <= 0
    for url in (f"/inspections/{iid}/record", f"/inspections/{iid}/notice"):
        page.goto(url)
        assert _no_sideways_scroll(page) <= 0, url
        # Cards, not a table of 2-character lines: the page stays a few screens tall.
        height = page.evaluate("document.documentElement.scrollHeight")
        # The visit's record holds every checklist, the signatures and the office's forms: a
        # squeezed A4 table of it ran past 20,000 px; cards keep it to a few screens.
        assert height < 12000, (url, height)
        assert page.evaluate(
            "getComputedStyle(document.querySelector('.doc-table tr')).display"
        ) in ("block", "grid")
        page.emulate_media(media="print")
        assert (
            page.evaluate("getComputedStyle(document.querySelector('.doc-table tr')).display")
            == "table-row"
        )
        pdf = page.pdf(format="A4", print_background=True)
        pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
        assert 1 <= pages <= 6, (url, pages)
        page.emulate_media(media="screen")


def test_an_items_error_outline_clears_once_it_saves(tablet, live_app):
    """A refused change outlines its item in red; the outline stayed after the item saved."""
    with live_app.app_context():
        iid = e2e_inspection("papercuts").id
    _login(tablet, "inspector1")
    tablet.goto(f"/inspections/{iid}")
    item = tablet.locator("fieldset.q:not([hidden])").nth(10)
    item_id = item.get_attribute("id")
    note = item.locator("textarea[name^='n']")
    note.fill("长" * 5001)  # over the server's 5,000 characters: refused
    _until(tablet, f"document.getElementById('{item_id}').classList.contains('q-error')")
    note.fill("已查看")
    _until(tablet, "document.querySelector('[data-save-state]').dataset.kind === 'saved'")
    assert "q-error" not in item.get_attribute("class")
