"""users.mfa_secret sealed under a key derived from SECRET_KEY

A TOTP secret was stored as it is shown to the user, so a copy of the database or a backup
archive (which never holds SECRET_KEY) gave anyone every user's codes. It is now sealed
(auth/totp.seal: AES-256-GCM, bound to the user's id) and the column is wider for it. The
upgrade seals the secrets already stored, the downgrade opens them again: both need the app's
SECRET_KEY (this runs under `flask db`, with the app's configuration).

The "s1" format is written out here, not imported from auth/totp.py: a migration must do the same
thing whatever the app's code becomes (a later format must keep reading s1, but need not write it).

Revision ID: b8e1f4c2a7d5
Revises: f3a9c5e1b7d2
Create Date: 2026-12-07 16:30:00

"""

import base64
import binascii
import hashlib
import hmac
import os

import sqlalchemy as sa
from alembic import context, op
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

# revision identifiers, used by Alembic.
revision = "b8e1f4c2a7d5"
down_revision = "f3a9c5e1b7d2"
branch_labels = None
depends_on = None

users = sa.table("users", sa.column("id", sa.Integer()), sa.column("mfa_secret", sa.String()))

# --- "s1": s1:<key id>:<base64url(nonce + ciphertext + tag)>, as auth/totp.py wrote it on this day
SEALED_PREFIX = "s1"
_NONCE_BYTES = 12


def _keys() -> list[bytes]:
    """The sealing keys, the current one first: from SECRET_KEY, then SECRET_KEY_FALLBACKS."""
    cfg = current_app.config
    return [
        HKDF(algorithm=SHA256(), length=32, salt=None, info=b"inspect-totp-secret-seal-v1").derive(
            k if isinstance(k, bytes) else str(k).encode("utf-8")
        )
        for k in (cfg["SECRET_KEY"], *cfg["SECRET_KEY_FALLBACKS"])
        if k
    ]


def _key_id(key: bytes) -> str:
    return hmac.new(key, b"inspect-totp-seal-key-id", hashlib.sha256).hexdigest()[:8]


def _seal(secret: str, user_id: int) -> str:
    key = _keys()[0]
    nonce = os.urandom(_NONCE_BYTES)
    sealed = AESGCM(key).encrypt(nonce, secret.encode("ascii"), f"user:{int(user_id)}".encode())
    body = base64.urlsafe_b64encode(nonce + sealed).decode("ascii").rstrip("=")
    return f"{SEALED_PREFIX}:{_key_id(key)}:{body}"


def _unseal(stored: str, user_id: int) -> str | None:
    """The secret, or None when no configured key opens it."""
    key_id, _sep, body = stored.partition(":")[2].partition(":")
    key = next((k for k in _keys() if _key_id(k) == key_id), None)
    if key is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        plain = AESGCM(key).decrypt(
            raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], f"user:{int(user_id)}".encode()
        )
    except (InvalidTag, ValueError, binascii.Error):
        return None
    return plain.decode("ascii")



def _refuse_offline():
    if context.is_offline_mode():  # `flask db upgrade --sql`: no rows to read, no key to use
        raise RuntimeError(
            "this migration seals (or opens) the stored two-step secrets with the app's "
            "SECRET_KEY: run it against the database (flask db upgrade), not as SQL"
        )


def _rewrite(change):
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(users.c.id, users.c.mfa_secret).where(users.c.mfa_secret.is_not(None))
    ).all()
    for user_id, stored in rows:
        conn.execute(
            users.update().where(users.c.id == user_id).values(mfa_secret=change(stored, user_id))
        )


def _sealed(stored, user_id):
    if stored.startswith(SEALED_PREFIX + ":"):
        return stored
    return _seal(stored, user_id)


def _opened(stored, user_id):
    if not stored.startswith(SEALED_PREFIX + ":"):
        return stored
    opened = _unseal(stored, user_id)
    if opened is None:
        raise RuntimeError(
            f"the two-step secret of user {user_id} does not open with SECRET_KEY or "
            "SECRET_KEY_FALLBACKS: reset it (flask users reset-mfa) before going down"
        )
    return opened


def upgrade():
    _refuse_offline()
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.alter_column(
            "mfa_secret", existing_type=sa.String(length=64), type_=sa.String(length=128)
        )
    _rewrite(_sealed)


def downgrade():
    _refuse_offline()
    _rewrite(_opened)
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.alter_column(
            "mfa_secret", existing_type=sa.String(length=128), type_=sa.String(length=64)
        )
