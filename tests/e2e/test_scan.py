"""扫码入企 in the browser: the arrival page reads the unit's QR sign from the camera (here a
fake camera showing the printed code; Chromium on Linux has no BarcodeDetector, so the vendored
jsQR decoder does the reading), and typing the code keeps working."""

import io

import pytest
import sqlalchemy as sa
from PIL import Image

from inspect_app.extensions import db
from inspect_app.models import Unit

from .conftest import CHROMIUM
from .test_smoke import _login


def _y4m(url: str, path) -> None:
    """One 640×480 frame (YUV 4:2:0) showing the QR code of url on white: the fake camera."""
    import segno

    png = io.BytesIO()
    segno.make(url, error="m").save(png, kind="png", scale=8, border=4)
    code = Image.open(png).convert("L")
    frame = Image.new("L", (640, 480), 255)
    frame.paste(code, ((640 - code.width) // 2, (480 - code.height) // 2))
    chroma = bytes([128]) * (320 * 240)
    path.write_bytes(
        b"YUV4MPEG2 W640 H480 F10:1 Ip A1:1 C420jpeg\n"
        + b"FRAME\n"
        + frame.tobytes()
        + chroma
        + chroma
    )


@pytest.fixture
def unit_code(live_app):
    from inspect_app.inspections.arrival import arrival_code

    with live_app.app_context():
        unit = db.session.scalar(sa.select(Unit).order_by(Unit.id))
        code, name = arrival_code(unit), unit.name
        db.session.remove()
    return code, name


@pytest.fixture
def camera_page(browser_type, live_server, unit_code, tmp_path):
    video = tmp_path / "sign.y4m"
    _y4m(f"{live_server}/inspections/arrive?code={unit_code[0]}", video)
    browser = browser_type.launch(
        executable_path=CHROMIUM,
        headless=True,
        args=[
            "--no-sandbox",
            "--disable-gpu",
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={video}",
        ],
    )
    context = browser.new_context(
        base_url=live_server, locale="zh-CN", service_workers="block", permissions=["camera"]
    )
    page = context.new_page()
    yield page
    context.close()
    browser.close()


def test_the_arrival_page_reads_the_units_qr_sign_from_the_camera(camera_page, unit_code):
    page = camera_page
    _login(page, "inspector1")
    page.goto("/inspections/arrive")
    field = page.get_by_label("入企码", exact=False)
    assert field.input_value() == ""
    page.get_by_role("button", name="用摄像头扫描二维码").click()
    for _ in range(100):  # polled from Python: the page's CSP forbids wait_for_function's eval
        if field.input_value():
            break
        page.wait_for_timeout(100)
    assert field.input_value() == unit_code[0]
    assert "已读取" in page.get_by_role("status").first.inner_text()
    # The camera is off again and the inspector confirms with the form's button.
    assert page.locator("[data-scan-panel]").is_hidden()


def test_typing_the_code_still_works_without_a_camera(tablet, unit_code):
    _login(tablet, "inspector1")
    tablet.goto("/inspections/arrive")
    code, name = unit_code
    tablet.get_by_label("入企码", exact=False).fill(code.lower())
    tablet.get_by_role("button", name="登记到达").click()
    # The code was understood (its unit is named); inspector1 leads no visit there today.
    assert name in tablet.content() and "没有单位使用此码" not in tablet.content()
