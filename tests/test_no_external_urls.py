"""No page loads anything from the network: government intranets are closed."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "inspect_app"
EXTERNAL = re.compile(
    r"""(?:src|href|action|srcset|poster|data)\s*=\s*["']?\s*(?:https?:)?//""", re.I
)
CSS_EXTERNAL = re.compile(
    r"""(?:url\(\s*["']?(?:https?:)?//|@import\s+["']?(?:https?:)?//)""", re.I
)
JS_EXTERNAL = re.compile(
    r"""(?:import\s.*from\s+["'](?:https?:)?//|fetch\(\s*["'](?:https?:)?//)""", re.I
)


@pytest.mark.parametrize(
    "path",
    sorted(
        str(p.relative_to(ROOT)) for p in ROOT.rglob("*") if p.suffix in {".html", ".css", ".js"}
    ),
)
def test_static_and_template_files_reference_no_external_url(path):
    text = (ROOT / path).read_text(encoding="utf-8")
    assert not EXTERNAL.search(text)
    assert not CSS_EXTERNAL.search(text)
    assert not JS_EXTERNAL.search(text)


@pytest.mark.parametrize("role", ["admin", "coordinator", "inspector", "unit", "viewer"])
def test_rendered_pages_reference_no_external_url(login_as, role):
    b = login_as(role)
    for url in ["/", "/auth/password", "/audit/", "/directory/units", "/nope"]:
        html = b.get(url).get_data(as_text=True)
        assert not EXTERNAL.search(html), url


def test_login_page_references_no_external_url(client):
    assert not EXTERNAL.search(client.get("/auth/login").get_data(as_text=True))
