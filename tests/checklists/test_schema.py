"""Validation of checklist files: every bad input names file, line, column and field; all at once."""

from __future__ import annotations

import re

import pytest
from flask_babel import force_locale

from inspect_app.checklists import loader, schema

from .conftest import SYSTEM_OK, UNIT_OK, item_yaml, template_yaml

LINE = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+):(?P<col>\d+): (?P<path>[^:]+): (?P<msg>.+)$")


def check(text: str | bytes, name: str = "t.yaml") -> list[str]:
    raw = text.encode("utf-8") if isinstance(text, str) else text
    parsed = loader.parse_bytes(raw, name)
    assert (parsed.template is None) == bool(parsed.problems)
    return [str(p) for p in parsed.problems]


def one(problems: list[str], *needles: str) -> str:
    hits = [p for p in problems if all(n in p for n in needles)]
    assert hits, f"no problem with {needles!r} in:\n" + "\n".join(problems)
    return hits[0]


def test_shipped_style_fixtures_are_valid(en):
    for path in (UNIT_OK, SYSTEM_OK):
        parsed = loader.parse_path(path)
        assert parsed.problems == [], [str(p) for p in parsed.problems]
        assert parsed.template is not None


def test_defaults_fill_the_definition(en):
    parsed = loader.parse_bytes(
        template_yaml(item_yaml("A-1", "advisory: true")).encode(), "t.yaml"
    )
    item = parsed.template.definition()["sections"][0]["items"][0]
    assert item["kind"] == "yes_no"
    assert item["severity"] == "medium"
    assert item["major_hazard"] is False
    assert item["deadline_days"] == 30
    assert item["evidence"] == "optional"
    assert item["weight"] == 1.0
    assert item["veto"] is False and item["advisory"] is True
    assert item["guidance"] == "" and item["lead_department"] == ""
    assert item["legal_basis"] == [] and item["options"] == []


def test_problem_format_is_file_line_column_path_message_expected(en):
    problems = check(template_yaml(item_yaml("A-1", "severity: urgent")), "dir/f.yaml")
    match = LINE.match(problems[0])
    assert match, problems
    assert match["file"] == "dir/f.yaml"
    assert (match["line"], match["col"]) == ("12", "19")
    assert match["path"] == "sections.0.items.0.severity"
    assert "urgent is not an allowed value (expected one of: high, medium, low)" in match["msg"]


def test_malformed_yaml_names_line_and_column(en):
    problems = check("key: TST\nversion: '1'\nsections: [\n  {title: x\n", "bad.yaml")
    assert len(problems) == 1
    assert re.match(r"bad\.yaml:\d+:\d+: YAML syntax error", problems[0]), problems


def test_wrong_types(en):
    text = template_yaml(
        item_yaml(
            "A-1", 'deadline_days: "30"\nmajor_hazard: maybe\nweight: heavy\nguidance: [a, b]'
        ),
        version="2026.1",
    )
    problems = check(text)
    one(
        problems,
        "t.yaml:2:10: version: must be text",
        'expected text; put values like "2026.1" in quotes',
    )
    one(problems, "t.yaml:12:24: sections.0.items.0.deadline_days: must be a whole number")
    one(problems, "t.yaml:13:23: sections.0.items.0.major_hazard: must be true or false")
    one(problems, "t.yaml:14:17: sections.0.items.0.weight: must be a number")
    one(problems, "t.yaml:15:19: sections.0.items.0.guidance: must be text")


def test_missing_required_keys(en):
    text = "key: TST\nversion: '1'\ntitle: 测试\ntarget: unit\nsections:\n  - title: A\n    items:\n      - code: A-1\n        text: q\n"
    problems = check(text)
    one(problems, "t.yaml:1:1: title_en: required field is missing")
    one(problems, "t.yaml:8:9: sections.0.items.0.text_en: required field is missing")


def test_unknown_keys_point_at_the_key(en):
    text = template_yaml(item_yaml("A-1", "colour: red"), head="author: me\n")
    problems = check(text)
    one(
        problems, "t.yaml:6:1: author: unknown field author", "expected one of: key, version, title"
    )
    one(
        problems,
        "sections.0.items.0.colour: unknown field colour",
        "expected one of: code, text, text_en, kind",
    )


