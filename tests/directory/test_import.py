"""Excel import of units and systems: all or nothing, row errors named, re-import updates by code."""

from __future__ import annotations

import io
import zipfile
from io import BytesIO

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from inspect_app.directory import importer
from inspect_app.directory.creditcode import check_digit
from inspect_app.directory.importer import ImportRejected, import_systems, import_units
from inspect_app.errors import NotAllowed
from inspect_app.extensions import db
from inspect_app.models import AuditEvent, System, Unit
from inspect_app.xlsx import MIMETYPE

from .conftest import systems_workbook, units_workbook


def credit(n: int) -> str:
    first = f"91990000MA{n:07d}"
    return first + check_digit(first)


def unit_row(n: int, **kw) -> dict:
    row = {
        "code": f"U{n:03d}",
        "name": f"导入单位{n}",
        "kind": "事业单位",
        "is_key_unit": "是",
        "is_cii": "否",
        "credit_code": credit(n),
        "contact_name": "李四",
        "contact_phone": "0755-1234567",
        "active": "是",
    }
    row.update(kw)
    return row


def system_row(n: int, unit_code: str, **kw) -> dict:
    row = {"code": f"S{n:03d}", "name": f"系统{n}", "unit_code": unit_code, "mlps_level": 3}
    row.update(kw)
    return row


def unit_count() -> int:
    return db.session.scalar(sa.select(sa.func.count(Unit.id)))


def rejected(data: bytes, actor, kind: str = "units") -> list:
    with pytest.raises(ImportRejected) as info:
        importer.IMPORTERS[kind](data, actor=actor)
    return info.value.errors


# --- the template --------------------------------------------------------------------------------


def test_unit_template_has_chinese_headers_notes_dropdowns_and_an_example(rctx):
    wb = load_workbook(BytesIO(importer.build_template("units")))
    ws = wb["单位"]
    headers = [c.value for c in ws[1]]
    assert headers[:4] == ["单位编号*", "单位名称*", "单位类型*", "上级单位编号"]
    assert "统一社会信用代码" in headers
    assert ws["A2"].value.startswith("Unit code")
    assert ws["A1"].comment is not None
    assert ws["A3"].value == importer.EXAMPLE_CODE
    assert ws["C3"].value == "事业单位"
    formulas = {dv.formula1 for dv in ws.data_validations.dataValidation}
    assert '"是,否"' in formulas
    assert any("党政机关" in f for f in formulas)


def test_system_template_offers_mlps_levels_one_to_five(rctx):
    ws = load_workbook(BytesIO(importer.build_template("systems")))["重要系统"]
    assert [c.value for c in ws[1]][:4] == ["系统编号*", "系统名称*", "所属单位编号*", "等保级别*"]
    assert '"1,2,3,4,5"' in {dv.formula1 for dv in ws.data_validations.dataValidation}


def test_the_untouched_template_imports_nothing_because_the_example_is_skipped(rctx, make):
    actor = make.user(role="coordinator")
    errors = rejected(importer.build_template("units"), actor)
    assert [e.message for e in errors] == ["文件中没有数据行。"]


def test_a_filled_in_template_imports(rctx, make):
    actor = make.user(role="coordinator")
    wb = load_workbook(BytesIO(importer.build_template("units")))
    wb["单位"].append(["DW9", "模板单位", "国有企业", None, "是"])
    out = BytesIO()
    wb.save(out)
    report = import_units(out.getvalue(), actor=actor)
    assert (report.created, report.rows) == (1, 1)
    unit = db.session.scalar(sa.select(Unit).where(Unit.code == "DW9"))
    assert unit.kind == "soe" and unit.is_key_unit and unit.active


# --- units ---------------------------------------------------------------------------------------


def test_a_unit_file_with_one_bad_row_among_50_writes_nothing_and_names_row_and_column(rctx, make):
    actor = make.user(role="coordinator")
    rows = [unit_row(n) for n in range(1, 51)]
    rows[36]["credit_code"] = "91990000MA0000037X"  # wrong check digit; sheet row 38
    before = unit_count()
    errors = rejected(units_workbook(rows), actor)
    assert [(e.row, e.column) for e in errors] == [(38, "统一社会信用代码")]
    assert "校验位" in errors[0].message
    assert unit_count() == before
    assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id))) == 0


