"""Conditions on checklist items (`applies_if`, `show_if`): grammar check and a small safe evaluator.

A condition is a mapping. `all: [...]`, `any: [...]` and `not: {...}` combine conditions; any other
key names a field, and its value is either a literal (equality) or a one-key mapping `{op: value}`
with op one of eq, ne, gt, gte, lt, lte, in, not_in. Several keys in one mapping must all hold.

Fields are looked up in fixed tables, never by turning a name into an attribute access, and
no string is ever evaluated as Python: a condition is data, not code.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..models.org import UNIT_KINDS, legal_character

OPERATORS = ("eq", "ne", "gt", "gte", "lt", "lte", "in", "not_in")
EQUALITY_OPS = ("eq", "ne", "in", "not_in")
COMBINATORS = ("all", "any", "not")
RESULTS = ("compliant", "noncompliant", "not_applicable")


class ConditionError(ValueError):
    """A condition that does not follow the grammar was given to the evaluator."""


@dataclass(frozen=True)
class FieldSpec:
    """What a condition field accepts: its operators and a test for one value."""

    ops: tuple[str, ...]
    accepts: Callable[[Any], bool]
    expected: Any  # lazy text shown in "(expected …)"


@dataclass(frozen=True)
class Issue:
    """A grammar problem at `path` inside the condition (relative to the condition itself)."""

    path: tuple
    message: Any
    expected: Any = ""


def _is_bool(v: Any) -> bool:
    return isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _is_level(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 5


_BOOL = FieldSpec(("eq", "ne"), _is_bool, _l("true or false"))

# Facts about the unit or system that applies_if may test, and how to read each one.
_UNIT_FACTS: dict[str, Callable[[Any], Any]] = {
    "unit.kind": lambda u: u.kind,
    "unit.is_key_unit": lambda u: u.is_key_unit,
    "unit.is_cii": lambda u: u.is_cii,
    "unit.has_website": lambda u: u.has_website,
    "unit.has_new_media": lambda u: u.has_new_media,
    "unit.handles_pi": lambda u: u.handles_pi,
    "unit.important_data": lambda u: u.important_data,
    "unit.classified": lambda u: u.classified,
    "unit.sector": lambda u: u.sector,
}
_SYSTEM_FACTS: dict[str, Callable[[Any], Any]] = {
    "system.mlps_level": lambda s: s.mlps_level,
    "system.is_cii": lambda s: s.is_cii,
    "system.internet_facing": lambda s: s.internet_facing,
    "system.is_cloud": lambda s: s.is_cloud,
    "system.is_ics": lambda s: s.is_ics,
}


def _is_sector(v: Any) -> bool:
    return isinstance(v, str) and 0 < len(v) <= 60


APPLIES_FIELDS: dict[str, FieldSpec] = {
    "unit.kind": FieldSpec(
        EQUALITY_OPS,
        lambda v: v in UNIT_KINDS,
        _l("one of: %(values)s", values=", ".join(UNIT_KINDS)),
    ),
    **{name: _BOOL for name in _UNIT_FACTS if name not in ("unit.kind", "unit.sector")},
    "unit.sector": FieldSpec(EQUALITY_OPS, _is_sector, _l("the sector as written in the registry")),
    "system.mlps_level": FieldSpec(OPERATORS, _is_level, _l("a whole number from 1 to 5")),
    "system.is_cii": _BOOL,
    "system.internet_facing": _BOOL,
    "system.is_cloud": _BOOL,
    "system.is_ics": _BOOL,
}

FIELD_LABELS = {
    "unit.kind": _l("unit kind"),
    "unit.is_key_unit": _l("key unit"),
    "unit.is_cii": _l("CII operator"),
    "unit.has_website": _l("has a website"),
    "unit.has_new_media": _l("has government new media"),
    "unit.handles_pi": _l("handles personal information"),
    "unit.important_data": _l("handles important data"),
    "unit.classified": _l("secret-related unit"),
    "system.mlps_level": _l("MLPS level"),
    "system.is_cii": _l("system is CII"),
    "system.internet_facing": _l("Internet-facing"),
    "unit.sector": _l("sector"),
    "system.is_cloud": _l("cloud platform or system on a cloud"),
    "system.is_ics": _l("industrial control system"),
}


# --- grammar checks -----------------------------------------------------------------------------


def check_applies_if(cond: Any, *, target: str) -> list[Issue]:
    """Grammar problems of an applies_if condition in a template with the given target."""

    def spec_for(field: str, path: tuple) -> FieldSpec | Issue:
        spec = APPLIES_FIELDS.get(field)
        allowed = [f for f in APPLIES_FIELDS if target == "system" or f.startswith("unit.")]
        if spec is None:
            return Issue(
                path,
                _l("unknown field %(field)s", field=field),
                _l("one of: %(values)s", values=", ".join(allowed)),
            )
        if field.startswith("system.") and target != "system":
            return Issue(
                path,
                _l("%(field)s can only be used in templates with target: system", field=field),
                _l("one of: %(values)s", values=", ".join(allowed)),
            )
        return spec

    return _check(cond, (), spec_for)


@dataclass(frozen=True)
class AnswerSpec:
    """What a show_if condition may compare an earlier item's answer with."""

    kind: str
    options: tuple[str, ...] = ()


