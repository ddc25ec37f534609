"""Legal-basis rules: what kind of instrument an entry cites, and clauses that depend on the MLPS level.

Only a law, an administrative regulation or a departmental rule (法律、行政法规、部门规章) can ground
a finding against an enterprise (国办发〔2024〕54号); Party rules bind 党政机关、事业单位、国有企业, and
circulars and standards are not law. GB/T 22239-2019 numbers its clauses by level (chapter 7 for
level 2, 8 for level 3, 9 for level 4), so a standard entry may carry one clause per level.
"""

from __future__ import annotations

from typing import Any

from ..models.org import UNIT_KINDS, kinds_covered

# What a cited instrument is; only the first three are statutory.
INSTRUMENTS = ("law", "regulation", "rule", "party", "normative")
STATUTORY = ("law", "regulation", "rule")
# Units a Party rule (党内法规) can bind: 党政机关、事业单位、国有企业 (and 团场/团镇, 党政机关 by their
# legal character, models/org.py).
PARTY_RULE_KINDS = kinds_covered(("party_gov", "public_institution", "soe"))
# Units on whose notice an advisory item may become a finding: 党政机关/事业单位 (团场/团镇 too);
# for every other kind an advisory item is only a tip.
ADVISORY_FINDING_KINDS = kinds_covered(("party_gov", "public_institution"))

# Instruments whose kind the title alone does not tell. An entry may also say `instrument:` itself.
KNOWN_INSTRUMENTS = {
    "互联网信息服务管理办法": "regulation",  # 国务院令第292号
    "计算机信息网络国际联网安全保护管理办法": "rule",  # 公安部令第33号（经国务院批准）
    "公安机关互联网安全监督检查规定": "rule",  # 公安部令第151号
    "国家网络安全事件报告管理办法": "rule",  # 国家互联网信息办公室令
    "网络安全审查办法": "rule",  # 国家互联网信息办公室等十三部门令第8号
    "个人信息保护合规审计管理办法": "rule",  # 国家互联网信息办公室令
    "数据出境安全评估办法": "rule",  # 国家互联网信息办公室令第11号
    "促进和规范数据跨境流动规定": "rule",  # 国家互联网信息办公室令第16号
    "电力监控系统安全防护规定": "rule",  # 国家发展和改革委员会令第27号（2025年起）
    "互联网新闻信息服务管理规定": "rule",  # 国家互联网信息办公室令第1号
    "互联网信息服务算法推荐管理规定": "rule",  # 国家互联网信息办公室等四部门令第9号
    "互联网信息服务深度合成管理规定": "rule",  # 国家互联网信息办公室等三部门令第12号
    "生成式人工智能服务管理暂行办法": "rule",  # 国家互联网信息办公室等七部门令第15号
    "网络产品安全漏洞管理规定": "normative",  # 工信部联网安〔2021〕66号
    "工业控制系统信息安全防护指南": "normative",  # 工信软函〔2016〕338号
    "云计算服务安全评估办法": "normative",  # 四部门公告2019年第2号
    "党委（党组）网络安全工作责任制实施办法": "party",
}


def instrument_of(entry: dict[str, Any]) -> str:
    """law | regulation | rule | party | normative for a law entry; "standard" for a standard."""
    if "law" not in entry:
        return "standard"
    if entry.get("instrument"):
        return entry["instrument"]
    title = str(entry["law"])
    if title in KNOWN_INSTRUMENTS:
        return KNOWN_INSTRUMENTS[title]
    if title.startswith("中国共产党") or "党委" in title or "党组" in title:
        return "party"
    if title.endswith("法") and not title.endswith("办法"):
        return "law"
    if title.endswith("条例"):
        return "regulation"
    return "normative"


def is_statutory(entry: dict[str, Any]) -> bool:
    return instrument_of(entry) in STATUTORY


