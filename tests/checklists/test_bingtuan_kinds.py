"""兵团 unit kinds (团场, 团镇, 连队): checklist rules written for the general kinds reach them by
their legal character (models/org.py), and so do the nature of a visit and the yearly cap."""

from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from inspect_app.checklists import basis
from inspect_app.checklists.conditions import ConditionError, applies
from inspect_app.models.org import UNIT_KINDS, legal_character

ROOT = Path(__file__).resolve().parents[2]
PARTY_ONLY = {"unit.kind": {"in": ["party_gov", "public_institution", "soe"]}}


def _unit(kind):
    return SimpleNamespace(kind=kind)


def test_the_bingtuan_kinds_are_unit_kinds_with_a_legal_character():
    assert {"regiment", "regiment_town", "company"} <= set(UNIT_KINDS)
    assert legal_character("regiment_town") == "party_gov"
    assert legal_character("regiment") == "party_gov"
    assert legal_character("company") == "other"
    assert legal_character("soe") == "soe"


@pytest.mark.parametrize(
    "condition,kind,expected",
    [
        ({"unit.kind": "party_gov"}, "regiment_town", True),
        ({"unit.kind": "party_gov"}, "regiment", True),
        ({"unit.kind": "party_gov"}, "company", False),
        ({"unit.kind": {"ne": "party_gov"}}, "regiment_town", False),
        ({"unit.kind": {"ne": "party_gov"}}, "company", True),
        (PARTY_ONLY, "regiment", True),
        (PARTY_ONLY, "company", False),
        ({"unit.kind": {"not_in": ["private_enterprise", "other"]}}, "company", False),
        ({"unit.kind": {"not_in": ["private_enterprise", "other"]}}, "regiment_town", True),
        ({"unit.kind": "regiment_town"}, "regiment_town", True),
        ({"unit.kind": "regiment_town"}, "party_gov", False),  # a 团镇 rule is not for all 党政机关
    ],
)
def test_a_unit_kind_rule_holds_for_a_bingtuan_kind_by_its_legal_character(
    condition, kind, expected
):
    assert applies(condition, unit=_unit(kind)) is expected


def test_a_unit_kind_cannot_be_ordered():
    with pytest.raises(ConditionError):
        applies({"unit.kind": {"gt": "party_gov"}}, unit=_unit("regiment"))


def test_party_rule_and_advisory_reach_follow_the_legal_character():
    assert {"regiment", "regiment_town"} <= set(basis.PARTY_RULE_KINDS)
    assert "company" not in basis.PARTY_RULE_KINDS
    assert {"regiment", "regiment_town"} <= set(basis.ADVISORY_FINDING_KINDS)
    assert "company" not in basis.ADVISORY_FINDING_KINDS
    # The validator's reading of a rule agrees with applies().
    allowed = basis.kinds_allowed(PARTY_ONLY)
    assert allowed == {k for k in UNIT_KINDS if applies(PARTY_ONLY, unit=_unit(k))}
    assert allowed <= set(basis.PARTY_RULE_KINDS)
    assert basis.kinds_allowed({"unit.kind": {"ne": "party_gov"}}) == {
        k for k in UNIT_KINDS if legal_character(k) != "party_gov"
    }


def test_shipped_party_rule_items_apply_to_a_regiment_town_and_not_to_a_company():
    """The shipped RESP items limited to Party and government units reach 团场 and 团镇 without
    a change to the YAML, and leave 连队 out."""
    data = yaml.safe_load((ROOT / "checklists" / "resp.yaml").read_text(encoding="utf-8"))
    items = [i for s in data["sections"] for i in s["items"]]
    limited = [i for i in items if basis.kinds_allowed(i.get("applies_if")) is not None]
    party = [i for i in limited if "private_enterprise" not in basis.kinds_allowed(i["applies_if"])]
    assert party
    for item in party:
        assert applies(item["applies_if"], unit=_unit("regiment_town")), item["code"]
        assert applies(item["applies_if"], unit=_unit("regiment")), item["code"]
        assert applies(item["applies_if"], unit=_unit("party_gov")) == applies(
            item["applies_if"], unit=_unit("regiment_town")
        )


def test_the_nature_of_a_visit_and_the_yearly_cap_follow_the_kind(app, ctx, monkeypatch):
    from inspect_app.rounds.services import inspection_cap, visit_nature

    rnd = SimpleNamespace(nature="enterprise_inspection")
    for kind in ("regiment", "regiment_town", "company", "party_gov"):
        assert visit_nature(_unit(kind), rnd) == "party_gov_supervision", kind
    assert visit_nature(_unit("soe"), rnd) == "enterprise_inspection"
    assert visit_nature(_unit("regiment"), SimpleNamespace(nature="special_review")) == (
        "special_review"
    )
    # An office that sets a 团场 apart keeps it apart.
    monkeypatch.setitem(
        app.config,
        "VISIT_NATURE_BY_KIND",
        {"party_gov": "party_gov_supervision", "regiment": "enterprise_inspection"},
    )
    assert visit_nature(_unit("regiment"), rnd) == "enterprise_inspection"
    assert visit_nature(_unit("regiment_town"), rnd) == "party_gov_supervision"
    assert visit_nature(_unit("company"), rnd) == "enterprise_inspection"
    caps = {"party_gov": 6, "other": 4}
    unit = SimpleNamespace(kind="regiment_town", inspection_cap=None)
    assert inspection_cap(unit, caps) == 6
    assert inspection_cap(SimpleNamespace(kind="company", inspection_cap=None), caps) == 4