def test_a_good_unit_file_is_written_in_one_go_with_audit_events(rctx, make):
    actor = make.user(role="coordinator")
    report = import_units(
        units_workbook([unit_row(n) for n in range(1, 6)]), actor=actor, filename="a.xlsx"
    )
    assert (report.rows, report.created, report.updated, report.unchanged) == (5, 5, 0, 0)
    actions = db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["unit.create"] * 5 + ["unit.import"]
    summary = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "unit.import"))
    assert summary.after["created"] == 5 and summary.after["filename"] == "a.xlsx"
    assert summary.actor_id == actor.id


def test_reimport_updates_rows_by_code_instead_of_duplicating(rctx, make):
    actor = make.user(role="coordinator")
    import_units(units_workbook([unit_row(n) for n in range(1, 4)]), actor=actor)
    rows = [unit_row(n) for n in range(1, 4)] + [unit_row(4)]
    rows[1]["name"] = "改名后的单位"
    rows[2]["is_cii"] = "Y"
    report = import_units(units_workbook(rows), actor=actor)
    assert (report.created, report.updated, report.unchanged) == (1, 2, 1)
    assert unit_count() == 4
    renamed = db.session.scalar(sa.select(Unit).where(Unit.code == "U002"))
    assert renamed.name == "改名后的单位"
    update = db.session.scalar(
        sa.select(AuditEvent).where(
            AuditEvent.action == "unit.update", AuditEvent.object_id == str(renamed.id)
        )
    )
    assert update.before == {"name": "导入单位2"} and update.after == {"name": "改名后的单位"}


def test_a_code_in_other_letters_case_updates_the_unit_it_names(rctx, make):
    """To people U002 and u002 are one code (the form refuses such twins): a re-import typed in
    lower case updates the unit, under the code as the directory spells it."""
    actor = make.user(role="coordinator")
    import_units(units_workbook([unit_row(n) for n in range(1, 3)]), actor=actor)
    row = unit_row(2, code="u002", name="改名后的单位")
    report = import_units(units_workbook([row]), actor=actor)
    assert (report.created, report.updated, report.unchanged) == (0, 1, 0)
    assert unit_count() == 2
    unit = db.session.scalar(sa.select(Unit).where(Unit.name == "改名后的单位"))
    assert unit.code == "U002"


def test_codes_differing_only_in_letters_case_in_one_file_are_duplicates(rctx, make):
    actor = make.user(role="coordinator")
    rows = [unit_row(1), unit_row(2), unit_row(3, code="u001")]
    errors = rejected(units_workbook(rows), actor)
    assert [(e.row, e.column) for e in errors] == [(4, "单位编号")]
    assert unit_count() == 0


def test_a_parent_code_in_other_letters_case_finds_its_unit(rctx, make):
    actor = make.user(role="coordinator")
    make.unit(code="TOP")
    rows = [unit_row(1, parent_code="u002"), unit_row(2, parent_code="top")]
    import_units(units_workbook(rows), actor=actor)
    child = db.session.scalar(sa.select(Unit).where(Unit.code == "U001"))
    assert child.parent.code == "U002" and child.parent.parent.code == "TOP"


def test_a_parent_loop_through_codes_in_other_letters_case_is_reported(rctx, make):
    actor = make.user(role="coordinator")
    rows = [unit_row(1, parent_code="u002"), unit_row(2, parent_code="u001")]
    errors = rejected(units_workbook(rows), actor)
    assert {(e.row, e.column) for e in errors} == {(2, "上级单位编号"), (3, "上级单位编号")}
    assert all("形成循环" in e.message for e in errors)


def test_a_units_own_credit_code_under_its_code_in_other_case_is_not_taken(rctx, make):
    actor = make.user(role="coordinator")
    import_units(units_workbook([unit_row(1)]), actor=actor)
    report = import_units(
        units_workbook([unit_row(1, code="u001", contact_name="王五")]), actor=actor
    )
    assert (report.created, report.updated) == (0, 1)


@pytest.mark.parametrize("named", ["U001", "u001"])
def test_codes_twinned_by_case_before_the_rule_are_matched_exactly(rctx, make, named):
    """U001 and u001 stored before codes were unique whatever their case: a row names the one
    it spells exactly (the folded match took whichever the database returned last, and could
    rename the other unit, or give it a system)."""
    actor = make.user(role="coordinator")
    ids = {u.code: u.id for u in (make.unit(code="U001"), make.unit(code="u001"))}
    import_units(units_workbook([unit_row(1, code=named, name="改名")]), actor=actor)
    assert db.session.scalar(sa.select(Unit.id).where(Unit.name == "改名")) == ids[named]
    import_systems(systems_workbook([system_row(1, named)]), actor=actor)
    assert db.session.scalar(sa.select(System.unit_id)) == ids[named]
    import_units(units_workbook([unit_row(2, parent_code=named)]), actor=actor)
    child = db.session.scalar(sa.select(Unit).where(Unit.code == "U002"))
    assert child.parent_id == ids[named]


