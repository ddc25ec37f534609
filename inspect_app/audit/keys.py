"""The audit chain's HMAC keys: the current one (AUDIT_HMAC_KEY) and retired ones, by key id.

The keys live outside the database (instance/config.py or INSPECT_AUDIT_HMAC_KEY), so someone who
can only write the database cannot recompute a keyed event's hash. A key id is derived from the
key itself: rotating is setting a new AUDIT_HMAC_KEY and moving the old one to
AUDIT_HMAC_OLD_KEYS, with nothing else to keep in step.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field

from flask import current_app


def _as_bytes(key: str | bytes) -> bytes:
    return key if isinstance(key, bytes) else str(key).encode("utf-8")


def key_id_of(key: bytes) -> str:
    """Eight hex digits naming a key; a MAC of a constant, so it tells nothing about the key."""
    return hmac.new(key, b"inspect-audit-key-id", hashlib.sha256).hexdigest()[:8]


@dataclass(frozen=True)
class Keyring:
    current_id: str
    current: bytes
    by_id: dict[str, bytes] = field(default_factory=dict)
    # Oldest key 0 ... current key len(old): a key retired earlier may not follow a newer one.
    rank: dict[str, int] = field(default_factory=dict)
    source: tuple = ()

    def get(self, key_id: str | None) -> bytes | None:
        return self.by_id.get(key_id or "")


def build_keyring(current: str | bytes, old: tuple = ()) -> Keyring:
    """`old` lists retired keys oldest first."""
    keys = [_as_bytes(k) for k in (*old, current) if k]
    by_id = {key_id_of(k): k for k in keys}
    rank = {key_id_of(k): n for n, k in enumerate(keys)}  # a key listed twice ranks last
    current_id = key_id_of(keys[-1])
    return Keyring(current_id, keys[-1], by_id, rank, source=(current, old))


def keyring() -> Keyring:
    """The app's keyring, built once and rebuilt only when the configured keys change."""
    cfg = current_app.config
    current = cfg.get("AUDIT_HMAC_KEY") or ""
    old = cfg.get("AUDIT_HMAC_OLD_KEYS") or ()
    old = (old,) if isinstance(old, str | bytes) else tuple(old)
    cached = current_app.extensions.get("audit_keyring")
    if cached is not None and cached.source == (current, old):
        return cached
    if not current:
        raise RuntimeError("AUDIT_HMAC_KEY is not set")
    ring = build_keyring(current, old)
    current_app.extensions["audit_keyring"] = ring
    return ring
