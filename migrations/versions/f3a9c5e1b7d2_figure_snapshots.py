"""dashboard figures computed ahead: figure_snapshots

The refresh task (dashboard/snapshots.py) computes the dashboard's default overview and the
year's annual report after each commit that may change a figure, and keeps them here for every
web worker and host. A cache: rebuilt from the data at any time.

Revision ID: f3a9c5e1b7d2
Revises: e7b3d9f2a4c1
Create Date: 2026-12-07 11:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f3a9c5e1b7d2'
down_revision = 'e7b3d9f2a4c1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('figure_snapshots',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.Column('made_at', sa.DateTime(), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_figure_snapshots'))
    )


def downgrade():
    op.drop_table('figure_snapshots')
