"""Someone who owns the database but not the audit key tampers; `flask audit verify` says so.

Each test tampers with raw SQL on the attacker's own connection, after dropping (SQLite) or
disabling (PostgreSQL) the append-only triggers as a database owner can, then runs the real
`flask audit verify` and reads its exit code and message.
"""

from __future__ import annotations

import hashlib

import pytest
import sqlalchemy as sa

from inspect_app import audit
from inspect_app.audit.keys import key_id_of, keyring
from inspect_app.audit.services import GENESIS, HMAC_V1, LEGACY, keyed_hash, legacy_hash
from inspect_app.extensions import db
from inspect_app.models import AuditEvent

from ..conftest import TEST_AUDIT_KEY
from .conftest import run_cli


def _record(app, n: int) -> list[int]:
    with app.app_context():
        ids = []
        for i in range(n):
            ev = audit.record(None, "test.event", object_type="T", object_id=i, after={"n": i})
            db.session.commit()
            ids.append(ev.id)
        return ids


def _rechain(attacker, events, start: int, hasher, **changes) -> None:
    """Recompute every hash from events[start] on (and the head) with `hasher`, as a forger would."""
    prev = events[start - 1].hash if start else GENESIS
    for ev in events[start:]:
        for name, value in changes.items():
            setattr(ev, name, value)
        ev.prev_hash = prev
        ev.hash = hasher(ev)
        attacker.rewrite(ev, prev_hash=ev.prev_hash, hash=ev.hash, **changes)
        prev = ev.hash
    attacker.move_head(events[-1].id, prev, len(events))


def _verify(app):
    return run_cli(app, "audit", "verify")


def test_intact_keyed_chain_verifies_with_exit_0(own_app):
    ids = _record(own_app, 3)
    result = _verify(own_app)
    assert result.exit_code == 0, result.output
    assert "OK: 3 audit events, chain intact." in result.output
    with own_app.app_context():
        events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.id.in_(ids))).all()
        assert {(e.hash_scheme, e.key_id) for e in events} == {(HMAC_V1, keyring().current_id)}


def test_triggers_refuse_update_delete_and_truncate_of_audit_events(own_app, attacker):
    ids = _record(own_app, 2)
    before = [(e.id, e.action, e.hash) for e in attacker.events()]
    for statement in (
        "UPDATE audit_events SET action = 'x' WHERE id = :id",
        "UPDATE audit_events SET hash_scheme = 'sha256'",
        "DELETE FROM audit_events WHERE id = :id",
        "DELETE FROM audit_events",
    ):
        with pytest.raises(sa.exc.DBAPIError, match="audit_events is append-only"):
            attacker.sql(statement, id=ids[0])
    if attacker.dialect == "postgresql":
        with pytest.raises(sa.exc.DBAPIError, match="append-only: TRUNCATE refused"):
            attacker.sql("TRUNCATE audit_events CASCADE")
    assert [(e.id, e.action, e.hash) for e in attacker.events()] == before
    assert _verify(own_app).exit_code == 0


def test_edited_event_makes_verify_exit_1_naming_it(own_app, attacker):
    ids = _record(own_app, 3)
    attacker.drop_triggers()
    attacker.sql("UPDATE audit_events SET actor_name = 'someone-else' WHERE id = :id", id=ids[1])
    result = _verify(own_app)
    assert result.exit_code == 1
    assert f"BROKEN at audit event {ids[1]}: its content does not match its hash" in result.stderr


def test_deleted_event_makes_verify_exit_1_naming_the_next(own_app, attacker):
    ids = _record(own_app, 3)
    attacker.drop_triggers()
    attacker.sql("DELETE FROM audit_events WHERE id = :id", id=ids[1])
    result = _verify(own_app)
    assert result.exit_code == 1
    assert f"BROKEN at audit event {ids[2]}: its prev_hash does not match" in result.stderr


def test_deleting_the_newest_events_is_caught_by_the_head(own_app, attacker):
    ids = _record(own_app, 3)
    attacker.drop_triggers()
    attacker.sql("DELETE FROM audit_events WHERE id = :id", id=ids[2])
    result = _verify(own_app)
    assert result.exit_code == 1
    assert f"BROKEN at audit event {ids[2]}: it is missing" in result.stderr


def test_newest_events_deleted_and_head_moved_back_is_caught_by_the_anchor(own_app, attacker):
    ids = _record(own_app, 5)
    assert run_cli(own_app, "audit", "anchor").exit_code == 0
    anchored = attacker.events()[-1]
    attacker.drop_triggers()
    attacker.sql("DELETE FROM audit_events WHERE id > :id", id=ids[2])
    kept = attacker.events()[-1]
    attacker.move_head(kept.id, kept.hash, 3)

    result = _verify(own_app)

    assert result.exit_code == 1
    assert "BROKEN: the log was truncated after the anchor of " in result.stderr
    assert f"event {ids[4]} with hash {anchored.hash} is gone." in result.stderr
    assert "The 3 events left chain correctly" in result.stderr