def check_show_if(
    cond: Any, *, code: str | None, earlier: Mapping[str, AnswerSpec], all_codes: set[str]
) -> list[Issue]:
    """Grammar problems of a show_if condition: fields must be codes of earlier items."""

    def spec_for(field: str, path: tuple) -> FieldSpec | Issue:
        if field == code:
            return Issue(
                path, _l("show_if refers to the item itself"), _l("the code of an earlier item")
            )
        if field not in earlier:
            if field in all_codes:
                return Issue(
                    path,
                    _l("show_if refers to %(code)s, which comes later", code=field),
                    _l("the code of an earlier item"),
                )
            return Issue(
                path,
                _l("show_if refers to an unknown item %(code)s", code=field),
                _l("the code of an earlier item"),
            )
        answer = earlier[field]
        if answer.kind == "yes_no":
            return FieldSpec(
                EQUALITY_OPS,
                lambda v: v in RESULTS,
                _l("one of: %(values)s", values=", ".join(RESULTS)),
            )
        if answer.kind == "choice":
            options = answer.options
            return FieldSpec(
                EQUALITY_OPS,
                (lambda v: v in options) if options else (lambda v: isinstance(v, str)),
                _l("one of: %(values)s", values=", ".join(options))
                if options
                else _l("an option value"),
            )
        if answer.kind == "number":
            return FieldSpec(OPERATORS, _is_number, _l("a number"))
        return Issue(
            path,
            _l(
                "%(code)s is a %(kind)s item; show_if cannot use its answer",
                code=field,
                kind=answer.kind,
            ),
            _l("a yes_no, choice or number item"),
        )

    return _check(cond, (), spec_for)


def _check(cond: Any, path: tuple, spec_for) -> list[Issue]:
    if not isinstance(cond, Mapping):
        return [
            Issue(path, _l("a condition must be a mapping"), _l("{field: value}, or all/any/not"))
        ]
    if not cond:
        return [Issue(path, _l("the condition is empty"), _l("{field: value}, or all/any/not"))]
    issues: list[Issue] = []
    for key, value in cond.items():
        here = (*path, key)
        if not isinstance(key, str):
            issues.append(
                Issue(here, _l("condition keys must be text"), _l("a field name, or all/any/not"))
            )
        elif key in ("all", "any"):
            if not isinstance(value, list) or not value:
                issues.append(
                    Issue(
                        here,
                        _l("%(key)s needs a list of conditions", key=key),
                        _l("a non-empty list"),
                    )
                )
                continue
            for i, sub in enumerate(value):
                issues.extend(_check(sub, (*here, i), spec_for))
        elif key == "not":
            issues.extend(_check(value, here, spec_for))
        else:
            spec = spec_for(key, here)
            if isinstance(spec, Issue):
                issues.append(spec)
            else:
                issues.extend(_check_comparison(key, value, here, spec))
    return issues


