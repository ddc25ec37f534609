"""audit events in several chains

Each audit event names the chain it belongs to (audit_events.chain, the id of its head row in
audit_heads). Writers that commit at the same time take different chains instead of queueing on
one head (AUDIT_CHAINS, docs/audit.md). Every event written so far is in chain 1, whose head is
the existing row 1; its hashes are unchanged (the chain is not part of an event's hash: moving an
event to another chain breaks both chains' links).

The downgrade is refused once an event is in another chain than 1: one chain could no longer
verify them.

Revision ID: c4e8a2f1d6b3
Revises: a3c9d1f4b7e2
Create Date: 2026-12-07 01:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4e8a2f1d6b3'
down_revision = 'a3c9d1f4b7e2'
branch_labels = None
depends_on = None


def upgrade():
    # Not in batch mode: SQLite adds a column in place, and a recreated audit_events would lose
    # its append-only triggers (migration d09db7b7a8ef).
    op.add_column(
        'audit_events',
        sa.Column('chain', sa.Integer(), nullable=False, server_default='1'),
    )


def downgrade():
    conn = op.get_bind()
    others = conn.scalar(sa.text("SELECT count(*) FROM audit_events WHERE chain <> 1"))
    if others:
        raise RuntimeError(
            f"{others} audit events are in chains other than 1: one chain cannot verify them"
        )
    conn.execute(sa.text("DELETE FROM audit_heads WHERE id <> 1"))
    op.drop_column('audit_events', 'chain')