def test_duplicate_codes(en):
    problems = check(template_yaml(item_yaml("A-1") + item_yaml("A-1")))
    msg = one(problems, "t.yaml:13:15: sections.0.items.1.code: duplicate code A-1")
    assert "first used at t.yaml:9:15" in msg


def test_duplicate_yaml_keys(en):
    problems = check(template_yaml(item_yaml("A-1", "severity: high\nseverity: low")))
    one(
        problems,
        "t.yaml:13:9: sections.0.items.0.severity: duplicate key severity; it is first used on line 12",
    )


def test_forward_show_if(en):
    text = template_yaml(item_yaml("A-1", "show_if: {A-2: compliant}") + item_yaml("A-2"))
    one(check(text), "sections.0.items.0.show_if.A-2: show_if refers to A-2, which comes later")


def test_cyclic_show_if_is_caught_as_a_forward_reference(en):
    text = template_yaml(
        item_yaml("A-1", "show_if: {A-2: compliant}")
        + item_yaml("A-2", "show_if: {A-1: noncompliant}")
    )
    problems = check(text)
    assert len(problems) == 1  # A-2 -> A-1 is fine; A-1 -> A-2 closes the cycle
    one(problems, "t.yaml:12:", "A-2, which comes later")


def test_self_and_unknown_show_if(en):
    text = template_yaml(
        item_yaml("A-1", "show_if: {A-1: compliant}")
        + item_yaml("A-2", "show_if: {A-9: compliant}")
    )
    problems = check(text)
    one(problems, "show_if.A-1: show_if refers to the item itself")
    one(problems, "show_if.A-9: show_if refers to an unknown item A-9")


def test_show_if_values_follow_the_earlier_item_kind(en):
    items = (
        item_yaml("A-1")
        + item_yaml(
            "A-2",
            "kind: choice\noptions:\n  - {value: a, label: 甲, label_en: A}\n  - {value: b, label: 乙, label_en: B}",
        )
        + item_yaml("A-3", "kind: number")
        + item_yaml("A-4", "kind: text")
        + item_yaml("A-5", "show_if: {A-1: yes}")
        + item_yaml("A-6", "show_if: {A-2: {in: [a, c]}}")
        + item_yaml("A-7", "show_if: {A-3: {gte: many}}")
        + item_yaml("A-8", "show_if: {A-1: {gt: compliant}}")
        + item_yaml("A-9", "show_if: {A-4: hello}")
        + item_yaml(
            "A-10",
            "show_if: {all: [{A-1: noncompliant}, {any: [{A-2: a}, {not: {A-3: {lt: 3}}}]}]}",
        )
    )
    problems = check(template_yaml(items))
    one(
        problems,
        "show_if.A-1: true is not a valid value for A-1",
        "compliant, noncompliant, not_applicable",
    )
    one(problems, "show_if.A-2.in.1: c is not a valid value for A-2", "expected one of: a, b")
    one(problems, "show_if.A-3.gte: many is not a valid value for A-3", "expected a number")
    one(problems, "show_if.A-1.gt: operator gt cannot be used with A-1")
    one(problems, "show_if.A-4: A-4 is a text item; show_if cannot use its answer")
    assert not [p for p in problems if "items.9." in p]  # the nested, valid condition


def test_applies_if_grammar(en):
    items = (
        item_yaml("A-1", "applies_if: {unit.size: big}")
        + item_yaml("A-2", "applies_if: {system.mlps_level: {gte: 3}}")
        + item_yaml("A-3", "applies_if: {unit.is_cii: {like: true}}")
        + item_yaml("A-4", "applies_if: {unit.kind: {in: [party_gov, enterprise]}}")
        + item_yaml("A-5", "applies_if: {unit.is_cii: 1}")
        + item_yaml("A-6", "applies_if: {any: []}")
        + item_yaml("A-7", "applies_if: {unit.is_cii: {eq: true, ne: false}}")
        + item_yaml("A-8", "applies_if: {}")
        + item_yaml("A-9", "applies_if: {not: [unit.is_cii]}")
        + item_yaml("A-10", "applies_if: {unit.__class__: x}")
    )
    problems = check(template_yaml(items))
    one(problems, "applies_if.unit.size: unknown field unit.size", "expected one of: unit.kind")
    one(
        problems,
        "applies_if.system.mlps_level: system.mlps_level can only be used in templates with target: system",
    )
    one(problems, "applies_if.unit.is_cii.like: unknown operator like", "expected one of: eq, ne")
    one(
        problems,
        "applies_if.unit.kind.in.1: enterprise is not a valid value for unit.kind",
        "party_gov, public_institution, soe",
    )
    one(
        problems,
        "items.4.applies_if.unit.is_cii: 1 is not a valid value for unit.is_cii",
        "expected true or false",
    )
    one(problems, "applies_if.any: any needs a list of conditions")
    one(problems, "items.6.applies_if.unit.is_cii: a comparison has exactly one operator")
    one(problems, "items.7.applies_if: the condition is empty")
    one(problems, "items.8.applies_if.not: a condition must be a mapping")
    one(problems, "applies_if.unit.__class__: unknown field unit.__class__")


