"""Coordinator pages: versions list, preview with applicability, diff, upload check, downloads, rights."""

from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from inspect_app.checklists import services, xlsx
from inspect_app.extensions import db
from inspect_app.models import ChecklistTemplate
from inspect_app.xlsx import MIMETYPE

from .conftest import SYSTEM_OK, UNIT_OK


@pytest.fixture
def loaded(app):
    """Both fixture templates loaded; returns {key: template id}."""
    with app.app_context():
        services.load_paths([str(UNIT_OK), str(SYSTEM_OK)])
        return {t.key: t.id for t in db.session.scalars(sa.select(ChecklistTemplate))}


@pytest.fixture
def coordinator(login_as):
    return login_as("coordinator")


def applies_map(html: str) -> dict[str, str]:
    return dict(re.findall(r'data-code="([^"]+)" data-applies="(yes|no)"', html))


def test_index_lists_templates_versions_and_item_counts(coordinator, loaded):
    html = coordinator.get("/checklists/?lang=en").get_data(as_text=True)
    assert "TESTU" in html and "TESTS" in html
    row = re.search(
        r'TESTU.*?<td><a href="/checklists/\d+">2026.1</a></td>\s*<td>(\d+)</td>', html, re.S
    )
    assert row and row.group(1) == "8"


def test_index_in_chinese_by_default(coordinator, loaded):
    html = coordinator.get("/checklists/").get_data(as_text=True)
    assert 'lang="zh-CN"' in html and "检查清单" in html


def test_preview_for_a_level_2_system_hides_level_3_only_items(app, coordinator, loaded, make):
    with app.app_context():
        level2 = make.system(mlps_level=2).id
        level3 = make.system(mlps_level=3).id
    html = coordinator.get(f"/checklists/{loaded['TESTS']}?system_id={level2}&lang=en").get_data(
        as_text=True
    )
    assert applies_map(html) == {
        "TESTS-01": "yes",
        "TESTS-02": "no",
        "TESTS-03": "no",
        "TESTS-04": "no",
    }
    assert "Not applicable here" in html and "MLPS level ≥ 3" in html
    assert "1 of 4 items apply" in html
    # The items that do not apply are folded away behind one summary, not shown among the rest.
    hidden = html[html.index('<details class="ck-na-list">') :]
    assert 'data-code="TESTS-02"' in hidden and 'data-code="TESTS-01"' not in hidden
    html = coordinator.get(f"/checklists/{loaded['TESTS']}?system_id={level3}&lang=en").get_data(
        as_text=True
    )
    assert applies_map(html)["TESTS-02"] == "yes"


def test_preview_for_a_cii_unit_shows_the_cii_items(app, coordinator, loaded, make):
    with app.app_context():
        cii = make.unit(is_cii=True, kind="soe").id
        plain = make.unit(has_website=True, kind="party_gov").id
    html = coordinator.get(f"/checklists/{loaded['TESTU']}?unit_id={cii}&lang=en").get_data(
        as_text=True
    )
    assert applies_map(html)["TESTU-CII-01"] == "yes"
    assert applies_map(html)["TESTU-WEB-01"] == "no"
    html = coordinator.get(f"/checklists/{loaded['TESTU']}?unit_id={plain}&lang=en").get_data(
        as_text=True
    )
    assert applies_map(html)["TESTU-CII-01"] == "no"
    assert applies_map(html)["TESTU-WEB-01"] == "yes"


def test_preview_marks_conditional_items_and_renders_answers(coordinator, loaded):
    html = coordinator.get(f"/checklists/{loaded['TESTU']}?lang=en").get_data(as_text=True)
    assert "data-applies" in html and "Not applicable here" not in html  # nothing chosen: all shown
    assert "Conditional: shown only if TESTU-02 = never" in html
    assert 'class="card ck-item ck-conditional"' in html
    assert "Compliant" in html and "Non-compliant" in html  # yes/no answers
    assert "Yearly" in html  # choice options
    assert "网络安全法 第23条 (formerly 第21条)" in html
    assert 'style="' not in html and "<script>" not in html


