"""required_action (整改要求) and same_as (one defect, one finding) in the checklist format."""

from __future__ import annotations

from inspect_app.checklists import loader, services, xlsx
from inspect_app.extensions import db
from inspect_app.models import ChecklistItem

from .conftest import item_yaml, template_yaml


def _file(write, name, key, items):
    return str(write(name, template_yaml(items, key=key)))


def _problems(paths) -> list[str]:
    _parsed, problems = services.validate_paths(paths)
    return [str(p) for p in problems]


def test_required_action_and_same_as_are_loaded_onto_the_items(en, write):
    a = _file(write, "a.yaml", "AAA", item_yaml("A-1", "required_action: 立即整改日志留存"))
    b = _file(write, "b.yaml", "BBB", item_yaml("B-1", "same_as: A-1"))
    assert _problems([a, b]) == []
    services.load_paths([a, b])
    rows = {i.code: i for i in db.session.query(ChecklistItem)}
    assert rows["A-1"].required_action == "立即整改日志留存"
    assert rows["A-1"].same_as == "" and rows["A-1"].duty == "A-1"
    assert rows["B-1"].same_as == "A-1" and rows["B-1"].duty == "A-1"


def test_same_as_must_name_an_item_that_exists(en, write):
    b = _file(write, "b.yaml", "BBB", item_yaml("B-1", "same_as: NOPE-1"))
    problems = _problems([b])
    assert any("same_as refers to NOPE-1, which no checklist has" in p for p in problems), problems


def test_same_as_must_point_to_another_checklist(en, write):
    items = item_yaml("A-1") + item_yaml("A-2", "same_as: A-1")
    problems = _problems([_file(write, "a.yaml", "AAA", items)])
    assert any("in the same checklist" in p for p in problems), problems


def test_same_as_chains_and_cycles_are_refused(en, write):
    a = _file(write, "a.yaml", "AAA", item_yaml("A-1", "same_as: B-1"))
    b = _file(write, "b.yaml", "BBB", item_yaml("B-1", "same_as: A-1"))
    problems = _problems([a, b])
    assert sum("which itself is the same as" in p for p in problems) == 2, problems
    c = _file(write, "c.yaml", "CCC", item_yaml("C-1", "same_as: B-2"))
    b2 = _file(write, "b2.yaml", "BBB", item_yaml("B-2", "same_as: D-1"))
    d = _file(write, "d.yaml", "DDD", item_yaml("D-1"))
    problems = _problems([c, b2, d])
    assert any("same_as refers to B-2, which itself is the same as D-1" in p for p in problems)


def test_same_as_resolves_against_loaded_checklists(en, write):
    a = _file(write, "a.yaml", "AAA", item_yaml("A-1"))
    services.load_paths([a])
    b = _file(write, "b.yaml", "BBB", item_yaml("B-1", "same_as: A-1"))
    assert _problems([b]) == []


def test_same_as_has_the_form_of_a_code(en):
    text = template_yaml(item_yaml("A-1", "same_as: 'not a code'"))
    problems = [str(p) for p in loader.parse_bytes(text.encode(), "t.yaml").problems]
    assert any("same_as" in p and "wrong form" in p for p in problems), problems


def test_excel_round_trip_keeps_required_action_and_same_as(en, write):
    text = template_yaml(
        item_yaml("A-1", "required_action: |\n  立即整改。\n  报送整改报告。")
        + item_yaml("A-2", "same_as: X-1")
    )
    parsed = loader.parse_bytes(text.encode(), "t.yaml")
    assert parsed.problems == []
    definition = parsed.template.definition()
    book = xlsx.build_workbook(definition)
    again = loader.parse_bytes(book, "t.xlsx")
    assert again.problems == []
    items = again.template.definition()["sections"][0]["items"]
    assert items[0]["required_action"] == "立即整改。\n报送整改报告。\n"
    assert items[1]["same_as"] == "X-1"


def test_a_workbook_without_the_new_columns_still_reads(en):
    from io import BytesIO

    from openpyxl import load_workbook

    text = template_yaml(item_yaml("A-1"))
    book = xlsx.build_workbook(loader.parse_bytes(text.encode(), "t.yaml").template.definition())
    wb = load_workbook(BytesIO(book))
    ws = wb["items"]
    for column in ("same_as", "required_action"):
        index = next(c.column for c in ws[2] if c.value == column)
        ws.delete_cols(index)
    out = BytesIO()
    wb.save(out)
    parsed = loader.parse_bytes(out.getvalue(), "old.xlsx")
    assert parsed.problems == []
    assert parsed.template.definition()["sections"][0]["items"][0]["required_action"] == ""


def test_a_version_loaded_before_the_new_fields_still_compares_equal(en, write):
    from inspect_app.checklists import schema

    text = template_yaml(item_yaml("A-1"))
    definition = loader.parse_bytes(text.encode(), "t.yaml").template.definition()
    old = {
        **definition,
        "sections": [
            {
                **s,
                "items": [
                    {k: v for k, v in i.items() if k not in ("required_action", "same_as")}
                    for i in s["items"]
                ],
            }
            for s in definition["sections"]
        ],
    }
    assert schema.canonical_json(old) == schema.canonical_json(definition)


# --- the shipped checklists -----------------------------------------------------------------


def _shipped_items() -> dict[str, dict]:
    items = {}
    for path in sorted(loader.default_folder().glob("*.yaml")):
        parsed = loader.parse_path(path)
        assert parsed.problems == [], parsed.problems
        for section in parsed.template.definition()["sections"]:
            for item in section["items"]:
                items[item["code"]] = item
    return items


def test_every_shipped_yes_no_item_says_what_to_rectify(en):
    items = _shipped_items()
    missing = [
        code
        for code, item in items.items()
        if item["kind"] == "yes_no" and not item["required_action"].strip()
    ]
    assert missing == []
    # A concrete action, not a restatement of the generic requirement.
    assert "默认口令" in items["RESP-28"]["required_action"]
    assert "六个月" in items["RESP-13"]["required_action"]


def test_the_review_s_duplicate_pairs_are_linked_one_way(en):
    items = _shipped_items()
    pairs = {
        "MLPS-SMC-02": "RESP-13",
        "MLPS-CM-01": "RESP-09",
        "MLPS-CM-03": "RESP-10",
        "WEB-03": "RESP-09",
        "MLPS-CE-07": "RESP-15",
        "MLPS-OM-02": "RESP-15",
        "MLPS-OM-07": "RESP-17",
        "CII-13": "RESP-17",
        "MLPS-CE-11": "RESP-14",
        "CII-12": "RESP-14",
        "CII-20": "RESP-21",
    }
    assert {c: items[c]["same_as"] for c in pairs} == pairs
    assert all(items[target]["same_as"] is None for target in pairs.values())
    # WEB-05 and BM-11 were one duty twice in one checklist: WEB-05 now checks leaks only.
    assert "保密审查" not in items["WEB-05"]["text"]


def test_shipped_checklists_validate_together(en):
    _parsed, problems = services.validate_paths([str(loader.default_folder())])
    assert problems == []


def test_camera_items_have_a_statutory_basis_and_a_lead(en):
    items = _shipped_items()
    for code in ("RESP-28", "RESP-29"):
        item = items[code]
        assert any(b.get("law") == "网络安全法" for b in item["legal_basis"])
        assert item["lead_department"] == "PSB" and item["deadline_days"] <= 30