def test_a_code_twinned_by_case_named_in_a_third_spelling_is_refused_as_ambiguous(rctx, make):
    actor = make.user(role="coordinator")
    make.unit(code="Ab01")
    make.unit(code="aB01")
    for data, kind, column in (
        (units_workbook([unit_row(1, code="AB01")]), "units", "单位编号"),
        (units_workbook([unit_row(2, parent_code="ab01")]), "units", "上级单位编号"),
        (systems_workbook([system_row(1, "AB01")]), "systems", "所属单位编号"),
    ):
        errors = rejected(data, actor, kind)
        assert [e.column for e in errors] == [column]
        assert "Ab01" in errors[0].message and "aB01" in errors[0].message
    assert unit_count() == 2


def test_parent_units_may_come_later_in_the_same_file_or_from_the_directory(rctx, make):
    actor = make.user(role="coordinator")
    make.unit(code="TOP")
    rows = [unit_row(1, parent_code="U002"), unit_row(2, parent_code="TOP")]
    import_units(units_workbook(rows), actor=actor)
    child = db.session.scalar(sa.select(Unit).where(Unit.code == "U001"))
    assert child.parent.code == "U002" and child.parent.parent.code == "TOP"


def test_unknown_parent_unit_is_reported(rctx, make):
    actor = make.user(role="coordinator")
    errors = rejected(units_workbook([unit_row(1, parent_code="NOPE")]), actor)
    assert [(e.row, e.column) for e in errors] == [(2, "上级单位编号")]
    assert "NOPE" in errors[0].message


def test_parent_loops_are_reported(rctx, make):
    actor = make.user(role="coordinator")
    rows = [unit_row(1, parent_code="U002"), unit_row(2, parent_code="U001")]
    errors = rejected(units_workbook(rows), actor)
    assert {(e.row, e.column) for e in errors} == {(2, "上级单位编号"), (3, "上级单位编号")}


def test_duplicate_codes_in_the_file_are_reported_with_the_first_row(rctx, make):
    actor = make.user(role="coordinator")
    rows = [unit_row(1), unit_row(2), unit_row(3, code="U001")]
    errors = rejected(units_workbook(rows), actor)
    assert [(e.row, e.column) for e in errors] == [(4, "单位编号")]
    assert "第2行" in errors[0].message


def test_a_credit_code_already_held_by_another_unit_is_reported(rctx, make):
    actor = make.user(role="coordinator")
    make.unit(code="OLD", credit_code=credit(7))
    errors = rejected(units_workbook([unit_row(1, credit_code=credit(7))]), actor)
    assert [(e.row, e.column) for e in errors] == [(2, "统一社会信用代码")]


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("是", True),
        ("否", False),
        ("Y", True),
        ("n", False),
        ("TRUE", True),
        ("false", False),
        (1, True),
        (0, False),
        (None, False),
    ],
)
def test_yes_no_columns_accept_common_spellings(rctx, make, word, expected):
    actor = make.user(role="coordinator")
    import_units(units_workbook([unit_row(1, has_website=word)]), actor=actor)
    assert db.session.scalar(sa.select(Unit.has_website).where(Unit.code == "U001")) is expected


def test_every_bad_cell_is_reported_not_just_the_first(rctx, make):
    actor = make.user(role="coordinator")
    rows = [
        unit_row(1, is_key_unit="也许"),
        unit_row(2, kind="外星机构", name=""),
        unit_row(3, inspection_cap="三次", contact_email="not-an-address"),
    ]
    errors = rejected(units_workbook(rows), actor)
    assert [(e.row, e.column) for e in errors] == [
        (2, "重点单位"),
        (3, "单位名称"),
        (3, "单位类型"),
        (4, "联系邮箱"),
        (4, "年度检查上限"),
    ]
    assert unit_count() == 0


