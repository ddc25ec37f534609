"""Text responses are compressed (Flask-Compress) for browsers that accept it; ETags still give
304s; streamed responses (downloads) and images never are."""

import gzip

import brotli
import pytest

from .conftest import Browser

ACCEPT = {"Accept-Encoding": "gzip, deflate, br"}


def test_a_page_is_compressed_with_brotli_and_keeps_its_security_headers(app, login_as):
    b = login_as("inspector")
    plain = b.get("/inspections/")
    packed = b.get("/inspections/", headers=ACCEPT)
    assert "Content-Encoding" not in plain.headers  # the page-weight budget is measured raw
    assert packed.headers["Content-Encoding"] == "br"
    assert "Accept-Encoding" in packed.headers["Vary"]
    assert "script-src" in packed.headers["Content-Security-Policy"]
    body = brotli.decompress(packed.get_data())
    assert b"<!doctype html>" in body and len(packed.get_data()) < len(body) / 2


def test_gzip_when_the_browser_has_no_brotli(app, login_as):
    packed = login_as("inspector").get("/inspections/", headers={"Accept-Encoding": "gzip"})
    assert packed.headers["Content-Encoding"] == "gzip"
    assert b"<!doctype html>" in gzip.decompress(packed.get_data())


@pytest.mark.parametrize("asset", ["/static/css/app.css", "/static/js/fill.js"])
def test_stylesheets_and_scripts_are_compressed_and_still_revalidate_with_304(client, asset):
    first = client.get(asset, headers=ACCEPT)
    assert first.status_code == 200 and first.headers["Content-Encoding"] == "br"
    etag = first.headers["ETag"]
    again = client.get(asset, headers={**ACCEPT, "If-None-Match": etag})
    assert again.status_code == 304 and not again.get_data()


def test_the_service_worker_comes_whole_with_its_version_and_images_are_not_compressed(client):
    sw = client.get("/sw.js", headers=ACCEPT)
    assert sw.status_code == 200 and sw.mimetype == "text/javascript"
    body = sw.get_data()
    if sw.headers.get("Content-Encoding") == "br":
        body = brotli.decompress(body)
    assert b"self" in body and b"__SW_VERSION__" not in body
    sw.close()
    icon = client.get("/static/favicon.svg", headers=ACCEPT)
    assert icon.status_code == 200
    icon.close()


def test_a_json_api_reply_is_compressed_when_large_enough(app, login_as):
    b: Browser = login_as("coordinator")
    r = b.get("/api/v1/openapi.json", headers=ACCEPT)
    assert r.status_code == 200 and r.headers.get("Content-Encoding") == "br"
