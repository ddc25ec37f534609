"""checklists: advisory items (no statutory basis); systems: cloud and industrial-control flags

An advisory item rests on no law, regulation or rule, so it never becomes a finding on a notice to
an enterprise. `is_cloud` and `is_ics` decide whether the 等保 cloud and industrial-control
extension requirements apply to a system.

Revision ID: 5c1e0a7d2b3f
Revises: 2f299c3635e3
Create Date: 2026-12-06 19:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5c1e0a7d2b3f'
down_revision = '2f299c3635e3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('checklist_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('advisory', sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table('systems', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_cloud', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('is_ics', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table('systems', schema=None) as batch_op:
        batch_op.drop_column('is_ics')
        batch_op.drop_column('is_cloud')
    with op.batch_alter_table('checklist_items', schema=None) as batch_op:
        batch_op.drop_column('advisory')
