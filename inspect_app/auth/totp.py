"""TOTP codes (RFC 6238, 30-second steps, 6 digits), their QR code, and recovery codes; the
TOTP secret sealed for the database.

A TOTP secret is stored sealed (AES-256-GCM) under a key derived from SECRET_KEY, which lives
outside the database (instance/config.py) and is never in a backup, so a copy of the database or
a backup archive alone does not give anyone a user's codes. The seal is bound to the user's id: a
sealed secret copied onto another account does not open. Rotating SECRET_KEY: move the old one
to SECRET_KEY_FALLBACKS, run `flask users reseal-mfa`, then drop the fallback (docs/deploy.md).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import secrets
from datetime import UTC, datetime

import pyotp
import segno
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

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


# --- the secret sealed for the database ---------------------------------------------------------

SEALED_PREFIX = "s1"  # s1:<key id>:<base64url(nonce + ciphertext + tag)>
_NONCE_BYTES = 12


class SecretUnreadable(Exception):
    """A stored secret that no configured key opens: SECRET_KEY changed without its old value in
    SECRET_KEY_FALLBACKS, or the row was altered."""


def _derive(secret_key: str | bytes) -> bytes:
    material = secret_key if isinstance(secret_key, bytes) else str(secret_key).encode("utf-8")
    hkdf = HKDF(algorithm=SHA256(), length=32, salt=None, info=b"inspect-totp-secret-seal-v1")
    return hkdf.derive(material)


def _key_id(key: bytes) -> str:
    """Eight hex digits naming a sealing key (a MAC of a constant: tells nothing of the key)."""
    return hmac.new(key, b"inspect-totp-seal-key-id", hashlib.sha256).hexdigest()[:8]


def _keys() -> list[bytes]:
    """The sealing keys, the current one first: from SECRET_KEY, then SECRET_KEY_FALLBACKS."""
    cfg = current_app.config
    return [_derive(k) for k in (cfg["SECRET_KEY"], *cfg["SECRET_KEY_FALLBACKS"]) if k]


def _bound_to(user_id: int) -> bytes:
    return f"user:{int(user_id)}".encode()


def seal(secret: str, user_id: int) -> str:
    """The secret as stored in users.mfa_secret for the user `user_id`."""
    key = _keys()[0]
    nonce = os.urandom(_NONCE_BYTES)
    sealed = AESGCM(key).encrypt(nonce, secret.encode("ascii"), _bound_to(user_id))
    body = base64.urlsafe_b64encode(nonce + sealed).decode("ascii").rstrip("=")
    return f"{SEALED_PREFIX}:{_key_id(key)}:{body}"


def unseal(stored: str, user_id: int) -> str:
    """The secret sealed in `stored` for the user `user_id`. Raises SecretUnreadable."""
    prefix, _sep, rest = stored.partition(":")
    key_id, _sep, body = rest.partition(":")
    key = next((k for k in _keys() if _key_id(k) == key_id), None)
    if prefix != SEALED_PREFIX or key is None:
        raise SecretUnreadable(f"no configured key {key_id or '?'} for this sealed secret")
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        plain = AESGCM(key).decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], _bound_to(user_id))
    except (InvalidTag, ValueError, binascii.Error) as exc:
        raise SecretUnreadable("the sealed secret does not open for this account") from exc
    return plain.decode("ascii")


def sealed_with_current_key(stored: str) -> bool:
    """Whether `stored` was sealed under the current SECRET_KEY (not a fallback)."""
    return stored.split(":")[1:2] == [_key_id(_keys()[0])]
