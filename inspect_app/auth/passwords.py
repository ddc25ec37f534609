"""The one password rule (ASVS 5.0 V6.2): length, not common, not the username; no composition.

The lists of common passwords are shipped in auth/data/ (see the README.md there).
"""

from __future__ import annotations

import string
from functools import cache
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _

from ..errors import ValidationFailed

MAX_LENGTH = 128
_DATA = Path(__file__).resolve().parent / "data"
_LISTS = ("common-passwords.txt", "common-passwords-zh.txt")
# Stripped from both ends before the second look-up: "monkey2026!" is as weak as "monkey".
_DECORATION = string.digits + string.punctuation + " "
# A stripped core shorter than this is not looked up ("qq" would refuse far too much).
_MIN_CORE = 4
# Fewer different characters than this is a repetition ("abababababab", "111111111111").
_MIN_DISTINCT = 5
_RUNS = (
    "01234567890123456789",
    "abcdefghijklmnopqrstuvwxyz",
    "qwertyuiopasdfghjklzxcvbnm",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p",
)


@cache
def common_passwords() -> frozenset[str]:
    """Every shipped common password, in lower case."""
    words: set[str] = set()
    for name in _LISTS:
        for line in (_DATA / name).read_text(encoding="utf-8").splitlines():
            word = line.strip()
            if word and not word.startswith("#"):
                words.add(word.lower())
    return frozenset(words)


def _is_run(lowered: str) -> bool:
    """A stretch of one of the keyboard or alphabet runs, forwards or backwards."""
    return any(lowered in run or lowered in run[::-1] for run in _RUNS)


def is_common(password: str) -> bool:
    lowered = password.lower()
    if lowered in common_passwords() or _is_run(lowered):
        return True
    core = lowered.strip(_DECORATION)
    return len(core) >= _MIN_CORE and core != lowered and core in common_passwords()


def check_password_strength(password: str, *, username: str = "") -> None:
    """Raise ValidationFailed, with a message in the user's language, unless the password has
    PASSWORD_MIN_LENGTH to 128 characters, is not a common password or a repetition, and neither
    contains the username (of three or more characters) nor is the username reversed."""
    min_len = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(password) < min_len:
        raise ValidationFailed(_("The password must have at least %(n)d characters.", n=min_len))
    if len(password) > MAX_LENGTH:
        raise ValidationFailed(_("The password may have at most %(n)d characters.", n=MAX_LENGTH))
    name = username.strip().lower()
    lowered = password.lower()
    # A one- or two-letter username would refuse half of all passwords; it is checked whole.
    contains = name in lowered if len(name) >= 3 else lowered == name
    if name and (contains or lowered == name[::-1]):
        raise ValidationFailed(_("The password must not contain your username."))
    if len(set(lowered)) < _MIN_DISTINCT:
        raise ValidationFailed(
            _("The password repeats too few characters. Choose a few unrelated words.")
        )
    if is_common(password):
        raise ValidationFailed(
            _(
                "This password is on the list of common passwords that attackers try first. "
                "Choose a few unrelated words."
            )
        )
