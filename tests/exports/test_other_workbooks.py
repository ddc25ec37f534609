"""The year workbook, a unit's ledger and an inspection's record; the CLI; LibreOffice opens
every workbook (converted to PDF headless)."""

from __future__ import annotations

import os
import shutil
import subprocess
import zipfile

import pytest

from inspect_app.errors import NotFound
from inspect_app.exports import (
    build_inspection,
    build_round,
    build_unit_ledger,
    build_year,
    validate_unit_ledger,
)
from inspect_app.exports.sheets import Filter
from inspect_app.extensions import db
from inspect_app.models import Finding, Inspection, Round, User
from inspect_app.reports import figures
from inspect_app.reports.figures import Scope

from .conftest import (
    YEAR,
    formula_cells,
    read_calamine,
    read_openpyxl,
    reads_full_only_at_the_end,
    table,
)


@pytest.fixture
def cleanup():
    made = []
    yield made
    for path in made:
        if os.path.exists(path):
            os.unlink(path)


def test_the_year_workbook_holds_the_year(data, cleanup):
    path, name, _mime = build_year({"year": YEAR, "locale": "zh_Hans_CN"}, None)
    cleanup.append(path)
    assert name == "2026年网络安全检查年度汇总.xlsx"
    for sheets in (read_openpyxl(path), read_calamine(path)):
        assert list(sheets) == [
            "说明",
            "年度汇总",
            "趋势",
            "通报数据",
            "统计",
            "重复问题",
            "问题清单",
            "整改台账",
            "检查明细",
        ]
        year_findings = (
            db.session.query(Finding).join(Inspection).join(Round).filter(Round.year == YEAR)
        )
        assert len(table(sheets["问题清单"])[1]) == year_findings.count() == 5
        assert len(table(sheets["整改台账"])[1]) == 5
        trend = table(sheets["趋势"])[1]
        rounds = figures.per_round(Scope(YEAR), data["today"])
        assert [r[0] for r in trend] == [f"第{r.seq}轮" for r in rounds]
        assert [r[6] for r in trend] == [r.figures.findings for r in rounds]
        repeats = table(sheets["重复问题"])[1]
        assert [(r[1], r[9]) for r in repeats] == [
            (data["findings"]["returned"], data["findings"]["earlier"])
        ]
        units = table(sheets["年度汇总"])[1]
        assert units[-1][2] == "合计"
        assert units[-1][-6] == figures.rectification(Scope(YEAR), data["today"]).findings
    with zipfile.ZipFile(path) as archive:
        assert sum(n.startswith("xl/charts/chart") for n in archive.namelist()) == 4
    assert formula_cells(path) == []


def test_a_units_ledger_holds_only_its_unit(data, cleanup):
    liaison = data["users"]["liaison1"]
    path, name, _mime = build_unit_ledger(
        {"unit": data["unit_codes"]["u1"], "year": YEAR, "actor_id": liaison}, None
    )
    cleanup.append(path)
    assert name.endswith("2026年整改台账.xlsx")
    expected = {f.code for f in db.session.query(Finding).filter_by(unit_id=data["units"]["u1"])}
    for sheets in (read_openpyxl(path), read_calamine(path)):
        assert list(sheets) == ["说明", "问题清单", "整改台账"]
        rows = table(sheets["整改台账"])[1]
        assert {r[1] for r in rows} == expected
        assert {r[2] for r in rows} == {"甲单位已加固🔒"}


def test_a_unit_user_cannot_export_another_units_ledger(data):
    with pytest.raises(NotFound):
        validate_unit_ledger(
            {"unit": data["unit_codes"]["u2"], "year": YEAR, "actor_id": data["users"]["liaison1"]}
        )
    with pytest.raises(NotFound):
        build_unit_ledger(
            {"unit": "NO-SUCH", "year": YEAR, "actor_id": data["users"]["office"]}, None
        )


def test_an_inspection_record_holds_its_answers_and_findings(data, cleanup):
    path, _name, _mime = build_inspection(
        {"inspection_id": data["inspections"]["i1"], "actor_id": data["users"]["inspector"]},
        None,
    )
    cleanup.append(path)
    sheets = read_calamine(path)
    assert list(sheets) == ["说明", "检查明细", "问题清单", "整改台账"]
    assert len(table(sheets["检查明细"])[1]) == 4
    assert {r[1] for r in table(sheets["问题清单"])[1]} == {
        data["findings"]["overdue"],
        data["findings"]["closed"],
    }


def test_a_unit_user_cannot_export_another_units_inspection(data):
    with pytest.raises(NotFound):
        build_inspection(
            {"inspection_id": data["inspections"]["i2"], "actor_id": data["users"]["liaison1"]},
            None,
        )


