"""checklist items: required_action (整改要求) and same_as; departments: kind and sector

`required_action` is what the unit must do when the item is non-compliant; a finding copies it
and the notice prints it. `same_as` names the canonical item of another checklist that checks the
same duty: within one visit the linked items yield one finding. A department is either a member
of the joint inspection or the regulator of a sector (行业主管监管部门).

Revision ID: 8d4b2e61c7a9
Revises: b7d41e6a9c20
Create Date: 2026-12-06 22:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '8d4b2e61c7a9'
down_revision = 'b7d41e6a9c20'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('checklist_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('required_action', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('same_as', sa.String(length=40), server_default='', nullable=False))
    with op.batch_alter_table('departments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=20), server_default='joint', nullable=False))
        batch_op.add_column(sa.Column('sector', sa.String(length=100), server_default='', nullable=False))
        batch_op.create_check_constraint(op.f('ck_departments_kind'), "kind IN ('joint', 'regulator')")


def downgrade():
    with op.batch_alter_table('departments', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_departments_kind'), type_='check')
        batch_op.drop_column('sector')
        batch_op.drop_column('kind')
    with op.batch_alter_table('checklist_items', schema=None) as batch_op:
        batch_op.drop_column('same_as')
        batch_op.drop_column('required_action')
