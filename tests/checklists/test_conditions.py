"""The applicability evaluator: applies_if on units and systems, show_if on answers; safe by design."""

from __future__ import annotations

import builtins
import inspect
from types import SimpleNamespace

import pytest

from inspect_app.checklists import conditions
from inspect_app.checklists.conditions import ConditionError, applies, visible, visible_codes


def unit(**kw):
    facts = dict(
        kind="party_gov",
        is_key_unit=False,
        is_cii=False,
        has_website=False,
        has_new_media=False,
        handles_pi=False,
        important_data=False,
        classified=False,
    )
    facts.update(kw)
    return SimpleNamespace(**facts)


def system(level=3, owner=None, **kw):
    return SimpleNamespace(
        mlps_level=level,
        is_cii=kw.get("is_cii", False),
        internet_facing=kw.get("internet_facing", False),
        unit=owner or unit(),
    )


def test_no_condition_applies_and_shows():
    assert applies(None, unit=unit())
    assert visible(None, {})


def test_boolean_and_kind_facts():
    cii = unit(is_cii=True, kind="soe")
    assert applies({"unit.is_cii": True}, unit=cii)
    assert not applies({"unit.is_cii": True}, unit=unit())
    assert applies({"unit.kind": {"in": ["soe", "private_enterprise"]}}, unit=cii)
    assert not applies({"unit.kind": {"not_in": ["soe"]}}, unit=cii)
    assert applies({"unit.kind": {"ne": "party_gov"}}, unit=cii)


def test_levels_compare_as_numbers():
    assert applies({"system.mlps_level": {"gte": 3}}, system=system(3))
    assert not applies({"system.mlps_level": {"gte": 3}}, system=system(2))
    assert applies({"system.mlps_level": {"lt": 3}}, system=system(2))
    assert applies({"system.mlps_level": {"lte": 2}}, system=system(2))
    assert applies({"system.mlps_level": {"gt": 3}}, system=system(4))
    assert applies({"system.mlps_level": 2}, system=system(2))


def test_unit_fields_of_a_system_refer_to_its_unit():
    s = system(2, owner=unit(is_cii=True))
    assert applies({"unit.is_cii": True}, system=s)
    assert applies({"any": [{"system.is_cii": True}, {"unit.is_cii": True}]}, system=s)


def test_all_any_not_and_several_keys():
    u = unit(has_website=True, kind="party_gov")
    assert applies({"all": [{"unit.has_website": True}, {"unit.kind": "party_gov"}]}, unit=u)
    assert not applies({"all": [{"unit.has_website": True}, {"unit.is_cii": True}]}, unit=u)
    assert applies({"any": [{"unit.is_cii": True}, {"unit.has_website": True}]}, unit=u)
    assert applies({"not": {"unit.is_cii": True}}, unit=u)
    assert applies({"unit.has_website": True, "unit.kind": "party_gov"}, unit=u)
    assert not applies({"unit.has_website": True, "unit.kind": "soe"}, unit=u)


def test_system_facts_without_a_system_are_false():
    assert not applies({"system.mlps_level": {"gte": 1}}, unit=unit())
    assert applies({"not": {"system.is_cii": True}}, unit=unit())


def test_a_bool_never_equals_a_number():
    assert not applies({"system.mlps_level": True}, system=system(1))
    assert not conditions.compare("eq", True, 1)
    assert not conditions.compare("in", 1, [True])
    assert not conditions.compare("gt", True, 0)


def test_show_if_on_results_options_and_numbers():
    assert visible({"A-1": "noncompliant"}, {"A-1": "noncompliant"})
    assert not visible({"A-1": "noncompliant"}, {"A-1": "compliant"})
    assert visible({"A-2": {"in": ["a", "b"]}}, {"A-2": "b"})
    assert visible({"A-3": {"gt": 0}}, {"A-3": 2})
    assert not visible({"A-3": {"gt": 0}}, {"A-3": 0})
    assert not visible({"A-3": {"gt": 0}}, {"A-3": "2"})  # text never compares as a number


def test_unanswered_items_hide_conditional_ones():
    assert not visible({"A-1": "noncompliant"}, {})
    assert not visible({"A-1": {"ne": "compliant"}}, {})
    assert not visible({"A-1": {"not_in": ["compliant"]}}, {})


def test_visible_codes_ignores_answers_of_hidden_items():
    items = [("A-1", None), ("A-2", {"A-1": "noncompliant"}), ("A-3", {"A-2": "compliant"})]
    assert visible_codes(items, {"A-1": "noncompliant", "A-2": "compliant"}) == {
        "A-1",
        "A-2",
        "A-3",
    }
    # A-1 now compliant: A-2 hides, so its stale answer no longer shows A-3.
    assert visible_codes(items, {"A-1": "compliant", "A-2": "compliant"}) == {"A-1"}


@pytest.mark.parametrize(
    "condition",
    [
        {"unit.__class__": "x"},
        {"unit.__dict__": {"ne": None}},
        {"__import__('os')": 1},
        {"unit.kind": {"like": "p"}},
        {"unit.kind": {"eq": 1, "ne": 2}},
        {"all": "unit.is_cii"},
        {"any": []},
        [],
        "unit.is_cii == True",
        {},
    ],
)
def test_conditions_outside_the_grammar_raise(condition):
    with pytest.raises(ConditionError):
        applies(condition, unit=unit())


def test_the_evaluator_never_touches_attributes_named_by_the_condition():
    class Spy:
        def __getattr__(self, name):
            raise AssertionError(f"looked up {name}")

    with pytest.raises(ConditionError):
        applies({"unit.secret": True}, unit=Spy())


def test_the_evaluator_never_calls_eval_or_exec(monkeypatch):
    def boom(*args, **kwargs):
        raise AssertionError("eval/exec called")

    monkeypatch.setattr(builtins, "eval", boom)
    monkeypatch.setattr(builtins, "exec", boom)
    assert applies({"any": [{"unit.is_cii": True}, {"not": {"unit.kind": "soe"}}]}, unit=unit())
    source = inspect.getsource(conditions)
    for word in ("eval(", "exec(", "compile(", "getattr(", "__import__"):
        assert word not in source


def test_referenced_codes():
    cond = {"all": [{"A-1": "compliant"}, {"any": [{"A-2": 1}, {"not": {"A-3": {"gt": 1}}}]}]}
    assert conditions.referenced_codes(cond) == {"A-1", "A-2", "A-3"}


def test_describe_is_readable(en):
    text = conditions.describe({"all": [{"system.mlps_level": {"gte": 3}}, {"unit.is_cii": True}]})
    assert text == "(MLPS level ≥ 3 and CII operator = true)"
    assert (
        conditions.describe({"unit.kind": {"in": ["soe", "other"]}}) == "unit kind ∈ {soe, other}"
    )
    assert conditions.describe({"not": {"A-1": "compliant"}}) == "not (A-1 = compliant)"
