"""Several chains: writers committing at the same time take different heads, and the log still
verifies, each event on its chain (PostgreSQL: SQLite serialises whole write transactions, so
there every event is in chain 1)."""

from __future__ import annotations

import threading
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from inspect_app import audit
from inspect_app.audit.services import walk_chain
from inspect_app.extensions import db
from inspect_app.models import AuditEvent

from .conftest import run_cli


@pytest.fixture
def pg(attacker):
    if attacker.dialect == "sqlite":
        pytest.skip("SQLite serialises whole write transactions: one chain")
    return attacker


def _commit_one(app, n: int, *, lock_timeout: str = "10s") -> int:
    with app.app_context():
        if db.engine.dialect.name == "postgresql":  # fail, not hang, if it waits for a held head
            db.session.execute(sa.text(f"SET LOCAL lock_timeout = '{lock_timeout}'"))
        ev = audit.record(None, "test.event", object_type="T", object_id=n, after={"n": n})
        db.session.commit()
        return ev.id


def _chains(app) -> dict[int, int]:
    with app.app_context():
        return {
            ev.id: ev.chain
            for ev in db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id))
        }


@contextmanager
def _held(attacker, chain: int):
    """Another writer in the middle of its commit: chain's head locked until the block ends."""
    with attacker.engine.connect() as conn, conn.begin():
        conn.execute(
            sa.text("SELECT count FROM audit_heads WHERE id = :c FOR UPDATE"), {"c": chain}
        )
        yield


def _two_chains(app, attacker) -> tuple[int, int, int]:
    """Events a (chain 1), then b and c while chain 1 is held (chain 2)."""
    a = _commit_one(app, 1)  # makes head 1 only
    with _held(attacker, 1):
        # Does not wait for chain 1 (the lock timeout would fail it): the heads are made and
        # chain 2 taken.
        b, c = _commit_one(app, 2), _commit_one(app, 3)
    return a, b, c


def test_a_writer_takes_another_chain_when_the_first_is_held_and_all_verify(own_app, pg):
    first, second, third = _two_chains(own_app, pg)
    fourth = _commit_one(own_app, 4)
    chains = _chains(own_app)
    assert (chains[first], chains[second], chains[third], chains[fourth]) == (1, 2, 2, 1)
    with own_app.app_context():
        walk = walk_chain()
        assert walk.problem is None and walk.checked == 4 and walk.last_id == fourth
    result = run_cli(own_app, "audit", "verify")
    assert result.exit_code == 0, result.output


def test_many_writers_at_once_spread_over_chains_and_the_log_verifies(own_app, pg):
    _commit_one(own_app, 0)
    errors = []

    def writer(k):
        try:
            for i in range(15):
                _commit_one(own_app, k * 100 + i)
        except Exception as err:  # noqa: BLE001 (reported below)
            errors.append(err)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    chains = _chains(own_app)
    assert len(chains) == 121 and len(set(chains.values())) > 1
    result = run_cli(own_app, "audit", "verify")
    assert result.exit_code == 0, result.output
    assert "OK: 121 audit events" in result.output


def test_deleting_the_newest_event_of_the_second_chain_shows(own_app, pg):
    a, b, c = _two_chains(own_app, pg)
    _commit_one(own_app, 4)
    pg.drop_triggers()
    pg.sql("DELETE FROM audit_events WHERE id = :id", id=c)
    result = run_cli(own_app, "audit", "verify")
    assert result.exit_code == 1
    assert f"audit event {c}" in result.stderr


def test_an_event_moved_to_another_chain_breaks_it(own_app, pg):
    a, b, c = _two_chains(own_app, pg)
    pg.drop_triggers()
    pg.sql("UPDATE audit_events SET chain = 1 WHERE id = :id", id=b)
    result = run_cli(own_app, "audit", "verify")
    assert result.exit_code == 1
    assert f"BROKEN at audit event {b}" in result.stderr


def test_a_deleted_chain_head_shows(own_app, pg):
    a, b, c = _two_chains(own_app, pg)
    pg.drop_triggers()
    pg.sql("DELETE FROM audit_heads WHERE id = 2")
    result = run_cli(own_app, "audit", "verify")
    assert result.exit_code == 1
    assert f"audit event {c}" in result.stderr


def test_with_one_chain_a_writer_waits_for_the_held_head_instead_of_taking_another(own_app, pg):
    own_app.config["AUDIT_CHAINS"] = 1
    _commit_one(own_app, 1)
    with _held(pg, 1), pytest.raises(sa.exc.OperationalError, match="lock timeout"):
        _commit_one(own_app, 2, lock_timeout="1s")
    _commit_one(own_app, 3)
    assert set(_chains(own_app).values()) == {1}
    with own_app.app_context():
        heads = db.session.scalar(sa.select(sa.func.count()).select_from(sa.text("audit_heads")))
        assert heads == 1


