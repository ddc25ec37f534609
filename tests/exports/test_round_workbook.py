"""The round workbook read back with two independent readers (openpyxl and python-calamine):
sheets, headers, rows and totals equal the database and reports/figures; dates are dates;
hostile text stays literal text; awkward text survives."""

from __future__ import annotations

import os
from datetime import date, datetime

import pytest

from inspect_app.errors import ValidationFailed
from inspect_app.exports import build_round, validate_round
from inspect_app.exports.sheets import Filter
from inspect_app.extensions import db
from inspect_app.models import Answer, Finding, Inspection
from inspect_app.reports import figures
from inspect_app.reports.figures import Scope

from .conftest import (
    CONTROL,
    EMOJI,
    LONG_NOTE,
    PAYLOADS,
    RARE,
    YEAR,
    formula_cells,
    read_calamine,
    read_openpyxl,
    reads_full_only_at_the_end,
    table,
)

SHEETS = ["说明", "汇总", "问题清单", "整改台账", "统计", "检查明细"]


@pytest.fixture
def built(data):
    calls = []
    path, name, mime = build_round(
        {"year": YEAR, "seq": 3, "locale": "zh_Hans_CN", "actor_id": data["users"]["office"]},
        lambda done, total: calls.append((done, total)),
    )
    yield {"path": path, "name": name, "mime": mime, "calls": calls}
    os.unlink(path)


def _round_findings(data) -> list[Finding]:
    return (
        db.session.query(Finding)
        .join(Inspection)
        .filter(Inspection.round_id == data["rounds"]["r3"])
        .all()
    )


def test_the_round_workbook_has_its_sheets_in_both_readers(built):
    assert built["name"] == "2026年第3轮网络安全检查汇总.xlsx"
    assert built["mime"].endswith("spreadsheetml.sheet")
    assert list(read_openpyxl(built["path"])) == SHEETS
    assert list(read_calamine(built["path"])) == SHEETS


def test_finding_rows_are_the_rounds_findings(data, built):
    expected = {f.code for f in _round_findings(data)}
    assert len(expected) == 4
    for sheets in (read_openpyxl(built["path"]), read_calamine(built["path"])):
        header, rows = table(sheets["问题清单"])
        assert header[:5] == ("序号", "问题编号", "轮次", "检查日期", "被检查单位")
        assert {r[1] for r in rows} == expected
        header, rows = table(sheets["整改台账"])
        assert "整改通知书文号" in header and "复查方式" in header and "逾期天数" in header
        assert {r[1] for r in rows} == expected


def test_the_ledger_reports_each_items_history(data, built):
    header, rows = table(read_openpyxl(built["path"])["整改台账"])
    by_code = {r[1]: dict(zip(header, r, strict=True)) for r in rows}
    today = data["today"]
    closed = by_code[data["findings"]["closed"]]
    assert closed["状态"] == "已销号"
    assert closed["复查方式"] == "现场复查" and closed["复查人"] == "李复查"
    assert closed["复查结论"] == "通过" and closed["销号人"] == "王协调"
    assert closed["复查日期"].date() == today and closed["销号日期"].date() == today
    assert closed["单位整改措施"] == PAYLOADS[1] + "已整改"
    assert closed["整改责任人"] == "赵六"
    extended = by_code[data["findings"]["extended"]]
    assert extended["延期次数"] == 1 and extended["延期后时限"] is not None
    assert extended["单位整改措施"] == "分期整改"
    findings = {r[1]: r for r in table(read_openpyxl(built["path"])["问题清单"])[1]}
    assert findings[data["findings"]["extended"]][14].endswith("…[已截断]")
    returned = by_code[data["findings"]["returned"]]
    assert returned["复查结论"] == "不通过" and returned["复查方式"] == "书面审核"
    assert returned["复查人"] == "王协调" and returned["重复问题"] == "是"
    overdue = by_code[data["findings"]["overdue"]]
    assert overdue["逾期天数"] == 17 and overdue["状态"] == "待整改"
    assert closed["逾期天数"] is None
    findings = {r[1]: r for r in table(read_openpyxl(built["path"])["问题清单"])[1]}
    assert findings[data["findings"]["overdue"]][13] == "是"  # 重大隐患
    assert "网络安全法" in findings[data["findings"]["overdue"]][11]


def test_answer_rows_are_every_answer_of_the_round(data, built):
    count = (
        db.session.query(Answer)
        .join(Inspection)
        .filter(Inspection.round_id == data["rounds"]["r3"])
        .count()
    )
    assert count == 8
    for sheets in (read_openpyxl(built["path"]), read_calamine(built["path"])):
        _header, rows = table(sheets["检查明细"])
        assert len(rows) == count


def test_summary_rows_and_total_equal_the_figures(data, built):
    scope = Scope(YEAR, round_id=data["rounds"]["r3"])
    units = figures.per_unit(scope, data["today"])
    total = figures.rectification(scope, data["today"])
    inspections = figures.inspection_counts(scope)
    for sheets in (read_openpyxl(built["path"]), read_calamine(built["path"])):
        header, rows = table(sheets["汇总"])
        assert header[:6] == ("序号", "单位编号", "单位", "单位类别", "检查次数", "问题数")
        assert [r[1] for r in rows[:-1]] == sorted(u.code for u in units)
        for row in rows[:-1]:
            unit = next(u for u in units if u.code == row[1])
            assert (row[4], row[5], row[6], row[9]) == (
                unit.inspections,
                unit.figures.findings,
                unit.figures.closed,
                unit.figures.overdue,
            )
        last = rows[-1]
        assert last[2] == "合计"
        assert (last[4], last[5], last[6], last[9], last[10]) == (
            inspections.total,
            total.findings,
            total.closed,
            total.overdue,
            total.overdue_days,
        )
        assert last[13] == pytest.approx(total.rate)


