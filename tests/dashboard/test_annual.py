"""The annual report (年度通报): its parts, its figures, and sentences that never say "0个"."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from inspect_app.clock import local_today
from inspect_app.dashboard import annual
from inspect_app.dashboard.services import AnnualReport, DepartmentRow, annual_report
from inspect_app.extensions import db
from inspect_app.models import Round
from inspect_app.reports import figures
from inspect_app.reports.figures import (
    Compliance,
    Coverage,
    InspectionCounts,
    Rectification,
    RoundRow,
    Scope,
)

from .conftest import rows, text_of

YEAR = 2026
# A figure of zero stated as a count ("0个", "0家", "0.0%") instead of "无" or nothing.
ZERO = re.compile(r"(?<![\d.])0(?:\.0)?(?:个|家|轮|项|天|%)")


def _paragraphs(html: str) -> list[str]:
    article = re.search(r'<article class="document annual-report">(.*?)</article>', html, re.S)
    return [text_of(p) for p in re.findall(r"<p>(.*?)</p>", article.group(1), re.S)]


def test_the_report_has_its_parts_in_order_and_is_signed_by_the_configured_issuer(
    app, login_as, data, monkeypatch
):
    monkeypatch.setitem(app.config, "NOTICE_ISSUER", "第一师阿拉尔市互联网信息办公室")
    html = login_as("viewer").get(f"/dashboard/annual?year={YEAR}").get_data(as_text=True)
    text = text_of(html)
    assert "关于2026年度网络安全检查工作情况的通报" in text
    headings = ["一、基本情况", "二、发现的主要问题", "三、整改情况", "四、各部门情况"]
    assert [text.index(h) for h in headings] == sorted(text.index(h) for h in headings)
    today = local_today()
    seal = re.search(r'<p class="seal">(.*?)</p>', html, re.S).group(1)
    assert (
        text_of(seal)
        == f"第一师阿拉尔市互联网信息办公室 {today.year}年{today.month}月{today.day}日"
    )
    assert '<p class="issuer">第一师阿拉尔市互联网信息办公室</p>' in html
    assert 'src="/dashboard/charts/categories.svg?year=2026"' in html
    assert "data-print" in html and "/static/js/print.js" in html


def test_the_report_figures_equal_the_figures_service(app, login_as, data):
    with app.app_context():
        db.session.get(Round, data["rounds"][0].id).theme = "key_units"
        db.session.commit()
    html = login_as("coordinator").get(f"/dashboard/annual?year={YEAR}").get_data(as_text=True)
    today = local_today()
    with app.app_context():
        scope = Scope(YEAR)
        per_round = figures.per_round(scope, today)
        rect = figures.rectification(scope, today)
        categories = figures.findings_by(scope, "category")
        led = dict(figures.per_lead_department(scope, today))
        counts = figures.inspection_counts(scope)
    table = rows(html, "t-rounds", "round")
    assert list(table) == [str(r.round_id) for r in per_round]
    first = table[str(per_round[0].round_id)]
    assert first[1] == "重点单位"  # the round's theme
    for r in per_round:
        cells = table[str(r.round_id)]
        assert cells[3:] == [
            str(r.inspections.done),
            str(r.inspections.total),
            str(r.figures.findings),
        ]
    assert {k: int(v[1]) for k, v in rows(html, "t-categories", "category").items()} == dict(
        categories
    )
    departments = rows(html, "t-departments", "department")
    for code, figs in led.items():
        if code:
            assert departments[code][2:4] == [str(figs.findings), str(figs.closed)]
    text = text_of(html)
    assert f"已完成{counts.done}家次" in text and f"计划检查{counts.total}家次" in text
    assert f"检查共发现问题{rect.findings}个" in text
    if rect.overdue:
        assert f"逾期未整改问题{rect.overdue}个，累计逾期{rect.overdue_days}天" in text


def test_overdue_and_repeat_units_are_named(app, login_as, data):
    html = login_as("viewer").get(f"/dashboard/annual?year={YEAR}").get_data(as_text=True)
    text = text_of(html)
    with app.app_context():
        units = figures.per_unit(Scope(YEAR), local_today())
        repeaters = figures.repeat_offenders(Scope(YEAR), limit=None)
    for u in units:
        if u.figures.overdue:
            assert f"{u.name}（{u.figures.overdue}个）" in text
    assert repeaters
    for _id, _code, name, n in repeaters:
        assert f"{name}（{n}个）" in text.split("存在重复问题的单位：")[1]


def test_the_office_does_not_inspect_together_with_itself(login_as, data):
    html = login_as("viewer").get(f"/dashboard/annual?year={YEAR}").get_data(as_text=True)
    together = re.search(r"全年会同(.*?)开展检查", text_of(html)).group(1).split("、")
    departments = data["departments"]
    assert departments["PSB"].name in together and departments["CAC"].name not in together


def test_a_year_without_inspections_says_so_and_nothing_else(login_as):
    html = login_as("viewer").get("/dashboard/annual?year=2031").get_data(as_text=True)
    paragraphs = _paragraphs(html)
    assert "本年度尚无已完成的检查。" in paragraphs
    assert "二、发现的主要问题" not in html and "三、整改情况" not in html
    assert not any(ZERO.search(p) for p in paragraphs), paragraphs


def test_no_sentence_states_a_zero_count(login_as, data):
    b = login_as("viewer")
    for year in (YEAR, 2025, 2031):
        html = b.get(f"/dashboard/annual?year={year}").get_data(as_text=True)
        for paragraph in _paragraphs(html):
            assert not ZERO.search(paragraph), paragraph


def _report(**figures_kw) -> AnnualReport:
    rect = Rectification(**figures_kw)
    done = InspectionCounts(submitted=3)
    row = RoundRow(1, 1, "第1轮", "closed", date(2026, 1, 1), date(2026, 1, 20), done, rect)
    return AnnualReport(
        year=YEAR,
        today=date(2026, 12, 20),
        rounds=[row],
        inspections=done,
        figures=rect,
        compliance=Compliance(0, 5),
        coverage=Coverage(3, 0, 10, 0),
        severity=[("high", rect.findings)] if rect.findings else [],
        categories=[("mlps", rect.findings)] if rect.findings else [],
        departments=[
            DepartmentRow("PSB", "市公安局", 3, 3, rect),
            DepartmentRow("SEC", "市保密局", 0, 0, rect),
        ],
        overdue_units=[],
        repeaters=[],
    )


@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"findings": 4, "open": 4},
        {"findings": 4, "open": 2, "closed": 2, "due": 2},
        {"findings": 4, "closed": 4, "due": 4, "closed_on_time": 4},
    ],
)
def test_sentences_say_none_instead_of_zero(app, kw):
    with app.test_request_context():
        sections = annual.sections(_report(**kw))
    paragraphs = [p for part in sections.values() for p in part]
    assert paragraphs
    for paragraph in paragraphs:
        assert not ZERO.search(str(paragraph)), paragraph


def test_sentences_for_a_year_with_problems_none_closed(app):
    with app.test_request_context():
        sections = annual.sections(_report(findings=4, open=4, due=4, overdue=4, overdue_days=9))
    text = "".join(p for part in sections.values() for p in part)
    assert "截至2026年12月20日，尚无问题整改销号。" in text
    assert "已到整改期限或已销号的4个问题均未按期整改销号。" in text
    assert "已作答的5个检查项均不符合要求。" in text
    assert "市公安局参与检查3家次，牵头问题4个，均未销号。其中逾期未整改4个。" in text
    assert "市保密局牵头问题4个，均未销号。" in text


def test_sentences_of_one_read_in_the_singular_in_english(app):
    """ "1 problems had been found before…", "For 1 problems a risk was accepted…"."""
    from flask_babel import force_locale

    one = {"findings": 1, "repeats": 1, "escalated": 1, "risk_accepted": 1, "overdue": 1}
    with app.test_request_context(), force_locale("en"):
        sections = annual.sections(_report(**one, due=1, submitted=1, overdue_days=3))
    text = " ".join(p for part in sections.values() for p in part)
    assert "1 problem had been found before" in text
    assert "1 problem was handed over" in text
    assert "For 1 problem a risk was accepted" in text
    assert "1 problem is overdue" in text and "1 of them is overdue." in text
    assert not re.search(r"\b1 problems\b|\b1 of them are\b", text), text


def test_the_report_reads_in_english(login_as, data):
    html = login_as("viewer").get(f"/dashboard/annual?year={YEAR}&lang=en").get_data(as_text=True)
    assert "Report on the network security inspections of 2026" in html
    assert "1. Overview" in html


def test_the_print_stylesheet_keeps_charts_and_tables_on_a4(app):
    from pathlib import Path

    css = "".join(  # the page's two stylesheets: A4 is set once for every printed page
        (Path(app.static_folder) / "css" / name).read_text(encoding="utf-8")
        for name in ("app.css", "pages.css")
    )
    assert "size: A4" in css
    prints = re.findall(r"@media print \{(.*?)\n\}", css, re.S)
    joined = "\n".join(prints)
    assert "figure.chart img" in joined and ".no-print" in joined
    assert "figure.chart { display: none" not in joined


def test_annual_report_service_counts_the_rounds_held(app, data):
    with app.app_context():
        report = annual_report(YEAR, local_today() + timedelta(days=0))
    assert [r.seq for r in report.rounds_held] == [
        r.seq for r in report.rounds if r.inspections.done
    ]
