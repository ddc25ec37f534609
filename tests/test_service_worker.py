"""The service worker is served from the root and precaches files that exist."""

import re
from pathlib import Path

STATIC = Path(__file__).resolve().parent.parent / "inspect_app" / "static"


def test_service_worker_is_served_from_the_root_without_caching(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Cache-Control"] == "no-cache"
    response.close()


def test_every_precached_file_exists():
    source = (STATIC / "js" / "sw.js").read_text(encoding="utf-8")
    block = source[source.index("const PRECACHE") : source.index("];")]
    paths = re.findall(r'"/static/([^"]+)"', block)
    assert paths
    missing = [p for p in paths if not (STATIC / p).is_file()]
    assert not missing  # one missing file makes the whole install fail


def test_every_module_the_filling_page_imports_is_precached():
    source = (STATIC / "js" / "sw.js").read_text(encoding="utf-8")
    for name in ("fill.js", "fill-media.js", "conditions.js", "outbox.js"):
        assert f'"/static/js/{name}"' in source
