"""audit events: an index on the object (type and id)

The audit page filters by object; without an index a page of one object's few events scanned the
whole log (13 s at 2 million events on PostgreSQL). The page's other filters (action, actor, unit,
date) had theirs.

Revision ID: a6d2f8c4e1b9
Revises: b8e1f4c2a7d5
Create Date: 2026-12-07 19:30:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'a6d2f8c4e1b9'
down_revision = 'b8e1f4c2a7d5'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        'ix_audit_events_object', 'audit_events', ['object_type', 'object_id'], unique=False
    )


def downgrade():
    op.drop_index('ix_audit_events_object', table_name='audit_events')
