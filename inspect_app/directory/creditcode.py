"""The unified social credit code (统一社会信用代码, GB 32100-2015): alphabet and check digit."""

from __future__ import annotations

# GB 32100 uses digits and upper-case letters without I, O, Z, S and V; a character's value is
# its position here.
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {c: i for i, c in enumerate(ALPHABET)}
# Weight of position i (0-based) is 3**i mod 31.
_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
LENGTH = 18


def check_digit(first17: str) -> str:
    """The 18th character that the first 17 call for."""
    total = sum(_VALUE[c] * w for c, w in zip(first17, _WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def normalise(value: str | None) -> str:
    """Upper-case, without spaces: people paste codes from letters and web pages."""
    return "".join((value or "").split()).upper()


def problem(value: str) -> str | None:
    """Why value is not a valid code ("length", "characters" or "check_digit"), or None if valid."""
    if len(value) != LENGTH:
        return "length"
    if any(c not in _VALUE for c in value):
        return "characters"
    if check_digit(value[:17]) != value[17]:
        return "check_digit"
    return None


def is_valid(value: str) -> bool:
    return problem(value) is None
