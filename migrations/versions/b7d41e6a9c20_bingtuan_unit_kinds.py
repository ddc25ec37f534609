"""兵团 unit kinds: 团场 (regiment), 团镇 (regiment_town), 连队 (company).

Revision ID: b7d41e6a9c20
Revises: 5f58307847ee
Create Date: 2026-12-06 22:45:00

Widens the units.kind CHECK constraint. Downgrade folds each 兵团 kind into its legal character
(团场, 团镇 -> party_gov; 连队 -> other, as models/org.py treats them) before narrowing it again.
"""

import sqlalchemy as sa
from alembic import op

revision = "b7d41e6a9c20"
down_revision = "5f58307847ee"
branch_labels = None
depends_on = None

OLD_KINDS = ("party_gov", "public_institution", "soe", "private_enterprise", "other")
NEW_KINDS = (*OLD_KINDS, "regiment", "regiment_town", "company")
FOLD = {"regiment": "party_gov", "regiment_town": "party_gov", "company": "other"}


def _check(kinds) -> str:
    return "kind IN ({})".format(", ".join(f"'{k}'" for k in kinds))


def upgrade():
    with op.batch_alter_table("units", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_units_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_units_kind"), _check(NEW_KINDS))


def downgrade():
    units = sa.table("units", sa.column("kind", sa.String))
    for kind, character in FOLD.items():
        op.execute(units.update().where(units.c.kind == kind).values(kind=character))
    with op.batch_alter_table("units", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_units_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_units_kind"), _check(OLD_KINDS))
