"""the team stored per visit

A visit holds its team of inspectors (visit_members), which the record and the notices name
instead of gathering it from the inspections' members. Each visit takes each inspector once, as on
its first inspection (by id) that has them, with that inspection's department and certificate.
The downgrade drops the table: the inspections' members, which are kept equal to it, remain.

Revision ID: a3c9d1f4b7e2
Revises: 8d4b2e61c7a9
Create Date: 2026-12-06 22:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a3c9d1f4b7e2'
down_revision = '8d4b2e61c7a9'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('visit_members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('visit_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('certificate_no', sa.String(length=60), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_visit_members_department_id_departments')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_visit_members_user_id_users')),
    sa.ForeignKeyConstraint(['visit_id'], ['visits.id'], name=op.f('fk_visit_members_visit_id_visits')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visit_members')),
    sa.UniqueConstraint('visit_id', 'user_id', name='uq_visit_members_visit_user')
    )
    with op.batch_alter_table('visit_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visit_members_user_id'), ['user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_visit_members_visit_id'), ['visit_id'], unique=False)

    conn = op.get_bind()
    rows = conn.execute(
        sa.text(
            "SELECT i.visit_id, m.user_id, m.department_id, m.certificate_no"
            " FROM inspection_members m JOIN inspections i ON i.id = m.inspection_id"
            " ORDER BY i.visit_id, i.id, m.id"
        )
    ).all()
    team, seen = [], set()
    for visit_id, user_id, department_id, certificate_no in rows:
        if (visit_id, user_id) in seen:
            continue
        seen.add((visit_id, user_id))
        team.append(
            {
                "visit_id": visit_id,
                "user_id": user_id,
                "department_id": department_id,
                "certificate_no": certificate_no or "",
            }
        )
    if team:
        conn.execute(
            sa.text(
                "INSERT INTO visit_members (visit_id, user_id, department_id, certificate_no)"
                " VALUES (:visit_id, :user_id, :department_id, :certificate_no)"
            ),
            team,
        )


def downgrade():
    with op.batch_alter_table('visit_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visit_members_visit_id'))
        batch_op.drop_index(batch_op.f('ix_visit_members_user_id'))

    op.drop_table('visit_members')