def test_missing_header_columns_are_named(rctx, make):
    actor = make.user(role="coordinator")
    headers = [c.header for c in importer.UNIT_COLUMNS if c.key not in ("kind", "active")]
    errors = rejected(units_workbook([], headers=headers), actor)
    assert {(e.row, e.column) for e in errors} == {(1, "单位类型"), (1, "在用")}


def test_headers_marked_required_with_a_star_and_extra_columns_are_accepted(rctx, make):
    actor = make.user(role="coordinator")
    headers = [c.header + ("*" if c.required else "") for c in importer.UNIT_COLUMNS] + ["备注"]
    data = units_workbook([unit_row(1)], headers=headers)
    assert import_units(data, actor=actor).created == 1


def test_blank_rows_are_skipped_and_row_numbers_stay_those_excel_shows(rctx, make):
    actor = make.user(role="coordinator")
    rows = [unit_row(1), {}, {}, unit_row(2, kind="???")]
    errors = rejected(units_workbook(rows), actor)
    assert [(e.row, e.column) for e in errors] == [(5, "单位类型")]


def test_an_empty_upload_is_refused(rctx, make):
    errors = rejected(b"", make.user(role="coordinator"))
    assert errors[0].row is None and "空" in errors[0].message


def test_a_file_that_is_not_a_zip_is_refused(rctx, make):
    errors = rejected(b'ID;P\nC;Y1;X1;K"code"\nE\n', make.user(role="coordinator"))
    assert "xlsx" in errors[0].message


def test_a_zip_that_is_not_a_workbook_is_refused(rctx, make):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("word/document.xml", "<w/>")
        archive.writestr("[Content_Types].xml", "<Types/>")
    errors = rejected(buf.getvalue(), make.user(role="coordinator"))
    assert "xlsx" in errors[0].message


def test_a_header_only_file_has_no_data_rows(rctx, make):
    errors = rejected(units_workbook([]), make.user(role="coordinator"))
    assert errors[0].message == "文件中没有数据行。"


def test_a_workbook_without_the_units_sheet_is_refused(rctx, make):
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.title = "汇总"
    wb.create_sheet("其他")
    out = BytesIO()
    wb.save(out)
    errors = rejected(out.getvalue(), make.user(role="coordinator"))
    assert "单位" in errors[0].message and "汇总" in errors[0].message


def test_the_systems_file_uploaded_as_units_is_recognised(rctx, make):
    errors = rejected(
        systems_workbook([system_row(1, "U001")], sheet="Sheet1"), make.user(role="coordinator")
    )
    assert len(errors) == 1 and errors[0].row is None


def test_a_file_over_the_size_limit_is_refused(rctx, make, app, monkeypatch):
    monkeypatch.setitem(app.config, "DIRECTORY_IMPORT_MAX_BYTES", 1024 * 1024)
    errors = rejected(b"PK" + b"\0" * (1024 * 1024), make.user(role="coordinator"))
    assert "1 MB" in errors[0].message


def test_viewers_may_not_import(rctx, make):
    with pytest.raises(NotAllowed):
        import_units(units_workbook([unit_row(1)]), actor=make.user(role="viewer"))


# --- systems -------------------------------------------------------------------------------------


def test_systems_import_with_an_unknown_unit_code_writes_nothing(rctx, make):
    actor = make.user(role="coordinator")
    make.unit(code="U001")
    rows = [system_row(1, "U001"), system_row(2, "GHOST")]
    errors = rejected(systems_workbook(rows), actor, "systems")
    assert [(e.row, e.column) for e in errors] == [(3, "所属单位编号")]
    assert "GHOST" in errors[0].message
    assert db.session.scalar(sa.select(sa.func.count(System.id))) == 0


@pytest.mark.parametrize("level", [0, 6, "高", 2.5])
def test_systems_import_refuses_mlps_levels_outside_one_to_five(rctx, make, level):
    actor = make.user(role="coordinator")
    make.unit(code="U001")
    errors = rejected(systems_workbook([system_row(1, "U001", mlps_level=level)]), actor, "systems")
    assert [(e.row, e.column) for e in errors] == [(2, "等保级别")]


@pytest.mark.parametrize(
    ("level", "expected"), [(3, 3), ("2", 2), ("第三级", 3), ("四级", 4), (5.0, 5)]
)
def test_systems_import_reads_mlps_levels_written_in_common_ways(rctx, make, level, expected):
    actor = make.user(role="coordinator")
    make.unit(code="U001")
    import_systems(systems_workbook([system_row(1, "U001", mlps_level=level)]), actor=actor)
    assert db.session.scalar(sa.select(System.mlps_level)) == expected


