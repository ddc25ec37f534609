"""dashboard figures: answer tallies per inspection and covering indexes

Inspections keep their answers' results counted at submission (compliant, non-compliant): the
dashboard's compliance rate sums these two numbers over done inspections instead of reading every
answer. The upgrade fills them in for the inspections already done; the downgrade drops them (the
figures count the answers again). Three indexes hold what the figures read of findings and
rectification items, and the items by due date for the overdue list.

Revision ID: c4e8a2d6f1b3
Revises: c4e8a2f1d6b3
Create Date: 2026-12-07 01:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4e8a2d6f1b3'
down_revision = 'c4e8a2f1d6b3'
branch_labels = None
depends_on = None


answers = sa.table('answers', sa.column('inspection_id', sa.Integer()), sa.column('result', sa.String()))
inspections = sa.table(
    'inspections',
    sa.column('id', sa.Integer()),
    sa.column('status', sa.String()),
    sa.column('compliant_answers', sa.Integer()),
    sa.column('noncompliant_answers', sa.Integer()),
)


def _count(result):
    return (
        sa.select(sa.func.count())
        .select_from(answers)
        .where(answers.c.inspection_id == inspections.c.id, answers.c.result == result)
        .scalar_subquery()
    )


def upgrade():
    with op.batch_alter_table('inspections', schema=None) as batch_op:
        batch_op.add_column(sa.Column('compliant_answers', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('noncompliant_answers', sa.Integer(), nullable=True))
    op.execute(
        inspections.update()
        .where(inspections.c.status.in_(('submitted', 'closed')))
        .values(compliant_answers=_count('compliant'), noncompliant_answers=_count('noncompliant'))
    )
    with op.batch_alter_table('findings', schema=None) as batch_op:
        batch_op.create_index(
            'ix_findings_inspection_figures',
            ['inspection_id', 'unit_id', 'severity', 'item_id', 'repeat_of_id'],
            unique=False,
        )
    with op.batch_alter_table('rectification_items', schema=None) as batch_op:
        batch_op.create_index(
            'ix_rectification_items_finding_figures',
            ['finding_id', 'status', 'due_date', 'closed_at'],
            unique=False,
        )
        batch_op.create_index('ix_rectification_items_due_date', ['due_date', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('rectification_items', schema=None) as batch_op:
        batch_op.drop_index('ix_rectification_items_due_date')
        batch_op.drop_index('ix_rectification_items_finding_figures')
    with op.batch_alter_table('findings', schema=None) as batch_op:
        batch_op.drop_index('ix_findings_inspection_figures')
    with op.batch_alter_table('inspections', schema=None) as batch_op:
        batch_op.drop_column('noncompliant_answers')
        batch_op.drop_column('compliant_answers')
