"""Bounds on what clients send, shared by routes and services: whole numbers the database can
store, text it can store, JSON of a sane depth. Every client-supplied size is checked here
before it is used."""

from __future__ import annotations

import json
import re
from typing import Any

# Ids and counts are PostgreSQL `integer` columns.
DB_INT_MAX = 2**31 - 1
# Deeper JSON than any request of ours needs is refused before it is walked.
JSON_MAX_DEPTH = 20

_WHOLE = re.compile(r"[0-9]{1,12}")
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def whole_number(raw: str, *, lo: int, hi: int) -> int | None:
    """raw as an int when it is plain ASCII digits within [lo, hi], else None."""
    raw = raw.strip()
    if raw.startswith("-") and _WHOLE.fullmatch(raw[1:]):
        value = -int(raw[1:])
    elif _WHOLE.fullmatch(raw):
        value = int(raw)
    else:
        return None
    return value if lo <= value <= hi else None


def storable(text: str) -> bool:
    """False for text no database column takes: a NUL byte (PostgreSQL refuses it) or a lone
    surrogate (not encodable as UTF-8)."""
    return _UNSTORABLE.search(text) is None


class TooDeep(ValueError):
    """JSON nested deeper than JSON_MAX_DEPTH."""


def depth(value: Any) -> int:
    """How deeply lists and objects nest in a parsed JSON value (a scalar is 0), walked
    without recursion."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict):
            children = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in children if isinstance(child, dict | list))
    return deepest


def parse_json(data: bytes | str, *, max_depth: int = JSON_MAX_DEPTH) -> Any:
    """json.loads that raises TooDeep (a ValueError) instead of recursing without bound."""
    try:
        value = json.loads(data)
    except RecursionError:
        raise TooDeep(max_depth) from None
    if depth(value) > max_depth:
        raise TooDeep(max_depth)
    return value
