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


def test_service_worker_carries_a_version_that_changes_with_the_static_files(app, client):
    from inspect_app.main.routes import offline_version

    body = client.get("/sw.js").get_data(as_text=True)
    assert "__SW_VERSION__" not in body
    with app.app_context():
        version = offline_version()
        assert f'const VERSION = "{version}"' in body
        assert version.startswith(app_version_prefix())
    app.config["SERVICE_WORKER_VERSION"] = "next"
    try:
        assert 'const VERSION = "next"' in client.get("/sw.js").get_data(as_text=True)
    finally:
        app.config["SERVICE_WORKER_VERSION"] = None


def app_version_prefix() -> str:
    from inspect_app.main.routes import app_version

    return app_version() + "-"


def test_the_pages_cache_keeps_its_name_across_versions():
    """A new worker deletes only old static caches: pages stored for offline use stay."""
    source = (STATIC / "js" / "sw.js").read_text(encoding="utf-8")
    assert 'const PAGES = "inspect-pages-v1"' in source
    assert 'const PAGES = "inspect-pages-v1"' in (STATIC / "js" / "offline.js").read_text(
        encoding="utf-8"
    ).replace("export const", "const")
    assert "indexedDB" not in source  # the outbox is never touched by the worker


def test_offline_page_is_translated(client):
    zh = client.get("/offline", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "您已离线" in zh
    en = client.get("/offline?lang=en").get_data(as_text=True)
    assert "You are offline" in en
