"""The checklist file format as pydantic models, and validation that reports every problem at once.

Validation has two passes over the same raw data: pydantic checks shape and types, then plain
rules check what spans fields (duplicate codes, options of choice items, legal-basis entries,
applies_if/show_if). Both passes run even when the other fails, so one run lists every problem.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any, Literal

from flask_babel import lazy_gettext as _l
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..models.checklist import EVIDENCE_RULES, ITEM_KINDS, SEVERITIES, TARGETS
from . import basis, conditions
from .errors import Problem, dotted

LEAD_DEPARTMENTS = ("CAC", "PSB", "MIIT", "SEC")
KEY_PATTERN = r"^[A-Z][A-Z0-9_]*$"
CODE_PATTERN = r"^[A-Z0-9][A-Z0-9_-]*$"
VERSION_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
LAW_FIELDS = ("law", "article", "article_pre2026", "quote", "instrument")
STANDARD_FIELDS = ("standard", "clause", "clauses")
INSTRUMENTS = basis.INSTRUMENTS

Text = Annotated[str, Field(min_length=1)]


class _Strict(BaseModel):
    # Strict: YAML already gives real types, and "30" or 2026.1 silently coerced would hide mistakes.
    model_config = ConfigDict(extra="forbid", strict=True)


class OptionModel(_Strict):
    value: Annotated[str, Field(min_length=1, max_length=60)]
    label: Text
    label_en: Text


class ClausesModel(_Strict):
    """A standard's clause for each MLPS level (GB/T 22239: chapter 6, 7, 8, 9 for levels 1–4)."""

    level1: Text | None = None
    level2: Text | None = None
    level3: Text | None = None
    level4: Text | None = None


class LegalBasisModel(_Strict):
    """Either a law reference {law, article, article_pre2026?, quote?, instrument?} or a
    standard {standard, clause?, clauses?}."""

    law: Text | None = None
    article: Text | None = None
    article_pre2026: Text | None = None
    quote: Text | None = None
    instrument: Literal[INSTRUMENTS] | None = None  # type: ignore[valid-type]
    standard: Text | None = None
    clause: Text | None = None
    clauses: ClausesModel | None = None


class ItemModel(_Strict):
    code: Annotated[str, Field(max_length=40, pattern=CODE_PATTERN)]
    text: Text
    text_en: Text
    kind: Literal[ITEM_KINDS] = "yes_no"  # type: ignore[valid-type]
    options: list[OptionModel] = []
    guidance: str = ""
    legal_basis: list[LegalBasisModel] = []
    severity: Literal[SEVERITIES] = "medium"  # type: ignore[valid-type]
    major_hazard: bool = False
    deadline_days: Annotated[int, Field(ge=1, le=365)] = 30
    evidence: Literal[EVIDENCE_RULES] = "optional"  # type: ignore[valid-type]
    lead_department: Literal[("", *LEAD_DEPARTMENTS)] = ""  # type: ignore[valid-type]
    weight: Annotated[float, Field(gt=0, allow_inf_nan=False)] = 1.0
    veto: bool = False
    advisory: bool = False
    # 整改要求: what the unit must do when the item is non-compliant (printed on the notice).
    required_action: Annotated[str, Field(max_length=2000)] = ""
    # The code of an item in another checklist that checks the same duty (one defect, one finding).
    same_as: Annotated[str, Field(max_length=40, pattern=CODE_PATTERN)] | None = None
    applies_if: dict[str, Any] | None = None
    show_if: dict[str, Any] | None = None


class SectionModel(_Strict):
    title: Annotated[str, Field(min_length=1, max_length=200)]
    title_en: Annotated[str, Field(max_length=200)] = ""
    items: Annotated[list[ItemModel], Field(min_length=1)]


