"""Guidance names the provincial-level bodies of the configured region (region.py)."""

from flask_babel import force_locale

from inspect_app.region import regional


def test_a_generic_provincial_body_is_named_for_the_region(app):
    with app.test_request_context(), force_locale("zh_Hans_CN"):
        text = regional("其他运营者4小时报省级网信部门，并报省级公安机关")
        assert "省级网信部门（本地为兵团党委网信办）" in text
        assert "省级公安机关（本地为兵团公安局）" in text
        assert regional("向省级以上主管部门报送") == "向省级以上主管部门（本地为兵团有关部门）报送"


def test_text_that_already_names_the_body_or_explains_the_term_is_left_alone(app):
    with app.test_request_context(), force_locale("zh_Hans_CN"):
        named = "ICP备案由省级电信管理机构（本地为新疆通信管理局）办理"
        assert regional(named) == named
        said = "“省级网信部门”对兵团单位为兵团党委网信办"
        assert regional(said) == said
        assert regional("") == "" and regional(None) == ""


def test_placeholders_take_the_configured_names_and_another_region_is_configurable(
    app, monkeypatch
):
    monkeypatch.setitem(
        app.config, "PROVINCIAL_BODIES", {**app.config["PROVINCIAL_BODIES"], "cac": "某省委网信办"}
    )
    with app.test_request_context(), force_locale("zh_Hans_CN"):
        assert regional("报{provincial_cac}，ICP备案由{provincial_telecom}办理") == (
            "报某省委网信办，ICP备案由新疆通信管理局办理"
        )
        assert "（本地为某省委网信办）" in regional("报省级网信部门")
        assert regional("{provincial_unknown}") == "{provincial_unknown}"


def test_an_unconfigured_body_leaves_the_text_as_written(app, monkeypatch):
    monkeypatch.setitem(app.config, "PROVINCIAL_BODIES", {})
    monkeypatch.setitem(app.config, "PROVINCIAL_REGION", "")
    with app.test_request_context():
        assert regional("报省级网信部门") == "报省级网信部门"
        assert regional("向省级以上主管部门报送") == "向省级以上主管部门报送"


def test_the_guidance_and_filling_pages_name_the_region_s_bodies(app, make, login_as):
    """An item that says 省级网信部门 gets 兵团党委网信办 on the guidance page, in its JSON and on
    the filling page; the stored checklist text is unchanged."""
    from inspect_app.extensions import db
    from inspect_app.models import ChecklistItem

    b = login_as("inspector")
    with app.app_context():
        lead = db.session.get(type(make.user()), b.user_id)
        template = make.template(
            key="REG",
            items=[
                {
                    "code": "REG-01",
                    "text": "是否4小时内报省级网信部门？",
                    "guidance": "核对报告对象<是否>为省级网信部门。",
                }
            ],
        )
        inspection = make.inspection(
            template=template, members=[lead, make.user(role="inspector")], status="in_progress"
        )
        inspection_id, item_id = inspection.id, template.items[0].id
    page = b.get(f"/inspections/{inspection_id}/guidance").get_data(as_text=True)
    assert "报省级网信部门（本地为兵团党委网信办）？" in page
    assert "核对报告对象&lt;是否&gt;为省级网信部门（本地为兵团党委网信办）。" in page
    data = b.get(f"/inspections/{inspection_id}/guidance?format=json").get_json()
    assert (
        data[str(item_id)]["guidance"]
        == "核对报告对象<是否>为省级网信部门（本地为兵团党委网信办）。"
    )
    fill = b.get(f"/inspections/{inspection_id}").get_data(as_text=True)
    assert "报省级网信部门（本地为兵团党委网信办）？" in fill
    with app.app_context():
        assert db.session.get(ChecklistItem, item_id).text == "是否4小时内报省级网信部门？"


def test_the_shipped_checklists_name_no_regions_body_so_another_region_reads_its_own(
    app, monkeypatch
):
    from pathlib import Path

    import yaml

    names = [n for n in app.config["PROVINCIAL_BODIES"].values() if n]
    names.append(app.config["PROVINCIAL_REGION"])
    items = {}
    for path in sorted((Path(__file__).resolve().parents[1] / "checklists").glob("*.yaml")):
        for section in yaml.safe_load(path.read_text(encoding="utf-8"))["sections"]:
            for item in section["items"]:
                items[item["code"]] = item
                for key in ("text", "guidance"):
                    assert not [n for n in names if n in (item.get(key) or "")], item["code"]
    other = {"cac": "某省委网信办", "telecom": "某省通信管理局"}
    monkeypatch.setitem(app.config, "PROVINCIAL_BODIES", other)
    with app.test_request_context(), force_locale("zh_Hans_CN"):
        assert "省级网信部门（本地为某省委网信办）" in regional(items["RESP-19"]["guidance"])
        assert "省级电信管理机构（本地为某省通信管理局）" in regional(items["WEB-01"]["guidance"])