def test_systems_reimport_updates_by_code_and_can_move_a_system(rctx, make):
    actor = make.user(role="coordinator")
    make.unit(code="U001")
    make.unit(code="U002")
    import_systems(systems_workbook([system_row(1, "U001"), system_row(2, "U001")]), actor=actor)
    rows = [system_row(1, "U002", internet_facing="是"), system_row(2, "U001")]
    report = import_systems(systems_workbook(rows), actor=actor)
    assert (report.created, report.updated, report.unchanged) == (0, 1, 1)
    systems = db.session.scalars(sa.select(System).order_by(System.code)).all()
    assert [(s.code, s.unit.code, s.internet_facing) for s in systems] == [
        ("S001", "U002", True),
        ("S002", "U001", False),
    ]
    update = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "system.update"))
    assert update.after == {"unit_code": "U002", "internet_facing": True}


def test_systems_codes_match_whatever_their_letters_case(rctx, make):
    actor = make.user(role="coordinator")
    make.unit(code="U001")
    make.unit(code="U002")
    import_systems(systems_workbook([system_row(1, "U001")]), actor=actor)
    report = import_systems(systems_workbook([system_row(1, "u002", code="s001")]), actor=actor)
    assert (report.created, report.updated, report.unchanged) == (0, 1, 0)
    [system] = db.session.scalars(sa.select(System)).all()
    assert (system.code, system.unit.code) == ("S001", "U002")
    errors = rejected(
        systems_workbook([system_row(2, "U001"), system_row(3, "U001", code="s002")]),
        actor,
        "systems",
    )
    assert [(e.row, e.column) for e in errors] == [(3, "系统编号")]


def test_systems_import_reports_duplicate_codes_and_missing_names(rctx, make):
    actor = make.user(role="coordinator")
    make.unit(code="U001")
    rows = [system_row(1, "U001"), system_row(1, "U001", name="")]
    errors = rejected(systems_workbook(rows), actor, "systems")
    assert sorted((e.row, e.column) for e in errors) == [(3, "系统名称"), (3, "系统编号")]


# --- through the pages ---------------------------------------------------------------------------


def _upload(browser, kind: str, data: bytes, name: str = "file.xlsx"):
    return browser.post(
        f"/directory/{kind}/import",
        {"file": (BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def test_the_import_page_shows_a_table_of_row_errors_and_writes_nothing(login_as, app):
    b = login_as("coordinator")
    rows = [unit_row(n) for n in range(1, 51)]
    rows[9]["kind"] = "未知"
    response = _upload(b, "units", units_workbook(rows))
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "<td>11</td><td>单位类型</td>" in html
    assert "未导入任何数据" in html
    with app.app_context():
        assert unit_count() == 0


def test_a_good_upload_redirects_with_the_counts(login_as, app):
    b = login_as("coordinator")
    response = _upload(b, "units", units_workbook([unit_row(1), unit_row(2)]))
    assert response.status_code == 302
    html = b.get(response.headers["Location"]).get_data(as_text=True)
    assert "新增 2" in html
    with app.app_context():
        assert unit_count() == 2


def test_the_upload_must_be_named_xlsx(login_as):
    b = login_as("coordinator")
    response = _upload(b, "units", units_workbook([unit_row(1)]), name="units.xls")
    assert response.status_code == 400
    assert "xlsx" in response.get_data(as_text=True)


def test_the_upload_needs_a_csrf_token(login_as):
    b = login_as("coordinator")
    response = b.client.post(
        "/directory/units/import",
        data={"file": (BytesIO(units_workbook([unit_row(1)])), "u.xlsx")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400


def test_row_errors_are_in_english_for_english_users(login_as):
    b = login_as("coordinator", locale="en")
    response = _upload(b, "units", units_workbook([unit_row(1, is_cii="maybe")]))
    html = response.get_data(as_text=True)
    assert "Enter 是 or 否" in html and "Nothing was imported" in html


def test_the_template_downloads_as_an_xlsx_attachment(login_as):
    response = login_as("coordinator").get("/directory/systems/import/template")
    assert response.status_code == 200
    assert response.mimetype == MIMETYPE
    assert "attachment" in response.headers["Content-Disposition"]
    wb = load_workbook(BytesIO(response.data))
    assert [c.value for c in wb["重要系统"][1]][0] == "系统编号*"