def has_statutory_basis(entries: list[dict[str, Any]]) -> bool:
    return any(isinstance(e, dict) and is_statutory(e) for e in entries)


def kinds_allowed(cond: Any) -> set[str] | None:
    """The unit kinds an applies_if condition can hold for, read from its unit.kind tests;
    None when it does not restrict the kind (or is too complex to tell)."""
    if not isinstance(cond, dict):
        return None
    allowed: set[str] | None = None

    def meet(a: set[str] | None, b: set[str] | None) -> set[str] | None:
        if a is None:
            return b
        if b is None:
            return a
        return a & b

    for key, value in cond.items():
        if key == "all" and isinstance(value, list):
            for sub in value:
                allowed = meet(allowed, kinds_allowed(sub))
        elif key == "any" and isinstance(value, list):
            parts = [kinds_allowed(sub) for sub in value]
            if parts and all(p is not None for p in parts):
                allowed = meet(allowed, set().union(*parts))  # type: ignore[arg-type]
        elif key == "unit.kind":
            allowed = meet(allowed, _kinds_of(value))
    return allowed


def _kinds_of(value: Any) -> set[str] | None:
    """The unit kinds a unit.kind test holds for, as applies() reads it (a 兵团 kind is also
    its legal character)."""
    from .conditions import ConditionError, kind_compare

    if isinstance(value, str):
        op, arg = "eq", value
    elif isinstance(value, dict) and len(value) == 1:
        ((op, arg),) = value.items()
    else:
        return None
    try:
        return {k for k in UNIT_KINDS if kind_compare(op, k, arg)}
    except ConditionError:
        return None


def levels_allowed(cond: Any, levels: tuple[int, ...] = (1, 2, 3, 4)) -> set[int]:
    """The MLPS levels (of those given) an applies_if condition can hold for, read from its
    system.mlps_level tests at the top level and inside `all`."""
    result = set(levels)
    if not isinstance(cond, dict):
        return result
    for key, value in cond.items():
        if key == "all" and isinstance(value, list):
            for sub in value:
                result &= levels_allowed(sub, levels)
        elif key == "system.mlps_level":
            result = {lv for lv in result if _level_holds(lv, value)}
    return result


_COMPARE = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "lte": lambda a, b: a <= b,
}


def _level_holds(level: int, value: Any) -> bool:
    if isinstance(value, int) and not isinstance(value, bool):
        return level == value
    if isinstance(value, dict) and len(value) == 1:
        ((op, arg),) = value.items()
        if op in _COMPARE and isinstance(arg, int | float) and not isinstance(arg, bool):
            return _COMPARE[op](level, arg)
        if op == "in" and isinstance(arg, list):
            return level in arg
        if op == "not_in" and isinstance(arg, list):
            return level not in arg
    return True


def without_none(entry: dict[str, Any]) -> dict[str, Any]:
    """A legal-basis entry without its unset fields (also inside per-level `clauses`)."""
    out = {}
    for k, v in entry.items():
        if isinstance(v, dict):
            v = {kk: vv for kk, vv in v.items() if vv is not None}
        if v is not None:
            out[k] = v
    return out


def for_level(entry: dict[str, Any], level: int | None) -> dict[str, Any]:
    """The entry as it reads for a system of this MLPS level: a standard with per-level clauses
    keeps only that level's clause. Without a level, or for a level it has no clause for (level 5),
    the entry is left whole and prints every level's clause."""
    clauses = entry.get("clauses")
    chosen = clauses.get(f"level{level}") if isinstance(clauses, dict) and level else None
    if not chosen:
        return entry
    out = {k: v for k, v in entry.items() if k != "clauses"}
    out["clause"] = chosen
    return out


def resolve(entries: list[dict[str, Any]], level: int | None) -> list[dict[str, Any]]:
    """Every entry of a legal basis as it reads for a system of this level (see for_level)."""
    return [for_level(e, level) if isinstance(e, dict) else e for e in entries]