def test_the_cli_writes_the_round_workbook(app, data, tmp_path):
    out = tmp_path / "r3.xlsx"
    result = app.test_cli_runner().invoke(args=["export", "round", "2026", "3", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert list(read_calamine(out))[:3] == ["说明", "汇总", "问题清单"]
    out = tmp_path / "y.xlsx"
    result = app.test_cli_runner().invoke(args=["export", "year", "2026", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.stat().st_size > 0


def test_the_cli_names_an_unknown_round_and_exits_1(app, data, tmp_path):
    out = tmp_path / "x.xlsx"
    result = app.test_cli_runner().invoke(args=["export", "round", "2031", "2", "-o", str(out)])
    assert result.exit_code == 1
    assert "2031年没有第2轮检查。" in result.output
    assert not out.exists()


def _soffice() -> str | None:
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found is None and os.environ.get("REQUIRE_LIBREOFFICE") == "1":
        pytest.fail("LibreOffice (soffice) is required: apt-get install libreoffice-calc-nogui")
    return found


def test_libreoffice_converts_every_workbook_to_pdf(data, tmp_path, cleanup):
    soffice = _soffice()
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    office = data["users"]["office"]
    built = [
        build_round({"year": YEAR, "seq": 3, "actor_id": office}, None),
        build_round({"year": YEAR, "seq": 5, "actor_id": office}, None),
        build_year({"year": YEAR, "actor_id": office}, None),
        build_unit_ledger({"unit": data["unit_codes"]["u2"], "year": YEAR}, None),
        build_inspection({"inspection_id": data["inspections"]["i1"]}, None),
    ]
    files = []
    for n, (path, _name, _mime) in enumerate(built):
        cleanup.append(path)
        target = tmp_path / f"book{n}.xlsx"
        shutil.copy(path, target)
        files.append(target)
    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation=file://{tmp_path}/profile",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            *map(str, files),
        ],
        check=True,
        capture_output=True,
        timeout=240,
    )
    for target in files:
        pdf = target.with_suffix(".pdf")
        assert pdf.exists() and pdf.read_bytes().startswith(b"%PDF"), target.name


def test_a_choice_answer_is_written_as_its_label(ctx, make, cleanup):
    """检查明细 wrote the value a choice stores ("yearly"), not what the inspector chose (每年)."""
    from inspect_app.inspections import answering

    from ..inspections.conftest import change

    options = [{"value": "yearly", "label": "每年", "label_en": "Yearly"}]
    template = make.template(
        key="CHX",
        items=[{"code": "C-01", "text": "多久一次？", "kind": "choice", "options": options}],
    )
    inspection = make.inspection(template=template)
    lead = db.session.get(User, inspection.lead_id)
    answering.apply_changes(
        inspection.id, [change(template.items[0].id, value="yearly")], actor=lead
    )
    for locale, shown in (("zh_Hans_CN", "每年"), ("en", "Yearly")):
        path, _name, _mime = build_inspection(
            {"inspection_id": inspection.id, "locale": locale}, None
        )
        cleanup.append(path)
        header, rows = table(list(read_calamine(path).values())[1])
        column = header.index("填写值" if locale != "en" else "Value entered")
        assert [r[column] for r in rows] == [shown]


def test_the_report_figures_sheet_states_what_the_annual_report_states(data, cleanup):
    """The sheet said 6 rounds and 16 units inspected where the 通报 said 5 rounds held and 14
    units covered: the same headings, other definitions."""
    from inspect_app.dashboard.services import annual_report

    path, _name, _mime = build_year({"year": YEAR, "locale": "zh_Hans_CN"}, None)
    cleanup.append(path)
    rows = {r[0]: r[1:] for r in read_calamine(path)["通报数据"][1:] if r and r[0]}
    report = annual_report(YEAR, data["today"])
    assert rows["开展检查轮次"][0] == len(report.rounds_held)
    c = report.coverage
    for name, count, rate in (
        ("检查覆盖单位", c.units, c.rate),
        ("检查覆盖重点单位", c.key_units, c.key_rate),
    ):
        assert (rows[name][0], rows[name][1] or None) == (count, rate), name  # no rate: empty
    assert rows["计划检查"][0] == report.inspections.total


def test_lead_departments_are_named_not_coded(data, cleanup):
    """问题清单 and 统计 wrote CAC / PSB where 通报数据 wrote the departments' names."""
    path, _name, _mime = build_year({"year": YEAR, "locale": "zh_Hans_CN"}, None)
    cleanup.append(path)
    sheets = read_calamine(path)
    header, rows = table(sheets["问题清单"])
    leads = {r[header.index("牵头部门")] for r in rows}
    assert leads and leads <= {"网信", "公安"}, leads
    cells = {c for row in sheets["统计"] for c in row if isinstance(c, str)}
    assert {"网信", "公安"} & cells and not {"CAC", "PSB"} & cells


def test_the_year_workbooks_progress_bar_reads_full_only_at_the_end(data, monkeypatch):
    monkeypatch.setattr("inspect_app.exports.common.PROGRESS_EVERY", 5)
    calls = []
    path, _name, _mime = build_year(
        {"year": YEAR, "locale": "zh_Hans_CN"}, lambda done, total: calls.append((done, total))
    )
    os.unlink(path)
    reads_full_only_at_the_end(calls, Filter(year=YEAR))