class TemplateModel(_Strict):
    key: Annotated[str, Field(max_length=40, pattern=KEY_PATTERN)]
    version: Annotated[str, Field(max_length=40, pattern=VERSION_PATTERN)]
    title: Annotated[str, Field(min_length=1, max_length=200)]
    title_en: Annotated[str, Field(min_length=1, max_length=200)]
    target: Literal[TARGETS]  # type: ignore[valid-type]
    description: str = ""
    sections: Annotated[list[SectionModel], Field(min_length=1)]

    def items(self):
        """(section index, section, item) in file order."""
        for si, section in enumerate(self.sections):
            for item in section.items:
                yield si, section, item

    def definition(self) -> dict[str, Any]:
        """The canonical JSON form stored with a loaded version (every default filled in)."""
        return self.model_dump(mode="json")


# Which model sits at a path once list indexes are dropped; used for "(expected one of …)".
_MODEL_AT = {
    (): TemplateModel,
    ("sections",): SectionModel,
    ("sections", "items"): ItemModel,
    ("sections", "items", "options"): OptionModel,
    ("sections", "items", "legal_basis"): LegalBasisModel,
    ("sections", "items", "legal_basis", "clauses"): ClausesModel,
}

_PATTERN_HINTS = {
    KEY_PATTERN: _l("capital letters, digits and _, starting with a letter, e.g. RESP"),
    CODE_PATTERN: _l("capital letters, digits, - and _, e.g. RESP-01"),
    VERSION_PATTERN: _l("letters, digits, '.', '-' and '_' in quotes, e.g. \"2026.1\""),
}


# Item fields added later, left out of the comparison while they hold their default, so a
# version loaded before them still compares equal to its unchanged file.
_LATER_DEFAULTS = {"required_action": "", "same_as": None}


