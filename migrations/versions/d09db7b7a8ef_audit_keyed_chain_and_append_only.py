"""audit: hash scheme per event (keyed chain) and append-only triggers

Revision ID: d09db7b7a8ef
Revises: 680f6d1dcafe
Create Date: 2026-12-01 10:00:00.000000

Events already in the table were hashed with plain SHA-256 and are marked "sha256"; the app
writes "hmac-v1" events from now on (see docs/audit.md).

UPDATE, DELETE and (on PostgreSQL) TRUNCATE on audit_events are refused by triggers. Triggers are
not in the SQLAlchemy metadata, so autogenerate never sees them: a later migration that rebuilds
audit_events (SQLite batch mode "recreate") drops them and must create them again, and
tests/audit/test_tamper.py::test_triggers_refuse_update_delete_and_truncate_of_audit_events fails
until it does.

Downgrading forgets which events were keyed: upgrading again marks them all "sha256", and
`flask audit verify` reports the first keyed one. Do not go below this revision with a database
whose audit log you need to keep verifiable.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd09db7b7a8ef'
down_revision = '680f6d1dcafe'
branch_labels = None
depends_on = None

MESSAGE = "audit_events is append-only"

SQLITE_UP = [
    f"""CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}: UPDATE refused'); END""",
    f"""CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}: DELETE refused'); END""",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS audit_events_no_delete",
    "DROP TRIGGER IF EXISTS audit_events_no_update",
]

POSTGRESQL_UP = [
    f"""CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{MESSAGE}: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
    END
    $$""",
    """CREATE TRIGGER audit_events_no_update_delete BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()""",
    """CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()""",
]
POSTGRESQL_DOWN = [
    "DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events",
    "DROP TRIGGER IF EXISTS audit_events_no_update_delete ON audit_events",
    "DROP FUNCTION IF EXISTS audit_events_append_only()",
]


def _statements(up: bool) -> list[str]:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        return SQLITE_UP if up else SQLITE_DOWN
    if dialect == "postgresql":
        return POSTGRESQL_UP if up else POSTGRESQL_DOWN
    raise NotImplementedError(f"no append-only triggers for {dialect}")


def upgrade():
    # Existing rows were chained with plain SHA-256; the server default marks them so.
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('hash_scheme', sa.String(length=16), nullable=False, server_default='sha256'))
        batch_op.add_column(sa.Column('key_id', sa.String(length=16), nullable=True))
    # After the column changes: a batch "recreate" of the table would drop triggers made before.
    for statement in _statements(up=True):
        op.execute(statement)


def downgrade():
    for statement in _statements(up=False):
        op.execute(statement)
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_column('key_id')
        batch_op.drop_column('hash_scheme')
