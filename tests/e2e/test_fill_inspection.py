"""An inspector fills a 30-item inspection on an iPad with one photo and a signature, and submits."""

import io
import re

from PIL import Image

from inspect_app.extensions import db
from inspect_app.models import Attachment, Finding, Inspection, RectificationItem

from .test_smoke import _login


def _big_photo() -> bytes:
    image = Image.new("RGB", (4032, 3024), (120, 140, 160))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def test_inspector_fills_and_submits_a_30_item_inspection_on_a_tablet(tablet, live_app):
    page = tablet
    _login(page, "inspector1")
    page.goto("/inspections/")
    page.get_by_role("link", name=re.compile("示例市图书馆")).click()
    page.wait_for_selector("#fill-form")
    items = page.locator("fieldset.q:not([hidden])")
    assert items.count() == 30
    for n in range(30):
        item = items.nth(n)
        choice = "不符合" if n == 0 else "符合"
        item.get_by_text(choice, exact=True).tap()
    first = items.nth(0)
    # The finding fields appear prefilled from the item.
    description = first.locator("textarea[name^=fd]")
    assert description.input_value()
    assert first.locator("select[name^=fs]").input_value() in ("high", "medium", "low")
    first.locator("input[type=file]").set_input_files(
        files=[{"name": "photo.jpg", "mimeType": "image/jpeg", "buffer": _big_photo()}]
    )
    page.wait_for_selector("fieldset.q >> nth=0 >> .ph img", timeout=20000)
    page.wait_for_function(
        "document.querySelector('[data-save-state]').dataset.kind === 'saved'", timeout=20000
    )
    assert page.locator("[data-progress-text]").inner_text().startswith("已答 30 / 30")

    page.get_by_role("link", name="核对并提交").click()
    page.wait_for_url("**/submit")
    assert page.locator(".missing").count() == 0
    page.get_by_label("被检查单位代表姓名（正楷）").fill("王馆长")
    box = page.locator("canvas.signature").bounding_box()
    page.mouse.move(box["x"] + 30, box["y"] + 100)
    page.mouse.down()
    for x in range(40, 300, 20):
        page.mouse.move(box["x"] + x, box["y"] + 60 + (x % 60))
    page.mouse.up()
    page.get_by_label("本人作为检查组组长，确认以上检查结果和问题。").check()
    page.get_by_role("button", name="提交检查").click()
    page.wait_for_url("**/record")
    assert page.get_by_text("王馆长").first.is_visible()
    page.get_by_role("link", name="整改通知书").click()
    page.wait_for_url("**/notice")
    assert page.locator("table.findings tbody tr").count() == 1
    # Not served yet: the deadline is relative, never a date the ledger would later contradict.
    assert "自送达之日起" in page.locator("table.findings tbody tr").inner_text()
    pdf = page.pdf(format="A4")
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert 1 <= pages <= 2, f"the notice prints on {pages} A4 pages"

    with live_app.app_context():
        inspection = (
            db.session.query(Inspection).filter(Inspection.signatory_name == "王馆长").one()
        )
        assert inspection.status == "submitted"
        finding = db.session.query(Finding).filter_by(inspection_id=inspection.id).one()
        rect = db.session.query(RectificationItem).filter_by(finding_id=finding.id).one()
        # The clock starts when the notice is served; until then no due date (DESIGN.md).
        assert rect.status == "open" and rect.due_date is None and rect.deadline_days
        photos = (
            db.session.query(Attachment).filter_by(inspection_id=inspection.id, kind="photo").all()
        )
        assert len(photos) == 1
        assert max(photos[0].width, photos[0].height) == 1600  # downscaled on the tablet
        assert (
            db.session.query(Attachment)
            .filter_by(inspection_id=inspection.id, kind="signature")
            .count()
            == 1
        )
        db.session.remove()
