"""The record and the notice in the browser: they print on A4 with "第X页 共Y页" on every page
(Chromium prints them with the app's print stylesheet, its @page size rather than the printer's
default, and the PDF is read back for each page's size and number), and the record's recordings
are fetched by byte ranges as players need."""

import io
import re

import pytest
import sqlalchemy as sa

from inspect_app.extensions import db
from inspect_app.models import Inspection, Visit

from .test_smoke import _login

A4_POINTS = (595.28, 841.89)  # 210 × 297 mm


@pytest.fixture
def desk(browser, live_server):
    # A desktop browser printing (US Letter is Chromium's own default paper size).
    context = browser.new_context(
        viewport={"width": 1280, "height": 900},
        base_url=live_server,
        locale="zh-CN",
        service_workers="block",
    )
    page = context.new_page()
    yield page
    context.close()


def _pages(pdf: bytes) -> list[tuple[float, float, str]]:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    return [
        (float(p.mediabox.width), float(p.mediabox.height), re.sub(r"\s+", "", p.extract_text()))
        for p in reader.pages
    ]


def _visit_with_approved_notice(live_app) -> int:
    """An inspection of the demo's visit with the most findings and an approved notice, so the
    record runs to several pages."""
    with live_app.app_context():
        inspection = db.session.scalar(
            sa.select(Inspection)
            .join(Visit, Visit.id == Inspection.visit_id)
            .where(Visit.notice_status == "approved")
            .order_by(sa.func.length(Visit.notice_number), Inspection.id)
        )
        iid = inspection.id
        db.session.remove()
    return iid


@pytest.mark.parametrize("document", ["notice", "record"])
def test_the_notice_and_the_record_print_on_a4_with_page_x_of_y(desk, live_app, document):
    iid = _visit_with_approved_notice(live_app)
    _login(desk, "coordinator")
    desk.goto(f"/inspections/{iid}/{document}")
    desk.emulate_media(media="print")
    pdf = desk.pdf(prefer_css_page_size=True, print_background=True)
    pages = _pages(pdf)
    assert len(pages) >= 1
    total = len(pages)
    for number, (width, height, text) in enumerate(pages, start=1):
        assert abs(width - A4_POINTS[0]) < 1 and abs(height - A4_POINTS[1]) < 1, (width, height)
        assert _footer(number, total).search(text), (number, text[-80:])
    # Not a count that happens to be right: the footer of page 1 does not say page 2.
    assert not _footer(2, total).search(pages[0][2])


def _footer(number: int, total: int) -> re.Pattern:
    # Without a Chinese font (a bare CI machine; fonts-noto-cjk), Chromium prints 第, 页 and 共
    # as glyphs without text, read back as NUL: the numbers must still stand in their places.
    return re.compile(f"(?:第|\\x00){number}(?:页|\\x00)(?:共|\\x00){total}(?:页|\\x00)")


def test_the_browser_fetches_a_recording_on_the_record_by_byte_ranges(desk, live_app):
    """The record's <video> asks for byte ranges, as players do to seek, and gets them (206)."""
    from inspect_app.inspections import record
    from inspect_app.models import User

    from ..inspections.helpers import mp4_bytes

    with live_app.app_context():
        inspection = db.session.scalar(
            sa.select(Inspection)
            .join(Visit, Visit.id == Inspection.visit_id)
            .where(Visit.notice_status.is_(None), Inspection.status == "planned")
            .where(~Inspection.template.has(key="E2E"))  # those are other tests' to fill
            .order_by(Inspection.id)
        )
        office = db.session.scalar(sa.select(User).where(User.username == "coordinator"))
        clip = record.attach_recording(
            inspection.id, io.BytesIO(mp4_bytes(pad=200_000)), actor=office, filename="e2e.mp4"
        )
        iid, url = inspection.id, f"/inspections/recordings/{clip.id}"
        db.session.remove()
    _login(desk, "coordinator")
    with desk.expect_response(lambda r: r.url.endswith(url)) as info:
        desk.goto(f"/inspections/{iid}/record")
    response = info.value
    assert response.status == 206, response.status
    assert response.headers["content-range"].startswith("bytes 0-")
    assert desk.locator(f'video[src="{url}"]').count() == 1