def test_system_fields_are_fine_in_system_templates(en):
    text = template_yaml(
        item_yaml(
            "S-1",
            "applies_if: {system.mlps_level: {in: [3, 4]}, unit.is_cii: false, system.internet_facing: true}",
        )
        + item_yaml("S-2", "applies_if: {system.mlps_level: 6}"),
        target="system",
    )
    problems = check(text)
    assert len(problems) == 1
    one(
        problems,
        "items.1.applies_if.system.mlps_level: 6 is not a valid value",
        "a whole number from 1 to 5",
    )


def test_unknown_law_fields_and_mixed_entries(en):
    text = template_yaml(
        item_yaml(
            "A-1",
            """
            legal_basis:
              - {law: 网络安全法, article: 第23条, section: 2}
              - {law: 网络安全法, clause: "8.1"}
              - {standard: GB/T 22239-2019, clause: "8.1", article_pre2026: 第21条}
              - {law: 网络安全法, standard: GB/T 22239-2019, article: 第1条, clause: "1"}
              - {treaty: 公约}
              - {standard: GB/T 22239-2019}
            """,
        )
    )
    problems = check(text)
    one(
        problems,
        "legal_basis.0.section: unknown field section",
        "expected one of: law, article, article_pre2026, quote",
    )
    one(problems, "legal_basis.1.clause: clause is not a field of a law reference")
    one(problems, "legal_basis.1.article: a law reference needs an article")
    one(
        problems,
        "legal_basis.2.article_pre2026: article_pre2026 is not a field of a standard reference",
        "one of: standard, clause",
    )
    one(problems, "legal_basis.3: an entry names both a law and a standard")
    one(problems, "legal_basis.4: an entry names neither a law nor a standard")
    one(problems, "legal_basis.5.clause: a standard reference needs a clause")


def test_choice_needs_options_and_only_choice_has_them(en):
    items = (
        item_yaml("A-1", "kind: choice")
        + item_yaml("A-2", "options:\n  - {value: a, label: 甲, label_en: A}")
        + item_yaml(
            "A-3",
            "kind: choice\noptions:\n  - {value: a, label: 甲, label_en: A}\n  - {value: a, label: 乙}",
        )
    )
    problems = check(template_yaml(items))
    one(problems, "items.0.kind: a choice item needs options")
    one(problems, "items.1.options: options are only allowed for choice items")
    one(problems, "items.2.options.1.value: duplicate option value a")
    one(problems, "items.2.options.1.label_en: required field is missing")


def test_bad_enums_patterns_and_ranges(en):
    items = item_yaml(
        "a 1", "kind: essay\nevidence: photo\nlead_department: NSA\ndeadline_days: 400\nweight: 0"
    )
    problems = check(template_yaml(items, key="tst", target="both"))
    one(problems, "key: tst has the wrong form", "capital letters, digits and _")
    one(problems, "target: both is not an allowed value", "one of: unit, system")
    one(problems, "code: a 1 has the wrong form", "e.g. RESP-01")
    one(problems, "kind: essay is not an allowed value", "yes_no, choice, number, text, date")
    one(problems, "evidence: photo is not an allowed value", "required_if_noncompliant")
    one(problems, "lead_department: NSA is not an allowed value", "CAC, PSB, MIIT, SEC")
    one(problems, "deadline_days: 400 is out of range", "at most 365")
    one(problems, "weight: 0 is out of range", "greater than 0")


