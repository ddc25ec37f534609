"""Every control of the office's pages is a touch target of at least 44 px, on a tablet and on a
phone, and no page is wider than the screen (the review found 19 px links stacked on top of each
other, and tables running off a phone)."""

import pytest

from .test_smoke import _login

PAGES = [
    "/dashboard/",
    "/exports/",
    "/rectification/",
    "/rectification/?status=overdue",
    "/checklists/",
    "/directory/departments",
    "/directory/units",
    "/directory/systems",
    "/directory/users",
    "/audit/",
    "/rounds/",
    "/jobs/",
]

# Each visible control of the page's main part, with its size; controls inside running text
# (a paragraph) are exempt, as WCAG exempts inline targets.
SMALL = """() => [...document.querySelectorAll(
    "main a[href], main button, main select, main summary, "
    + "main input:not([type=hidden]):not([type=radio]):not([type=checkbox]):not([type=file])")]
  .filter((el) => el.offsetParent !== null && !el.closest("p, .hint, .prose, td.doc"))
  .map((el) => [el.textContent.trim().slice(0, 30) || el.name || el.tagName, el.getBoundingClientRect()])
  .filter(([, r]) => r.width > 0 && (r.height < 44 || r.width < 44))
  .map(([text, r]) => `${text} ${Math.round(r.width)}x${Math.round(r.height)}`)"""


@pytest.mark.parametrize("width", [768, 390])
def test_office_pages_have_44px_targets_and_fit_the_screen(tablet, width):
    tablet.set_viewport_size({"width": width, "height": 1024})
    _login(tablet, "coordinator")
    problems = {}
    for url in PAGES:
        tablet.goto(url)
        small = tablet.evaluate(SMALL)
        if small:
            problems[url] = small
        if not tablet.evaluate("document.documentElement.scrollWidth <= window.innerWidth"):
            problems.setdefault(url, []).append("page wider than the screen")
    assert problems == {}


def test_the_record_and_filling_pages_have_44px_targets(tablet, live_app):
    """The record's start and end (datetime-local) were 21 px tall, 下一未答项 40 px."""
    from .conftest import e2e_inspection

    with live_app.app_context():
        iid = e2e_inspection("papercuts").id
    _login(tablet, "inspector1")
    heights = {}
    for url, selector in (
        (f"/inspections/{iid}/record", "input[type=datetime-local]"),
        (f"/inspections/{iid}", ".next-q"),
    ):
        tablet.goto(url)
        for n, box in enumerate(tablet.locator(selector).all()):
            if box.is_visible():
                heights[f"{selector} {n}"] = box.bounding_box()["height"]
    assert len(heights) >= 3
    assert {k: h for k, h in heights.items() if h < 44} == {}