def test_statistics_tables_equal_the_figures(data, built):
    scope = Scope(YEAR, round_id=data["rounds"]["r3"])
    rows = read_openpyxl(built["path"])["统计"]
    start = rows.index(("按风险等级", None, None))
    severities = {"high": "高", "medium": "中", "low": "低"}
    expected = [(severities[k], n) for k, n in figures.findings_by(scope, "severity")]
    got = [(r[0], r[1]) for r in rows[start + 1 : start + 1 + len(expected)]]
    assert got == expected
    with __import__("zipfile").ZipFile(built["path"]) as archive:
        charts = [n for n in archive.namelist() if n.startswith("xl/charts/chart")]
    assert len(charts) == 3


def test_dates_are_dates_and_rates_are_percentages(data, built):
    from openpyxl import load_workbook

    ws = load_workbook(built["path"])["整改台账"]
    served = ws.cell(row=2, column=7)
    assert served.is_date and served.number_format == "yyyy-mm-dd"
    calamine = read_calamine(built["path"])["整改台账"]
    assert isinstance(calamine[1][6], date)
    summary = load_workbook(built["path"])["汇总"]
    assert summary.cell(row=2, column=14).number_format == "0.0%"


def test_formula_payloads_come_back_as_literal_text(data, built):
    assert formula_cells(built["path"]) == []
    for sheets in (read_openpyxl(built["path"]), read_calamine(built["path"])):
        texts = {v for rows in sheets.values() for r in rows for v in r if isinstance(v, str)}
        for payload in PAYLOADS:
            assert payload.replace("\r", "\n") in texts or payload in texts, payload


def test_awkward_text_survives_or_is_made_safe(data, built):
    for sheets in (read_openpyxl(built["path"]), read_calamine(built["path"])):
        texts = {v for rows in sheets.values() for r in rows for v in r if isinstance(v, str)}
        assert f"甲单位{EMOJI}" in texts and f"乙单位{RARE}" in texts
        assert f"表情{EMOJI}与生僻字{RARE}" in texts
        assert "控制字符" in texts and CONTROL not in texts
        long = [t for t in texts if t.startswith("长长长")]
        assert long and all(t.endswith("…[已截断]") for t in long)
        assert all(len(t.encode("utf-16-le")) // 2 <= 32_767 for t in long)
        assert LONG_NOTE not in texts


def test_progress_counts_every_row_up_to_the_total(built):
    calls = built["calls"]
    assert calls and calls[-1][0] == calls[-1][1]
    done = [c[0] for c in calls]
    assert done == sorted(done)


def test_the_progress_bar_reads_full_only_at_the_end(data, monkeypatch):
    """Each sheet added its rows to the total as it began, and a report was made whenever the
    rows reached it, so the bar read full after the first sheet (119 / 119), then fell back
    (119 / 1,296): now the findings and answers, most of the rows, are counted before the
    first row is written, and only the end reads full."""
    monkeypatch.setattr("inspect_app.exports.common.PROGRESS_EVERY", 5)
    calls = []
    path, _name, _mime = build_round(
        {"year": YEAR, "seq": 3, "locale": "zh_Hans_CN", "actor_id": data["users"]["office"]},
        lambda done, total: calls.append((done, total)),
    )
    os.unlink(path)
    reads_full_only_at_the_end(calls, Filter(round_id=data["rounds"]["r3"]))


def test_the_readme_says_who_made_it_and_when(data, built):
    rows = read_openpyxl(built["path"])["说明"]
    facts = {r[0]: r[1] for r in rows if r and r[0]}
    assert facts["生成人"] == "王协调"
    assert facts["轮次"] == "2026年第3轮"
    assert datetime.strptime(facts["生成时间"], "%Y-%m-%d %H:%M")


def test_an_empty_round_exports_its_headers(data):
    path, _name, _mime = build_round({"year": YEAR, "seq": 5, "locale": "zh_Hans_CN"}, None)
    try:
        sheets = read_calamine(path)
        assert list(sheets) == SHEETS
        assert table(sheets["问题清单"])[1] == []
        assert table(sheets["检查明细"])[1] == []
    finally:
        os.unlink(path)


def test_english_workbooks_have_english_headers(data):
    path, name, _mime = build_round({"year": YEAR, "seq": 3, "locale": "en"}, None)
    try:
        sheets = read_openpyxl(path)
        assert list(sheets)[:4] == ["About", "Summary", "Finding list", "Rectification ledger"]
        assert name == "Inspection summary 2026 round 3.xlsx"
        assert table(sheets["Rectification ledger"])[0][:2] == ("No.", "Finding ID")
    finally:
        os.unlink(path)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"year": "abc", "seq": 3}, "年份必须是 2000 到 2100 之间的整数。"),
        ({"year": YEAR, "seq": 9}, "轮次必须是 1 到 6 之间的整数。"),
        ({"year": 2031, "seq": 2}, "2031年没有第2轮检查。"),
        ({"year": YEAR, "seq": True}, "轮次必须是 1 到 6 之间的整数。"),
        ([], "导出参数无效。"),
    ],
)
def test_bad_parameters_are_refused_with_a_message(data, params, message):
    with pytest.raises(ValidationFailed) as err:
        validate_round(params)
    assert err.value.message == message


def test_validated_parameters_are_plain_json(data):
    checked = validate_round({"year": "2026", "seq": "3", "locale": "en"})
    assert checked == {"year": 2026, "seq": 3, "locale": "en", "actor_id": None}


def test_a_unit_user_may_not_export_a_round(data):
    from inspect_app.errors import NotAllowed

    with pytest.raises(NotAllowed):
        validate_round({"year": YEAR, "seq": 3, "actor_id": data["users"]["liaison1"]})