def _check_comparison(field: str, value: Any, path: tuple, spec: FieldSpec) -> list[Issue]:
    if isinstance(value, Mapping):
        if len(value) != 1:
            return [
                Issue(
                    path,
                    _l("a comparison has exactly one operator"),
                    _l("one of: %(values)s", values=", ".join(spec.ops)),
                )
            ]
        op, operand = next(iter(value.items()))
        path = (*path, op)
        if op not in OPERATORS:
            return [
                Issue(
                    path,
                    _l("unknown operator %(op)s", op=op),
                    _l("one of: %(values)s", values=", ".join(spec.ops)),
                )
            ]
        if op not in spec.ops:
            return [
                Issue(
                    path,
                    _l("operator %(op)s cannot be used with %(field)s", op=op, field=field),
                    _l("one of: %(values)s", values=", ".join(spec.ops)),
                )
            ]
    else:
        op, operand = "eq", value
    if op in ("in", "not_in"):
        if not isinstance(operand, list) or not operand:
            return [
                Issue(
                    path,
                    _l("%(op)s needs a list of values", op=op),
                    _l("a non-empty list of %(what)s", what=spec.expected),
                )
            ]
        return [
            Issue(
                (*path, i),
                _l("%(value)s is not a valid value for %(field)s", value=_show(v), field=field),
                spec.expected,
            )
            for i, v in enumerate(operand)
            if not spec.accepts(v)
        ]
    if not spec.accepts(operand):
        return [
            Issue(
                path,
                _l(
                    "%(value)s is not a valid value for %(field)s",
                    value=_show(operand),
                    field=field,
                ),
                spec.expected,
            )
        ]
    return []


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return str(value)


def referenced_codes(cond: Any) -> set[str]:
    """Item codes a show_if condition looks at."""
    found: set[str] = set()
    if isinstance(cond, Mapping):
        for key, value in cond.items():
            if key in ("all", "any") and isinstance(value, list):
                for sub in value:
                    found |= referenced_codes(sub)
            elif key == "not":
                found |= referenced_codes(value)
            elif isinstance(key, str):
                found.add(key)
    return found


# --- evaluation ---------------------------------------------------------------------------------


def applies(condition: Any, *, unit: Any = None, system: Any = None) -> bool:
    """Whether an item with this applies_if condition applies to the unit (or the system).

    For a system, unit.* fields refer to the system's unit when `unit` is not given. A missing
    condition applies to everything; a fact that cannot be known (no system) compares false.
    Raises ConditionError for a condition outside the grammar.
    """
    if condition is None:
        return True
    if unit is None and system is not None:
        unit = system.unit

    def lookup(field: str) -> Any:
        if field in _UNIT_FACTS:
            return None if unit is None else _UNIT_FACTS[field](unit)
        if field in _SYSTEM_FACTS:
            return None if system is None else _SYSTEM_FACTS[field](system)
        raise ConditionError(f"unknown field {field!r}")

    return _evaluate(condition, lookup, _applies_compare)


def _applies_compare(field: str, op: str, actual: Any, operand: Any) -> bool:
    if field == "unit.kind":
        return kind_compare(op, actual, operand)
    return compare(op, actual, operand)


def kind_compare(op: str, kind: Any, operand: Any) -> bool:
    """A unit.kind test: a 兵团 kind is both itself and its legal character (models/org.py), so
    `unit.kind: party_gov` holds for a 团镇 and `unit.kind: {ne: party_gov}` does not."""
    if kind is None:
        return False
    if op not in EQUALITY_OPS:
        raise ConditionError(f"operator {op!r} cannot compare a unit kind")
    names = {kind, legal_character(kind)}
    if op in ("eq", "ne"):
        hit = operand in names
    else:
        if not isinstance(operand, list):
            raise ConditionError(f"{op} needs a list")
        hit = bool(names & set(operand))
    return hit if op in ("eq", "in") else not hit


def visible(condition: Any, answers_by_code: Mapping[str, Any]) -> bool:
    """Whether an item with this show_if condition is shown, given earlier answers by item code.

    Answers are results (compliant/noncompliant/not_applicable), option values or numbers. Any
    comparison with an item that has no answer yet is false, so a conditional item stays hidden
    until the answer it depends on is given. Raises ConditionError for a malformed condition.
    """
    if condition is None:
        return True
    return _evaluate(condition, lambda code: answers_by_code.get(code))


