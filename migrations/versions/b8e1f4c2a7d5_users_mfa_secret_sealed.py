"""users.mfa_secret sealed under a key derived from SECRET_KEY

A TOTP secret was stored as it is shown to the user, so a copy of the database or a backup
archive (which never holds SECRET_KEY) gave anyone every user's codes. It is now sealed
(auth/totp.seal: AES-256-GCM, bound to the user's id) and the column is wider for it. The
upgrade seals the secrets already stored, the downgrade opens them again: both need the app's
SECRET_KEY (this runs under `flask db`, with the app's configuration).

Revision ID: b8e1f4c2a7d5
Revises: f3a9c5e1b7d2
Create Date: 2026-12-07 16:30:00

"""

import sqlalchemy as sa
from alembic import context, op

from inspect_app.auth import totp


# revision identifiers, used by Alembic.
revision = "b8e1f4c2a7d5"
down_revision = "f3a9c5e1b7d2"
branch_labels = None
depends_on = None

users = sa.table("users", sa.column("id", sa.Integer()), sa.column("mfa_secret", sa.String()))


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
    if stored.startswith(totp.SEALED_PREFIX + ":"):
        return stored
    return totp.seal(stored, user_id)


def _opened(stored, user_id):
    if not stored.startswith(totp.SEALED_PREFIX + ":"):
        return stored
    try:
        return totp.unseal(stored, user_id)
    except totp.SecretUnreadable as exc:
        raise RuntimeError(
            f"the two-step secret of user {user_id} does not open with SECRET_KEY or "
            "SECRET_KEY_FALLBACKS: reset it (flask users reset-mfa) before going down"
        ) from exc


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