def test_every_preview_input_has_a_label(coordinator, loaded):
    html = coordinator.get(f"/checklists/{loaded['TESTU']}").get_data(as_text=True)
    tags = re.findall(r"<(?:input|select|textarea)[^>]*>", html)
    ids = [re.search(r'\bid="([^"]+)"', t).group(1) for t in tags if 'type="hidden"' not in t]
    assert ids
    for ident in ids:
        assert f'for="{ident}"' in html, ident


def test_diff_between_versions(app, coordinator, loaded, tmp_path):
    text = (
        UNIT_OK.read_text(encoding="utf-8")
        .replace('version: "2026.1"', 'version: "2026.2"')
        .replace("severity: low\n", "severity: high\n")
        .replace("      - code: TESTU-06\n", "      - code: TESTU-07\n")
    )
    path = tmp_path / "v2.yaml"
    path.write_text(text, encoding="utf-8")
    with app.app_context():
        new_id = services.load_paths([str(path)])[0].template_id
    html = coordinator.get(f"/checklists/diff?old={loaded['TESTU']}&new={new_id}&lang=en").get_data(
        as_text=True
    )
    assert "Items added (1)" in html and "TESTU-07" in html
    assert "Items removed (1)" in html and "TESTU-06" in html
    assert "Items changed (1)" in html and "TESTU-02" in html
    assert re.search(
        r"Severity</td><td class=\"diff-old\">Low</td><td class=\"diff-new\">High", html
    )
    index = coordinator.get("/checklists/?lang=en").get_data(as_text=True)
    assert "Changes since 2026.1" in index


def test_download_xlsx_and_yaml(coordinator, loaded):
    response = coordinator.get(f"/checklists/{loaded['TESTU']}.xlsx")
    assert response.status_code == 200
    assert response.mimetype == MIMETYPE
    assert "TESTU_2026.1.xlsx" in response.headers["Content-Disposition"]
    wb = load_workbook(io.BytesIO(response.data))
    assert wb.sheetnames == ["settings", "items", "options"]
    response = coordinator.get(f"/checklists/{loaded['TESTS']}.yaml")
    assert response.status_code == 200 and b"key: TESTS" in response.data


def _upload(browser, raw: bytes, name: str, action: str):
    return browser.post(
        "/checklists/upload?lang=en",
        {"file": (io.BytesIO(raw), name), "action": action},
        content_type="multipart/form-data",
    )


def test_upload_check_shows_problems_and_saves_nothing(app, coordinator, loaded):
    with app.app_context():
        raw = xlsx.build_workbook(services.find_version("TESTU").definition)
    wb = load_workbook(io.BytesIO(raw))
    wb["items"]["I3"] = "urgent"
    wb.remove(wb["options"])
    out = io.BytesIO()
    wb.save(out)
    for action in ("check", "load"):
        response = _upload(coordinator, out.getvalue(), "mine.xlsx", action)
        html = response.get_data(as_text=True)
        assert response.status_code == 422
        assert "sheet options is missing" in html and "mine.xlsx cannot be loaded" in html
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(ChecklistTemplate.id))) == 2


def test_upload_check_of_a_good_new_version_shows_changes_then_loads(app, coordinator, loaded):
    text = (
        UNIT_OK.read_text(encoding="utf-8")
        .replace('version: "2026.1"', 'version: "2026.2"')
        .replace("从未", "从来没有")
    )
    response = _upload(coordinator, text.encode(), "v2.yaml", "check")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert (
        "No problems found in v2.yaml" in html
        and "New version; the latest loaded is 2026.1" in html
    )
    assert "Items changed (1)" in html
    with app.app_context():
        assert services.find_version("TESTU", "2026.2") is None
    response = _upload(coordinator, text.encode(), "v2.yaml", "load")
    assert response.status_code == 302
    with app.app_context():
        t = services.find_version("TESTU", "2026.2")
        assert t is not None and t.source_path == "v2.yaml"


