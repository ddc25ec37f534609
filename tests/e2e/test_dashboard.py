"""On a tablet and a phone: the dashboard and the annual report load their chart images under the
page's strict CSP without a violation, fit the screen, and print with their charts."""

import re

from .test_smoke import _login

CSP_WATCH = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(e.violatedDirective + " " + e.blockedURI);
});
"""


def _open(page, url):
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.add_init_script(CSP_WATCH)
    page.goto(url)
    page.wait_for_load_state("networkidle")
    return errors


def _images(page):
    return page.evaluate(
        "[...document.querySelectorAll('main img')].map(i => [i.getAttribute('src'), i.complete, i.naturalWidth])"
    )


def test_dashboard_charts_load_as_images_without_a_csp_violation(tablet):
    _login(tablet, "coordinator")
    errors = _open(tablet, "/dashboard/")
    images = _images(tablet)
    assert len(images) == 4
    for src, complete, width in images:
        assert complete and width > 0, src
        assert re.match(r"^/dashboard/charts/\w+\.svg\?year=\d{4}$", src)
    assert tablet.evaluate("window.__csp") == []
    assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e]
    # The filters form still works: choose a department and the page follows.
    tablet.get_by_text("选择年度、轮次、部门或单位类型").click()
    tablet.locator("#f-department").select_option("PSB")
    tablet.get_by_role("button", name="查看").click()
    tablet.wait_for_url(re.compile(r"department=PSB"))
    assert all(w > 0 for _s, _c, w in _images(tablet))


def test_dashboard_fits_a_768px_tablet_and_a_phone_with_touchable_links(tablet):
    _login(tablet, "viewer")
    for width in (768, 390):
        tablet.set_viewport_size({"width": width, "height": 1024})
        _open(tablet, "/")  # a viewer's home is the dashboard
        assert tablet.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), width
        small = tablet.evaluate(
            """[...document.querySelectorAll('main a, main button, main summary')]
                .filter(e => e.offsetParent !== null)
                .map(e => [e.textContent.trim().slice(0, 30), e.getBoundingClientRect().height])
                .filter(([t, h]) => h < 44)"""
        )
        assert small == [], (width, small)


def test_the_annual_report_prints_on_a4_with_its_chart(tablet):
    _login(tablet, "viewer")
    _open(tablet, "/dashboard/annual")
    assert tablet.evaluate("window.__csp") == []
    assert all(w > 0 for _s, _c, w in _images(tablet))
    tablet.emulate_media(media="print")
    assert not tablet.locator("header.topbar").is_visible()
    assert not tablet.locator("form.filters").is_visible()
    assert tablet.locator("figure.chart img").first.is_visible()
    assert tablet.locator("#t-rounds").is_visible()
    pdf = tablet.pdf(format="A4")
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000