def test_rewriting_the_newest_event_and_the_head_is_caught_by_the_mac(own_app, attacker):
    _record(own_app, 3)
    attacker.drop_triggers()
    events = attacker.events()
    _rechain(attacker, events, 2, legacy_hash, actor_name="someone-else")
    result = _verify(own_app)
    assert result.exit_code == 1
    assert f"BROKEN at audit event {events[2].id}: its content does not match" in result.stderr


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(legacy_hash, id="plain-sha256"),
        pytest.param(lambda ev: keyed_hash(ev, ev.key_id, b"a guessed key"), id="wrong-key"),
        pytest.param(
            lambda ev: hashlib.sha256((ev.prev_hash + repr(ev.after)).encode()).hexdigest(),
            id="any-other-hash",
        ),
    ],
)
def test_edit_with_every_following_hash_and_head_recomputed_without_the_key_is_reported(
    own_app, attacker, forge
):
    """The review's undetected case: an inspection.submit edited, the chain redone after it."""
    _record(own_app, 5)
    attacker.drop_triggers()
    events = attacker.events()
    events[1].after = {"score": 100, "findings": 0}
    _rechain(attacker, events, 1, forge, after=events[1].after)

    result = _verify(own_app)

    assert result.exit_code == 1
    assert f"BROKEN at audit event {events[1].id}: its content does not match" in result.stderr
    assert "1 events before it are intact." in result.stderr


def test_flipping_keyed_events_to_legacy_and_rehashing_is_reported(own_app, attacker):
    _record(own_app, 5)
    attacker.drop_triggers()
    events = attacker.events()
    _rechain(attacker, events, 2, legacy_hash, hash_scheme=LEGACY, key_id=None)

    result = _verify(own_app)

    assert result.exit_code == 1
    assert (
        f"BROKEN at audit event {events[2].id}: it is marked as an unkeyed (legacy SHA-256) "
        "event but follows a keyed one" in result.stderr
    )


def test_flipping_only_the_scheme_column_is_reported(own_app, attacker):
    ids = _record(own_app, 3)
    attacker.drop_triggers()
    attacker.sql("UPDATE audit_events SET hash_scheme = 'sha256' WHERE id = :id", id=ids[0])
    result = _verify(own_app)
    assert result.exit_code == 1
    assert f"BROKEN at audit event {ids[0]}: its content does not match" in result.stderr


def test_rewriting_the_whole_log_as_legacy_is_caught_by_the_anchor(own_app, attacker):
    """Without the key, the only consistent forgery is an all-unkeyed log: the anchor shows it."""
    ids = _record(own_app, 4)
    assert run_cli(own_app, "audit", "anchor").exit_code == 0
    attacker.drop_triggers()
    events = attacker.events()
    anchored_hash = events[-1].hash
    events[0].actor_name = "someone-else"
    _rechain(
        attacker, events, 0, legacy_hash, hash_scheme=LEGACY, key_id=None, actor_name="someone-else"
    )

    result = _verify(own_app)

    assert result.exit_code == 1
    assert (
        "BROKEN: the log was rewritten after the anchor of " in result.stderr
        and f"event {ids[-1]} no longer has the anchored hash {anchored_hash}." in result.stderr
    )


def test_event_made_with_a_key_that_is_not_configured_is_reported(own_app):
    ids = _record(own_app, 2)
    own_app.config["AUDIT_HMAC_KEY"] = "another-key-" + "x" * 40
    result = _verify(own_app)
    assert result.exit_code == 1
    old_id = key_id_of(TEST_AUDIT_KEY.encode())
    assert f"BROKEN at audit event {ids[0]}: it was hashed with audit key {old_id}" in result.stderr


def test_verify_speaks_chinese_by_default(own_app, attacker):
    ids = _record(own_app, 2)
    attacker.drop_triggers()
    attacker.sql("UPDATE audit_events SET ip = '10.0.0.1' WHERE id = :id", id=ids[0])
    env = {"LC_ALL": "zh_CN.UTF-8", "LANG": "zh_CN.UTF-8"}
    result = own_app.test_cli_runner().invoke(args=["audit", "verify"], env=env)
    assert result.exit_code == 1
    assert f"审计链在第 {ids[0]} 条记录处断裂" in result.stderr


def test_a_hash_edited_to_non_ascii_text_is_reported_not_a_crash(own_app, attacker):
    ids = _record(own_app, 1)
    attacker.drop_triggers()
    attacker.sql("UPDATE audit_events SET hash = '改过的哈希' WHERE id = :id", id=ids[0])
    attacker.sql("UPDATE audit_heads SET hash = '改过的哈希'")
    result = _verify(own_app)
    assert result.exit_code == 1
    assert f"BROKEN at audit event {ids[0]}: its content does not match" in result.stderr


def test_the_chain_head_is_free_until_the_writer_commits(own_app, attacker):
    """Events are chained at commit, so a transaction that has recorded events but not yet
    committed does not hold the chain head: other writers queue on it only for the commit."""
    if attacker.dialect == "sqlite":
        pytest.skip("SQLite serialises whole write transactions; the head lock is PostgreSQL's")
    with own_app.app_context():
        audit.record(None, "unit.update", object_type="Unit", object_id=1, after={"n": 1})
        db.session.flush()
        # Another writer can take the head at once (NOWAIT raises if it is locked).
        assert attacker.sql("SELECT count FROM audit_heads WHERE id = 1 FOR UPDATE NOWAIT")
        db.session.commit()
        assert attacker.sql("SELECT count FROM audit_heads WHERE id = 1")[0][0] == 1