def test_upload_of_bad_yaml_names_the_line(coordinator, loaded):
    html = _upload(coordinator, b"key: TESTU\nversion: [\n", "bad.yaml", "check").get_data(
        as_text=True
    )
    assert "line 3, column 1" in html and "YAML syntax error" in html


def test_upload_requires_a_file(coordinator):
    response = coordinator.post("/checklists/upload?lang=en", {"action": "check"})
    assert response.status_code == 400 and "Choose a file to upload." in response.get_data(
        as_text=True
    )


def test_delete_an_unused_version(app, coordinator, loaded):
    response = coordinator.post(f"/checklists/{loaded['TESTS']}/delete")
    assert response.status_code == 302
    with app.app_context():
        assert services.find_version("TESTS") is None


def test_deleting_a_used_version_is_a_conflict(app, coordinator, loaded, make):
    from inspect_app.models import Inspection

    with app.app_context():
        rnd, unit = make.round(), make.unit()
        visit = make.visit(unit=unit, round=rnd)
        db.session.add(
            Inspection(
                round_id=rnd.id, visit_id=visit.id, unit_id=unit.id, template_id=loaded["TESTS"]
            )
        )
        db.session.commit()
    response = coordinator.post(f"/checklists/{loaded['TESTS']}/delete?lang=en")
    assert response.status_code == 409
    assert "used by an inspection" in response.get_data(as_text=True)
    html = coordinator.get(f"/checklists/{loaded['TESTS']}?lang=en").get_data(as_text=True)
    assert "Delete this version" not in html and "this version can no longer change" in html


def test_unknown_version_is_404(coordinator):
    assert coordinator.get("/checklists/999999").status_code == 404
    assert coordinator.get("/checklists/diff?old=1&new=999999").status_code == 404


@pytest.mark.parametrize("role", ["inspector", "viewer"])
def test_readers_may_open_checklists_but_only_the_office_changes_them(login_as, loaded, role):
    browser = login_as(role)
    tid = loaded["TESTU"]
    for url in (
        "/checklists/",
        f"/checklists/{tid}",
        f"/checklists/{tid}.xlsx",
        f"/checklists/{tid}.yaml",
        f"/checklists/diff?old={tid}&new={tid}",
    ):
        assert browser.get(url).status_code == 200, url
    html = browser.get("/checklists/").get_data(as_text=True)
    assert "/checklists/upload" not in html
    assert browser.get("/checklists/upload").status_code == 403
    assert browser.post(f"/checklists/{tid}/delete").status_code == 403


def test_an_inspector_previews_a_checklist_without_the_unit_directory(login_as, loaded, make, app):
    with app.app_context():
        unit_name = make.unit(name="不应出现的单位").name
    html = login_as("inspector").get(f"/checklists/{loaded['TESTU']}").get_data(as_text=True)
    assert unit_name not in html and 'name="unit_id"' not in html
    viewer = login_as("viewer").get(f"/checklists/{loaded['TESTU']}").get_data(as_text=True)
    assert unit_name in viewer


def test_unit_users_may_not_open_checklists(login_as, loaded):
    browser = login_as("unit")
    tid = loaded["TESTU"]
    for url in (
        "/checklists/",
        f"/checklists/{tid}",
        f"/checklists/{tid}.xlsx",
        "/checklists/upload",
    ):
        assert browser.get(url).status_code == 403, url
    assert browser.post(f"/checklists/{tid}/delete").status_code == 403


def test_admin_may_use_the_pages(login_as, loaded):
    assert login_as("admin").get("/checklists/").status_code == 200


def test_anonymous_users_are_sent_to_login(client):
    response = client.get("/checklists/")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


@pytest.fixture
def shipped_mlps(app):
    """The shipped 等保 checklist and its extensions loaded; returns {key: template id}."""
    from inspect_app.checklists.loader import default_folder

    with app.app_context():
        folder = default_folder()
        # mlps.yaml links items to resp.yaml (same_as), so it loads with it.
        services.load_paths([str(folder / n) for n in ("resp.yaml", "mlps.yaml", "mlps_ext.yaml")])
        return {t.key: t.id for t in db.session.scalars(sa.select(ChecklistTemplate))}