def canonical_json(definition: dict[str, Any]) -> str:
    """A stable text form of a definition, for comparing two versions' content."""
    definition = {
        **definition,
        "sections": [
            {
                **section,
                "items": [
                    {
                        k: v
                        for k, v in item.items()
                        if not (k in _LATER_DEFAULTS and v == _LATER_DEFAULTS[k])
                    }
                    for item in section.get("items", [])
                    if isinstance(item, dict)
                ],
            }
            for section in definition.get("sections", [])
            if isinstance(section, dict)
        ],
    }
    return json.dumps(definition, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


# A locator turns a path in the data into a Problem with its place filled in.
Locate = Callable[[tuple, bool], dict[str, Any]]


def validate(
    data: Any, *, source: str, locate: Locate
) -> tuple[TemplateModel | None, list[Problem]]:
    """Validate raw data read from a file; returns the model (None when invalid) and problems."""

    def problem(path: tuple, message: Any, expected: Any = "", *, at_key: bool = False) -> Problem:
        return Problem(
            source=source,
            path=dotted(path),
            message=message,
            expected=expected,
            **locate(path, at_key),
        )

    if not isinstance(data, dict):
        return None, [
            problem(
                (),
                _l("the file must hold one checklist template (a mapping at the top level)"),
                _l("key: …, version: …, title: …, sections: …"),
            )
        ]
    problems: list[Problem] = []
    model = None
    try:
        model = TemplateModel.model_validate(data)
    except ValidationError as err:
        for e in err.errors(include_url=False):
            problems.append(_from_pydantic(e, data, problem))
    problems.extend(check_rules(data, problem))
    problems.sort(key=problem_order)
    return (model if not problems else None), problems


_SHEET_ORDER = {"": 0, "settings": 1, "items": 2, "options": 3}


def problem_order(p: Problem) -> tuple:
    """Sort key: problems in file order (line and column, or sheet and cell)."""
    return (
        p.line or 0,
        p.column or 0,
        _SHEET_ORDER.get(p.sheet or "", 9),
        _cell_order(p.cell),
        p.path,
    )


def _cell_order(cell: str | None) -> tuple:
    if not cell:
        return (0, 0)
    letters = "".join(c for c in cell if c.isalpha())
    digits = "".join(c for c in cell if c.isdigit())
    return (int(digits or 0), len(letters), letters)


def _value_at(data: Any, path: tuple) -> Any:
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _one_of(values) -> Any:
    return _l("one of: %(values)s", values=", ".join(v for v in values if v))


def _from_pydantic(e: dict[str, Any], data: Any, problem) -> Problem:
    loc = tuple(e["loc"])
    kind = e["type"]
    ctx = e.get("ctx") or {}
    value = e.get("input")
    if kind == "missing":
        return problem(loc, _l("required field is missing"))
    if kind == "extra_forbidden":
        shape = tuple(p for p in loc[:-1] if isinstance(p, str))
        model = _MODEL_AT.get(shape)
        allowed: tuple[str, ...] = tuple(model.model_fields) if model else ()
        if model is LegalBasisModel:
            parent = _value_at(data, loc[:-1])
            if isinstance(parent, dict) and "law" in parent:
                allowed = LAW_FIELDS
            elif isinstance(parent, dict) and "standard" in parent:
                allowed = STANDARD_FIELDS
        return problem(
            loc, _l("unknown field %(field)s", field=loc[-1]), _one_of(allowed), at_key=True
        )
    if kind == "string_type":
        if value is None:
            return problem(loc, _l("is empty"), _l("text"))
        return problem(loc, _l("must be text"), _l('text; put values like "2026.1" in quotes'))
    if kind == "string_too_short":
        return problem(loc, _l("must not be empty"), _l("text"))
    if kind == "string_too_long":
        return problem(
            loc, _l("is too long"), _l("at most %(n)s characters", n=ctx.get("max_length"))
        )
    if kind == "string_pattern_mismatch":
        return problem(
            loc,
            _l("%(value)s has the wrong form", value=value),
            _PATTERN_HINTS.get(ctx.get("pattern"), ctx.get("pattern")),
        )
    if kind == "literal_error":
        field = loc[-1] if loc else ""
        allowed = _literal_values(field)
        return problem(
            loc,
            _l("%(value)s is not an allowed value", value=conditions._show(value)),
            _one_of(allowed),
        )
    if kind == "bool_type":
        return problem(loc, _l("must be true or false"), _l("true or false"))
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return problem(loc, _l("must be a whole number"), _l("a whole number"))
    if kind in ("float_type", "float_parsing"):
        return problem(loc, _l("must be a number"), _l("a number"))
    if kind == "finite_number":
        return problem(loc, _l("must be a finite number"), _l("a number"))
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        bound = {
            "greater_than": _l("greater than %(n)s", n=_num(ctx.get("gt"))),
            "greater_than_equal": _l("at least %(n)s", n=_num(ctx.get("ge"))),
            "less_than": _l("less than %(n)s", n=_num(ctx.get("lt"))),
            "less_than_equal": _l("at most %(n)s", n=_num(ctx.get("le"))),
        }[kind]
        return problem(loc, _l("%(value)s is out of range", value=value), bound)
    if kind == "list_type":
        return problem(loc, _l("must be a list"), _l("a list of entries, each starting with -"))
    if kind == "too_short":
        return problem(loc, _l("must not be empty"), _l("at least one entry"))
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return problem(loc, _l("must be a mapping"), _l("field: value pairs"))
    return problem(loc, e.get("msg", kind))


def _num(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _literal_values(field: Any) -> tuple[str, ...]:
    return {
        "kind": ITEM_KINDS,
        "severity": SEVERITIES,
        "evidence": EVIDENCE_RULES,
        "lead_department": LEAD_DEPARTMENTS,
        "target": TARGETS,
        "instrument": INSTRUMENTS,
    }.get(field, ())


# --- rules that span fields ---------------------------------------------------------------------


def _iter_items(data: dict):
    """(path, item) for every item mapping in the raw data, in file order; tolerant of bad shapes."""
    sections = data.get("sections")
    if not isinstance(sections, list):
        return
    for si, section in enumerate(sections):
        if not isinstance(section, dict) or not isinstance(section.get("items"), list):
            continue
        for ii, item in enumerate(section["items"]):
            if isinstance(item, dict):
                yield ("sections", si, "items", ii), item


def check_rules(data: dict, problem) -> list[Problem]:
    """Cross-field rules on raw (possibly ill-typed) data."""
    problems: list[Problem] = []
    target = data.get("target") if data.get("target") in TARGETS else "unit"
    items = list(_iter_items(data))
    all_codes = {item["code"] for _p, item in items if isinstance(item.get("code"), str)}
    first_at: dict[str, tuple] = {}
    earlier: dict[str, conditions.AnswerSpec] = {}

    for path, item in items:
        code = item.get("code") if isinstance(item.get("code"), str) else None
        if code is not None:
            if code in first_at:
                first = problem((*first_at[code], "code"), "")
                problems.append(
                    problem(
                        (*path, "code"),
                        _l(
                            "duplicate code %(code)s; it is first used at %(where)s",
                            code=code,
                            where=first.where,
                        ),
                        _l("a code used once in the file"),
                    )
                )
            else:
                first_at[code] = path

        kind = item.get("kind", "yes_no")
        options = item.get("options")
        option_values = _check_options(item, path, kind, options, problem, problems)
        _check_legal_basis(item.get("legal_basis"), (*path, "legal_basis"), problem, problems)
        _check_grounding(item, path, target, problem, problems)

        applies_if = item.get("applies_if")
        if isinstance(applies_if, dict):
            for issue in conditions.check_applies_if(applies_if, target=target):
                problems.append(
                    problem((*path, "applies_if", *issue.path), issue.message, issue.expected)
                )
        show_if = item.get("show_if")
        if isinstance(show_if, dict):
            for issue in conditions.check_show_if(
                show_if, code=code, earlier=earlier, all_codes=all_codes
            ):
                problems.append(
                    problem((*path, "show_if", *issue.path), issue.message, issue.expected)
                )

        if code is not None and code not in earlier and isinstance(kind, str):
            earlier[code] = conditions.AnswerSpec(kind, tuple(option_values))
    return problems


def _check_options(item, path, kind, options, problem, problems) -> list[str]:
    values: list[str] = []
    has_options = isinstance(options, list) and len(options) > 0
    if kind == "choice" and not has_options and (options is None or isinstance(options, list)):
        at = (*path, "options") if "options" in item else (*path, "kind")
        problems.append(
            problem(at, _l("a choice item needs options"), _l("a list of {value, label, label_en}"))
        )
    if kind != "choice" and has_options:
        problems.append(
            problem(
                (*path, "options"),
                _l("options are only allowed for choice items"),
                _l("kind: choice, or no options"),
            )
        )
    if isinstance(options, list):
        seen: set[str] = set()
        for oi, option in enumerate(options):
            value = option.get("value") if isinstance(option, dict) else None
            if not isinstance(value, str):
                continue
            if value in seen:
                problems.append(
                    problem(
                        (*path, "options", oi, "value"),
                        _l("duplicate option value %(value)s", value=value),
                        _l("each value once per item"),
                    )
                )
            seen.add(value)
            values.append(value)
    return values


def _check_grounding(item, path, target, problem, problems) -> None:
    """S1, S2 and S6 of the legal review: a statutory basis or `advisory: true` (for items that
    can become findings); a Party rule alone binds only 党政机关、事业单位、国有企业; laws are
    cited by article, never 全文; in a system template GB/T 22239 is cited per MLPS level."""
    raw = item.get("legal_basis")
    indexed = (
        [(i, e) for i, e in enumerate(raw) if isinstance(e, dict)] if isinstance(raw, list) else []
    )
    entries = [e for _i, e in indexed]
    at = (*path, "legal_basis") if "legal_basis" in item else (*path, "code")
    statutory = basis.has_statutory_basis(entries)
    # Only a yes/no item can be answered 不符合 and become a finding; the others record facts.
    can_find = item.get("kind", "yes_no") == "yes_no"
    if can_find and not statutory and item.get("advisory") is not True:
        problems.append(
            problem(
                at,
                _l(
                    "the item has no statutory basis (a law, administrative regulation or "
                    "departmental rule)"
                ),
                _l("a law entry such as {law: 网络安全法, article: 第23条}, or advisory: true"),
            )
        )
    party_only = not statutory and any(basis.instrument_of(e) == "party" for e in entries)
    if party_only:
        kinds = basis.kinds_allowed(item.get("applies_if"))
        if kinds is None or not kinds <= set(basis.PARTY_RULE_KINDS):
            problems.append(
                problem(
                    (*path, "applies_if") if "applies_if" in item else at,
                    _l(
                        "the item rests only on a Party rule, which binds only Party and "
                        "government bodies, public institutions and state-owned enterprises"
                    ),
                    _l("applies_if: {unit.kind: {in: [party_gov, public_institution, soe]}}"),
                )
            )
    for i, entry in indexed:
        if (
            "law" in entry
            and basis.is_statutory(entry)
            and isinstance(entry.get("article"), str)
            and "全文" in entry["article"]
        ):
            problems.append(
                problem(
                    (*path, "legal_basis", i, "article"),
                    _l("a law or regulation must be cited by article, not 全文"),
                    _l("e.g. 第12条"),
                )
            )
        if target == "system" and "22239" in str(entry.get("standard", "")):
            clauses = entry.get("clauses")
            clauses = clauses if isinstance(clauses, dict) else {}
            missing = [
                lv
                for lv in sorted(basis.levels_allowed(item.get("applies_if")))
                if not clauses.get(f"level{lv}")
            ]
            if missing:
                problems.append(
                    problem(
                        (*path, "legal_basis", i),
                        _l(
                            "GB/T 22239 clauses depend on the MLPS level; no clause for level "
                            "%(levels)s",
                            levels=", ".join(str(lv) for lv in missing),
                        ),
                        _l(
                            'clauses: {level2: "7.1.…", level3: "8.1.…", level4: "9.1.…"}, or '
                            "applies_if limiting system.mlps_level"
                        ),
                    )
                )


def _check_legal_basis(entries, path, problem, problems) -> None:
    if not isinstance(entries, list):
        return
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            continue
        here = (*path, i)
        is_law, is_standard = "law" in entry, "standard" in entry
        if is_law and is_standard:
            problems.append(
                problem(
                    here,
                    _l("an entry names both a law and a standard"),
                    _l("one entry per law or standard"),
                )
            )
        elif not is_law and not is_standard:
            problems.append(
                problem(
                    here,
                    _l("an entry names neither a law nor a standard"),
                    _l("{law: …, article: …} or {standard: …, clause: …}"),
                )
            )
        elif is_law:
            if "article" not in entry:
                problems.append(
                    problem(
                        (*here, "article"),
                        _l("a law reference needs an article"),
                        _l("e.g. 第23条"),
                    )
                )
            for field in entry:
                if field in STANDARD_FIELDS:
                    problems.append(
                        problem(
                            (*here, field),
                            _l("%(field)s is not a field of a law reference", field=field),
                            _one_of(LAW_FIELDS),
                            at_key=True,
                        )
                    )
        else:
            if "clause" not in entry and "clauses" not in entry:
                problems.append(
                    problem(
                        (*here, "clause"),
                        _l("a standard reference needs a clause"),
                        _l('e.g. "8.1.5.4 d)"'),
                    )
                )
            for field in entry:
                if field in LAW_FIELDS:
                    problems.append(
                        problem(
                            (*here, field),
                            _l("%(field)s is not a field of a standard reference", field=field),
                            _one_of(STANDARD_FIELDS),
                            at_key=True,
                        )
                    )