def visible_codes(items: list[tuple[str, Any]], answers_by_code: Mapping[str, Any]) -> set[str]:
    """Codes shown, in order, for (code, show_if) pairs: answers of hidden items are ignored."""
    shown: set[str] = set()
    effective: dict[str, Any] = {}
    for code, show_if in items:
        if visible(show_if, effective):
            shown.add(code)
            if code in answers_by_code:
                effective[code] = answers_by_code[code]
    return shown


def _evaluate(
    cond: Any,
    lookup: Callable[[str], Any],
    test: Callable[[str, str, Any, Any], bool] | None = None,
) -> bool:
    if not isinstance(cond, Mapping) or not cond:
        raise ConditionError("a condition must be a non-empty mapping")
    for key, value in cond.items():
        if key in ("all", "any"):
            if not isinstance(value, list) or not value:
                raise ConditionError(f"{key} needs a non-empty list")
            results = (_evaluate(sub, lookup, test) for sub in value)
            ok = all(results) if key == "all" else any(results)
        elif key == "not":
            ok = not _evaluate(value, lookup, test)
        elif isinstance(key, str):
            if isinstance(value, Mapping):
                if len(value) != 1:
                    raise ConditionError("a comparison has exactly one operator")
                op, operand = next(iter(value.items()))
            else:
                op, operand = "eq", value
            actual = lookup(key)
            ok = test(key, op, actual, operand) if test else compare(op, actual, operand)
        else:
            raise ConditionError("condition keys must be text")
        if not ok:
            return False
    return True


def _same(a: Any, b: Any) -> bool:
    # True == 1 in Python; a yes/no fact must never equal a number.
    if isinstance(a, bool) != isinstance(b, bool):
        return False
    return a == b


def compare(op: str, actual: Any, operand: Any) -> bool:
    """Apply one operator; an unknown actual value (None) makes every comparison false."""
    if op not in OPERATORS:
        raise ConditionError(f"unknown operator {op!r}")
    if actual is None:
        return False
    if op == "eq":
        return _same(actual, operand)
    if op == "ne":
        return not _same(actual, operand)
    if op in ("in", "not_in"):
        if not isinstance(operand, list):
            raise ConditionError(f"{op} needs a list")
        found = any(_same(actual, v) for v in operand)
        return found if op == "in" else not found
    if not (_is_number(actual) and _is_number(operand)):
        return False
    return {
        "gt": actual > operand,
        "gte": actual >= operand,
        "lt": actual < operand,
        "lte": actual <= operand,
    }[op]


# --- description for people ---------------------------------------------------------------------

_OP_SIGNS = {
    "eq": "=",
    "ne": "≠",
    "gt": ">",
    "gte": "≥",
    "lt": "<",
    "lte": "≤",
    "in": "∈",
    "not_in": "∉",
}


def describe(cond: Any, value_label: Callable[[str, Any], str] | None = None) -> str:
    """A short readable form of a condition, e.g. `MLPS level ≥ 3 and CII operator = yes`."""
    if cond is None:
        return ""
    label = value_label or (lambda _field, v: _show(v))
    if not isinstance(cond, Mapping):
        return _show(cond)
    parts = []
    for key, value in cond.items():
        if key in ("all", "any") and isinstance(value, list):
            joiner = " " + (_("and") if key == "all" else _("or")) + " "
            inner = joiner.join(describe(sub, label) for sub in value)
            parts.append(f"({inner})" if len(value) > 1 else inner)
        elif key == "not":
            parts.append(_("not") + f" ({describe(value, label)})")
        else:
            name = str(FIELD_LABELS.get(key, key))
            if isinstance(value, Mapping) and len(value) == 1:
                op, operand = next(iter(value.items()))
            else:
                op, operand = "eq", value
            if isinstance(operand, list):
                shown = "{" + ", ".join(label(key, v) for v in operand) + "}"
            else:
                shown = label(key, operand)
            parts.append(f"{name} {_OP_SIGNS.get(op, op)} {shown}")
    return (" " + _("and") + " ").join(parts)
