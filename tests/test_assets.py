"""The stylesheet is served compacted, with the same rules as the hand-written file."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from inspect_app.assets import compact_css, compact_js

SOURCE = Path(__file__).resolve().parent.parent / "inspect_app" / "static" / "css" / "app.css"
STYLESHEETS = sorted(SOURCE.parent.glob("*.css"))


def _rules(css: str) -> list[tuple[str, tuple[str, ...]]]:
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    out = []
    for selector, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css):
        decls = tuple(
            re.sub(r"\s+", " ", d.strip()).replace(": ", ":") for d in body.split(";") if d.strip()
        )
        out.append(
            (re.sub(r"\s+", " ", selector.strip()), tuple(d.replace(" :", ":") for d in decls))
        )
    return out


@pytest.mark.parametrize("sheet", STYLESHEETS, ids=lambda p: p.name)
def test_compaction_keeps_every_rule_and_declaration(sheet):
    source = sheet.read_text(encoding="utf-8")
    compact = compact_css(source)
    assert len(compact) < len(source) * 0.92
    assert _rules(compact) == _rules(source)


@pytest.mark.parametrize("sheet", STYLESHEETS, ids=lambda p: p.name)
def test_every_block_of_a_stylesheet_is_closed_where_it_should_be(sheet):
    """A merge once dropped the `}` of an @media block: the rules after it applied only in
    print (or only on phones), and nothing else noticed. Top-level rules start at column 0."""
    depth = 0
    for number, line in enumerate(sheet.read_text(encoding="utf-8").splitlines(), 1):
        if depth and line[:1] not in ("", " ", "}", "/") and not line.startswith("/*"):
            raise AssertionError(f"{sheet.name}:{number}: a top-level rule inside a block")
        depth += line.count("{") - line.count("}")
        assert depth >= 0, f"{sheet.name}:{number}: a `}}` closes nothing"
    assert depth == 0, f"{sheet.name}: {depth} block(s) left open"


def test_compaction_keeps_spaces_that_mean_something():
    css = "/* x */\n.a :has(b) { color : red ;  margin: 0 auto; }\n@media (min-width: 768px) {\n  .c .d { e: f; }\n}\n"
    assert (
        compact_css(css)
        == ".a :has(b){color:red;margin:0 auto}@media (min-width: 768px){.c .d{e:f}}\n"
    )


def test_the_served_stylesheet_is_the_compacted_file(client):
    response = client.get("/static/css/app.css")
    assert response.status_code == 200 and response.mimetype == "text/css"
    assert response.get_data(as_text=True) == compact_css(SOURCE.read_text(encoding="utf-8"))
    again = client.get("/static/css/app.css", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_other_static_files_are_served_as_they_are(client):
    with client.get("/static/favicon.svg") as response:
        assert response.status_code == 200 and response.data.startswith(b"<svg")
    assert client.get("/static/../config.py").status_code == 404


def test_vendored_files_are_served_byte_for_byte(client):
    vendored = SOURCE.parent.parent / "vendor" / "jsqr" / "jsQR.js"
    with client.get("/static/vendor/jsqr/jsQR.js") as response:
        assert response.status_code == 200
        assert response.data == vendored.read_bytes()  # not compacted: it is not ours


JS = sorted((SOURCE.parent.parent / "js").glob("*.js"))


def test_compacted_javascript_drops_comments_and_indentation_only():
    js = "// top\nexport function f(a) {\n  // inside\n  const u = 'http://x'; // keeps\n  return a;\n}\n"
    assert (
        compact_js(js) == "export function f(a) {\nconst u = 'http://x'; // keeps\nreturn a;\n}\n"
    )


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
@pytest.mark.parametrize("path", JS, ids=lambda p: p.name)
def test_every_served_javascript_module_still_parses(client, tmp_path, path):
    body = client.get(f"/static/js/{path.name}").get_data(as_text=True)
    assert len(body) < len(path.read_text(encoding="utf-8"))
    module = tmp_path / (path.stem + ".mjs")
    module.write_text(body, encoding="utf-8")
    subprocess.run([shutil.which("node"), "--check", str(module)], check=True, capture_output=True)