def test_the_heads_statement_is_planned_once_whatever_the_number_of_events(ctx):
    """Commits of one, two and three events take a head with the same prepared statement; with
    generate_series(1, n) sized exactly for each n, PostgreSQL kept a custom plan and planned it
    again at every commit (a fifth of a millisecond of its CPU, bench/README.md)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("plans of prepared statements: PostgreSQL")
    conn = db.session.connection()  # the same connection through the commits below
    raw = conn.connection.driver_connection
    for n in range(30):
        for k in range(1 + n % 3):
            audit.record(None, "test.event", object_type="T", object_id=n, after={"k": k})
        db.session.commit()
        assert db.session.connection().connection.driver_connection is raw
    generic, custom = db.session.execute(
        sa.text(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements"
            " WHERE statement LIKE 'UPDATE audit_heads SET count%'"
        )
    ).one()
    assert custom <= 5 and generic >= 20, (generic, custom)


_UNIT_RENAME = audit.Rider(
    ctes="renamed AS (UPDATE units SET name = CAST(:name AS text) WHERE id = :unit RETURNING 1)",
    returning="(SELECT count(*) FROM renamed)",
)


def test_a_riders_writes_go_with_the_events_and_its_check_sees_what_they_did(ctx, make):
    """ride_on_commit (an answer batch's writes, bench/README.md): on PostgreSQL the rider's
    writes are sent in the statement that writes the commit's events; elsewhere it is refused
    and the caller sends them itself."""
    unit = make.unit(name="旧名称")
    audit.record(None, "test.event", unit, after={"n": 1})
    seen = []
    ridden = audit.ride_on_commit(_UNIT_RENAME, {"name": "新名称", "unit": unit.id}, seen.append)
    assert ridden is (db.engine.dialect.name == "postgresql")
    if not ridden:
        return
    before = db.session.scalar(sa.text("SELECT name FROM units WHERE id = :u"), {"u": unit.id})
    assert before == "旧名称"  # nothing is sent before the commit
    db.session.commit()
    assert [tuple(row) for row in seen] == [(1,)]
    db.session.expire_all()
    assert db.session.get(type(unit), unit.id).name == "新名称"
    assert audit.verify_chain()[1] is None


def test_a_riders_failed_check_undoes_the_commit(ctx, make):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("riders go with the events on PostgreSQL")
    unit = make.unit(name="旧名称")
    unit_id = unit.id
    audit.record(None, "test.event", unit, after={"n": 1})

    def refuse(row):
        raise LookupError(f"renamed {row[0]}")

    assert audit.ride_on_commit(_UNIT_RENAME, {"name": "新名称", "unit": unit_id}, refuse)
    with pytest.raises(LookupError):
        db.session.commit()
    db.session.rollback()
    assert db.session.get(type(unit), unit_id).name == "旧名称"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == 0


def test_a_rider_of_a_rolled_back_transaction_does_not_reach_the_next_one(ctx, make):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("riders go with the events on PostgreSQL")
    unit = make.unit(name="旧名称")
    unit_id = unit.id
    audit.record(None, "test.event", unit, after={"n": 1})
    seen = []
    assert audit.ride_on_commit(_UNIT_RENAME, {"name": "新名称", "unit": unit_id}, seen.append)
    db.session.rollback()
    audit.record(None, "test.event", object_type="Unit", object_id=unit_id, after={"n": 2})
    db.session.commit()
    assert seen == []
    assert db.session.get(type(unit), unit_id).name == "旧名称"


def test_a_rider_is_refused_without_an_event_or_inside_a_savepoint(ctx, make):
    unit = make.unit()
    params = {"name": "x", "unit": unit.id}
    assert not audit.ride_on_commit(_UNIT_RENAME, params, print)  # no event yet
    with db.session.begin_nested():
        audit.record(None, "test.event", unit, after={"n": 1})
        assert not audit.ride_on_commit(_UNIT_RENAME, params, print)
    db.session.commit()


def test_a_second_rider_in_one_transaction_is_refused_and_the_first_kept(ctx, make):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("riders go with the events on PostgreSQL")
    unit = make.unit(name="旧名称")
    audit.record(None, "test.event", unit, after={"n": 1})
    seen = []
    assert audit.ride_on_commit(_UNIT_RENAME, {"name": "新名称", "unit": unit.id}, seen.append)
    assert not audit.ride_on_commit(_UNIT_RENAME, {"name": "别的", "unit": unit.id}, seen.append)
    db.session.commit()
    db.session.expire_all()
    assert [tuple(row) for row in seen] == [(1,)] and unit.name == "新名称"


def test_the_label_check_sees_the_actions_of_recorded_events(ctx):
    """tests/conftest.py collects every action an event is made with (its label check):
    record() makes a Recorded, no mapped AuditEvent, and went unseen."""
    from ..conftest import _AUDITED_ACTIONS

    audit.record(None, "test.seen_by_the_label_check", object_type="T", object_id=1)
    db.session.rollback()
    assert "test.seen_by_the_label_check" in _AUDITED_ACTIONS
