"""Charts: SVG images of their own with a narrow CSP, no script, the figures as text, and ETags."""

from __future__ import annotations

import re
import sys

import pytest
from lxml import etree

from inspect_app.dashboard import charts, services
from inspect_app.dashboard.routes import CHART_CSP
from inspect_app.extensions import db
from inspect_app.models import Round
from inspect_app.reports import figures
from inspect_app.reports.figures import Scope

YEAR = 2026
SVG = "{http://www.w3.org/2000/svg}"


def _texts(body: bytes) -> list[str]:
    root = etree.fromstring(body)
    assert root.tag == SVG + "svg"
    return ["".join(t.itertext()).strip() for t in root.iter(SVG + "text")]


@pytest.mark.parametrize("name", sorted(services.CHARTS))
def test_each_chart_is_an_svg_image_with_its_own_narrow_policy_and_no_script(login_as, data, name):
    response = login_as("viewer").get(f"/dashboard/charts/{name}.svg?year={YEAR}")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    assert response.headers["Content-Security-Policy"] == CHART_CSP
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "private, no-cache"
    assert response.headers["ETag"]
    body = response.get_data()
    assert b"<script" not in body and b"<!--" not in body
    # Nothing fetched: the only URLs are the SVG and XLink namespace names.
    assert not re.search(rb"""(?:href|src)\s*=\s*["']?\s*(?:https?:)?//""", body)
    assert not re.search(rb"url\(\s*['\"]?(?:https?:)?//", body)
    assert b"@import" not in body
    assert _texts(body)  # text stays text (selectable, sharp in print)


def test_a_chart_shows_the_figures_and_their_labels(app, login_as, data):
    body = login_as("viewer").get(f"/dashboard/charts/severity.svg?year={YEAR}").get_data()
    texts = _texts(body)
    assert "按风险等级统计问题" in texts
    with app.app_context():
        severity = figures.findings_by(Scope(YEAR), "severity")
    labels = {"high": "高", "medium": "中", "low": "低"}
    for code, n in severity:
        assert labels[code] in texts and str(n) in texts


def test_the_rounds_chart_has_a_bar_group_per_round(app, login_as, data):
    body = login_as("viewer").get(f"/dashboard/charts/rounds.svg?year={YEAR}").get_data()
    texts = _texts(body)
    assert {"第1轮", "第2轮", "第3轮"} <= set(texts)
    assert {"已完成检查", "发现的问题", "已销号"} <= set(texts)  # the legend


def test_charts_follow_the_filters(app, login_as, data):
    b = login_as("viewer")
    whole = b.get(f"/dashboard/charts/severity.svg?year={YEAR}")
    one = b.get(f"/dashboard/charts/severity.svg?year={YEAR}&round={data['rounds'][0].id}")
    assert whole.headers["ETag"] != one.headers["ETag"]


def test_an_empty_chart_says_there_is_nothing_to_show(login_as):
    body = login_as("viewer").get("/dashboard/charts/categories.svg?year=2030").get_data()
    assert "未发现问题" in _texts(body)


def test_a_chart_the_browser_holds_is_a_304_until_the_figures_change(app, login_as, data, make):
    b = login_as("viewer")
    url = f"/dashboard/charts/severity.svg?year={YEAR}"
    first = b.get(url)
    etag = first.headers["ETag"]
    again = b.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and not again.get_data()
    assert again.headers["Content-Security-Policy"] == CHART_CSP
    with app.app_context():
        rnd = db.session.get(Round, data["rounds"][0].id)
        inspection = make.inspection(round=rnd, status="submitted")
        make.finding(inspection, severity="high")
    changed = b.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


def test_the_chart_language_follows_the_user(login_as, data):
    b = login_as("viewer")
    b.get("/?lang=en")
    texts = _texts(b.get(f"/dashboard/charts/severity.svg?year={YEAR}").get_data())
    assert "Problems by risk level" in texts and "High" in texts


def test_an_unknown_chart_is_not_found(login_as):
    assert login_as("coordinator").get("/dashboard/charts/pie.svg").status_code == 404


def test_drawings_carry_no_script_no_comment_and_no_tooltip():
    svg = charts.draw(charts.Chart("标题", ["甲", "乙"], [("问题", [3, 4])])).decode()
    assert "<script" not in svg and "<!--" not in svg and 'class="tooltip"' not in svg
    assert 'width="720"' in svg  # a natural size for <img>


def test_long_chinese_labels_get_room_in_horizontal_charts():
    short = charts.Chart("t", ["等保"], [("n", [1])], horizontal=True)
    long = charts.Chart("t", ["网络安全责任制落实与综合管理"], [("n", [1])], horizontal=True)
    assert charts._margin_left(long) > charts._margin_left(short) >= charts.BASE_MARGIN


def test_the_same_data_is_drawn_once():
    chart = charts.Chart("缓存", ["甲"], [("问题", [1])])
    digest = chart.digest()
    assert charts.cache.get(chart, digest) is charts.cache.get(chart, digest)
    assert charts.Chart("缓存", ["甲"], [("问题", [2])]).digest() != digest


def test_pygal_leaves_no_legacy_import_finder_behind():
    assert not any(type(f).__name__ == "PluginImportFixer" for f in sys.meta_path)
