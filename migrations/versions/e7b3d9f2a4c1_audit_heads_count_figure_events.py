"""audit heads count the events that may change a summary figure

audit_heads.figure_events counts, per chain, the events whose action may change a figure of the
dashboard, its charts or the annual report (every action but the answers of an inspection not
yet done, logins, two-step login, background jobs, evidence files and a user's language): the
dashboard's cache key. An answer batch no longer turns the figures kept cold. Not part of the
chain's guarantees: `flask audit verify` does not read it.

Revision ID: e7b3d9f2a4c1
Revises: c4e8a2d6f1b3
Create Date: 2026-12-07 05:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e7b3d9f2a4c1'
down_revision = 'c4e8a2d6f1b3'
branch_labels = None
depends_on = None


def upgrade():
    # Not in batch mode: SQLite adds a column in place.
    op.add_column(
        'audit_heads',
        sa.Column('figure_events', sa.Integer(), nullable=False, server_default='0'),
    )


def downgrade():
    op.drop_column('audit_heads', 'figure_events')