@pytest.mark.parametrize(
    "level, shown, hidden, clause, absent",
    [
        (2, "MLPS-CE-11", ["MLPS-CN-02", "MLPS-CE-13"], "7.1.4.8", "8.1.4.9"),
        (3, "MLPS-CN-02", ["MLPS-CE-13"], "8.1.4.9", "7.1.4.8"),
        (4, "MLPS-CE-13", [], "9.1.4.9", "8.1.4.9"),
    ],
)
def test_the_mlps_preview_by_level_shows_that_levels_items_and_clauses(
    coordinator, shipped_mlps, level, shown, hidden, clause, absent
):
    html = coordinator.get(f"/checklists/{shipped_mlps['MLPS']}?level={level}&lang=en").get_data(
        as_text=True
    )
    applies = applies_map(html)
    assert applies[shown] == "yes"
    assert all(applies[code] == "no" for code in hidden)
    ce11 = html[html.index('data-code="MLPS-CE-11"') :]
    ce11 = ce11[: ce11.index("</fieldset>")]
    assert f"GB/T 22239-2019 {clause}" in ce11 and absent not in ce11
    assert "网络安全法 第23条第（四）项" in ce11


def test_the_mlps_preview_for_a_level_4_system_cites_chapter_9(
    app, coordinator, shipped_mlps, make
):
    with app.app_context():
        system = make.system(mlps_level=4).id
    html = coordinator.get(
        f"/checklists/{shipped_mlps['MLPS']}?system_id={system}&lang=en"
    ).get_data(as_text=True)
    assert "9.1.1.2 a)" in html and "8.1.1.2" not in html
    assert "第三级" not in html.split("<h1", 1)[1].split("</h1>", 1)[0]


def test_a_bad_level_is_a_400(coordinator, shipped_mlps):
    assert coordinator.get(f"/checklists/{shipped_mlps['MLPS']}?level=9").status_code == 400


def test_the_extension_checklist_applies_to_cloud_and_ics_systems_only(
    app, coordinator, shipped_mlps, make
):
    with app.app_context():
        cloud = make.system(is_cloud=True).id
        power = make.system(is_ics=True, unit=make.unit(sector="电力", kind="soe")).id
        plain = make.system().id
    url = f"/checklists/{shipped_mlps['MLPS_EXT']}?lang=en&system_id="
    on_cloud = applies_map(coordinator.get(url + str(cloud)).get_data(as_text=True))
    on_power = applies_map(coordinator.get(url + str(power)).get_data(as_text=True))
    on_plain = applies_map(coordinator.get(url + str(plain)).get_data(as_text=True))
    assert on_cloud["MLPS-CL-01"] == "yes" and on_cloud["MLPS-IC-01"] == "no"
    assert on_power["MLPS-IC-01"] == "yes" and on_power["PWR-02"] == "yes"
    assert on_power["ICS-02"] == "yes" and on_power["MLPS-CL-01"] == "no"
    assert set(on_plain.values()) == {"no"}


def test_an_inspector_previews_a_system_checklist_by_level_without_the_system_list(
    app, login_as, shipped_mlps, make
):
    with app.app_context():
        system_name = make.system(name="不应出现的系统", mlps_level=4).name
    html = (
        login_as("inspector")
        .get(f"/checklists/{shipped_mlps['MLPS']}?level=4&lang=en")
        .get_data(as_text=True)
    )
    assert 'name="level"' in html and 'name="system_id"' not in html
    assert system_name not in html
    assert "9.1.4.9" in html  # the level-4 clause is shown


def test_the_preview_shows_the_required_action_and_the_linked_duty(coordinator, shipped_mlps):
    html = coordinator.get(f"/checklists/{shipped_mlps['MLPS']}?level=3").get_data(as_text=True)
    smc02 = html[html.index('data-code="MLPS-SMC-02"') :]
    smc02 = smc02[: smc02.index("</fieldset>")]
    assert "整改要求" in smc02 and "部署日志审计系统" in smc02
    assert "与 RESP-13 为同一义务" in smc02