def test_empty_sections_and_items(en):
    problems = check("key: TST\nversion: '1'\ntitle: t\ntitle_en: t\ntarget: unit\nsections: []\n")
    one(problems, "t.yaml:6:11: sections: must not be empty", "at least one entry")
    problems = check(
        "key: TST\nversion: '1'\ntitle: t\ntitle_en: t\ntarget: unit\nsections:\n  - title: A\n    items: []\n"
    )
    one(problems, "sections.0.items: must not be empty")


def test_every_problem_is_reported_at_once(en):
    items = item_yaml("A-1", "severity: urgent\nshow_if: {A-3: compliant}") + item_yaml(
        "A-1", "colour: red"
    )
    problems = check(template_yaml(items, version="1.0", head="extra: 1\n"))
    assert len(problems) == 6, problems
    lines = [int(LINE.match(p)["line"]) for p in problems]
    assert lines == sorted(lines)


def test_a_file_over_the_limit_is_refused_before_parsing(en, write, monkeypatch):
    path = write("big.yaml", b"# " + b"x" * (10 * 1024 * 1024) + b"\n")
    monkeypatch.setattr(
        loader, "read_yaml", lambda *a, **k: pytest.fail("parsed a file over the limit")
    )
    parsed = loader.parse_path(path, "big.yaml")
    assert [str(p) for p in parsed.problems] == [
        "big.yaml: the file is 10485763 bytes, larger than the limit of 1000000 bytes "
        "(expected a file of at most 1000000 bytes)"
    ]
    assert loader.parse_bytes(path.read_bytes(), "big.yaml").problems[0].message


def test_the_size_limit_is_configurable(app, en, write):
    path = write("t.yaml", template_yaml(item_yaml("A-1")))
    app.config["CHECKLIST_MAX_BYTES"] = 100
    try:
        assert "larger than the limit of 100 bytes" in str(loader.parse_path(path).problems[0])
    finally:
        del app.config["CHECKLIST_MAX_BYTES"]


def test_a_file_that_is_not_utf8_names_line_and_column(en):
    raw = template_yaml(item_yaml("A-1")).encode("gbk")
    problems = check(raw, "gbk.yaml")
    assert problems == [
        "gbk.yaml:3:8: the file is not UTF-8 text (byte 0xb2 cannot be read) (expected a file saved as UTF-8)"
    ]


def test_a_byte_order_mark_is_fine(en):
    assert check(b"\xef\xbb\xbf" + template_yaml(item_yaml("A-1")).encode()) == []


def test_anchors_and_aliases_are_refused(en):
    text = "key: TST\nversion: '1'\ntitle: &t 测试\ntitle_en: *t\ntarget: unit\nsections: []\n"
    problems = check(text)
    assert problems == [
        "t.yaml:4:11: anchors and aliases (& and *) are not allowed (expected every value written out where it is used)"
    ]


def test_python_tags_are_refused(en):
    problems = check("key: !!python/object/apply:os.system ['true']\n")
    one(
        problems,
        "t.yaml:1:6: key: YAML tag tag:yaml.org,2002:python/object/apply:os.system is not allowed",
    )
    assert not [p for p in problems if "key: is empty" in p]  # no echo of the refused value
    problems = check("key: !!python/name:os.system x\n")
    one(problems, "t.yaml:1:6: key: YAML value cannot be read")


def test_empty_file_and_wrong_top_level(en):
    assert "the file is empty" in check("")[0]
    assert "the file is empty" in check("# only a comment\n")[0]
    one(check("- a\n- b\n"), "t.yaml:1:1: the file must hold one checklist template")
    one(check("a: 1\n---\nb: 2\n"), "YAML syntax error", "expected a single document")


def test_messages_are_chinese_by_default(ctx):
    with force_locale("zh_Hans_CN"):
        problems = check(template_yaml(item_yaml("A-1", "severity: urgent")))
    assert "sections.0.items.0.severity" in problems[0]
    assert "不是允许的值" in problems[0] and "high, medium, low" in problems[0]


def test_canonical_json_ignores_key_order():
    assert schema.canonical_json({"a": 1, "b": [1, 2]}) == schema.canonical_json(
        {"b": [1, 2], "a": 1}
    )
