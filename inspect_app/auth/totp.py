"""TOTP codes (RFC 6238, 30-second steps, 6 digits), their QR code, and recovery codes."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import UTC, datetime

import pyotp
import segno

STEP_SECONDS = 30
# Codes of the step before and after the current one are accepted too (clock drift).
DRIFT_STEPS = 1
RECOVERY_CODE_COUNT = 10
# Crockford's base 32: no I, L, O or U, so a code read from paper is typed right.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_RECOVERY_GROUPS = 4  # four groups of four: 80 random bits, so a plain SHA-256 is safe to store


def new_secret() -> str:
    """A random base-32 secret of 160 bits (what authenticator apps expect)."""
    return pyotp.random_base32(32)


def step_at(now: datetime) -> int:
    """The time step of a naive-UTC instant."""
    return int(now.replace(tzinfo=UTC).timestamp()) // STEP_SECONDS


def code_at(secret: str, now: datetime) -> str:
    """The code an authenticator shows at `now` (used by tests and the demo instructions)."""
    return pyotp.TOTP(secret).generate_otp(step_at(now))


def matching_step(secret: str, code: str, now: datetime, last_step: int | None) -> int | None:
    """The time step whose code is `code`, near `now` and later than `last_step` (so a code is
    never accepted twice), or None."""
    code = code.strip()
    if not re.fullmatch(r"\d{6}", code):
        return None
    totp = pyotp.TOTP(secret)
    current = step_at(now)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if last_step is not None and step <= last_step:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def provisioning_uri(secret: str, *, account: str, issuer: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=issuer)


def qr_data_uri(text: str) -> str:
    """A PNG data: URL of the QR code, made here (the page CSP allows data: images; an inline
    SVG would need style attributes the CSP forbids)."""
    return segno.make(text, error="m").png_data_uri(scale=5, border=4)


def looks_like_totp(code: str) -> bool:
    return bool(re.fullmatch(r"\d{6}", re.sub(r"\s", "", code)))


def new_recovery_codes() -> list[str]:
    """Ten one-time codes like 7KQ2-M9XD-4HJT-PW3R."""
    codes = []
    for _n in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(_ALPHABET) for _i in range(4 * _RECOVERY_GROUPS))
        codes.append("-".join(raw[i : i + 4] for i in range(0, len(raw), 4)))
    return codes


def normalise_recovery_code(code: str) -> str:
    """Upper case without spaces or hyphens; the look-alikes O, I and L read as 0, 1 and 1."""
    cleaned = re.sub(r"[\s\-]", "", code).upper()
    return cleaned.translate(str.maketrans("OIL", "011"))


def digest(value: str) -> str:
    """SHA-256 of a high-entropy token or code (login tokens, recovery codes)."""
    return hashlib.sha256(value.encode()).hexdigest()
