"""Events from before the chain was keyed still verify; keys can be rotated; a weak key is refused."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from inspect_app import ConfigurationError, audit, create_app
from inspect_app.audit.keys import key_id_of, keyring
from inspect_app.audit.services import GENESIS, HMAC_V1, LEGACY, keyed_hash, legacy_hash
from inspect_app.config import INSECURE_AUDIT_HMAC_KEY
from inspect_app.extensions import db
from inspect_app.models import AuditEvent, utcnow

from ..conftest import TEST_AUDIT_KEY, make_test_config
from .conftest import Attacker, run_cli
from .test_tamper import _rechain, _record

BEFORE_KEYED = "680f6d1dcafe"  # the last revision whose events were plain SHA-256


def _write_legacy_events(app, n: int) -> None:
    """What the app wrote before this change: sha256(prev_hash + canonical JSON), head moved."""
    with app.app_context():
        prev = GENESIS
        with db.engine.begin() as conn:
            for i in range(n):
                ev = AuditEvent(
                    created_at=utcnow(),
                    actor_id=None,
                    actor_name="system",
                    action="test.legacy_event",
                    object_type="T",
                    object_id=str(i),
                    unit_id=None,
                    before=None,
                    after={"n": i},
                    ip="",
                    prev_hash=prev,
                )
                ev.hash = legacy_hash(ev)
                row = conn.execute(
                    sa.text(
                        "INSERT INTO audit_events (created_at, actor_id, actor_name, action, "
                        "object_type, object_id, unit_id, before, after, ip, prev_hash, hash) "
                        "VALUES (:created_at, NULL, :actor_name, :action, :object_type, "
                        ":object_id, NULL, NULL, :after, :ip, :prev_hash, :hash) RETURNING id"
                    ),
                    {
                        "created_at": ev.created_at,
                        "actor_name": ev.actor_name,
                        "action": ev.action,
                        "object_type": ev.object_type,
                        "object_id": ev.object_id,
                        "after": json.dumps(ev.after),
                        "ip": ev.ip,
                        "prev_hash": ev.prev_hash,
                        "hash": ev.hash,
                    },
                ).one()
                prev = ev.hash
                conn.execute(
                    sa.text(
                        "UPDATE audit_heads SET last_event_id = :id, hash = :h, count = :c "
                        "WHERE id = 1"
                    ),
                    {"id": row.id, "h": prev, "c": i + 1},
                )


@pytest.fixture
def upgraded_app(new_database_url, tmp_path):
    """A database that held 3 unkeyed events before it was upgraded to the keyed chain."""
    url = new_database_url()
    app = create_app(make_test_config(url, tmp_path))
    with app.app_context():
        upgrade(revision=BEFORE_KEYED)
    _write_legacy_events(app, 3)
    with app.app_context():
        upgrade()
        db.session.remove()
    engine = sa.create_engine(url)
    yield app, Attacker(engine)
    engine.dispose()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_events_from_before_the_key_stay_verifiable_and_new_ones_are_keyed(upgraded_app):
    app, attacker = upgraded_app
    _record(app, 2)
    schemes = [(e.hash_scheme, e.key_id) for e in attacker.events()]
    key_id = key_id_of(TEST_AUDIT_KEY.encode())
    assert schemes == [(LEGACY, None)] * 3 + [(HMAC_V1, key_id)] * 2
    result = run_cli(app, "audit", "verify")
    assert result.exit_code == 0, result.output
    assert "OK: 5 audit events, chain intact." in result.output


def test_rewriting_the_unkeyed_history_is_caught_at_the_first_keyed_event(upgraded_app):
    app, attacker = upgraded_app
    _record(app, 2)
    attacker.drop_triggers()
    events = attacker.events()
    # The legacy part can be recomputed without a key; the first keyed event's MAC covers it.
    legacy = events[:3]
    legacy[0].actor_name = "someone-else"
    _rechain(attacker, legacy, 0, legacy_hash, actor_name="someone-else")
    attacker.rewrite(events[3], prev_hash=legacy[-1].hash)
    attacker.move_head(events[-1].id, events[-1].hash, 5)

    result = run_cli(app, "audit", "verify")

    assert result.exit_code == 1
    assert f"BROKEN at audit event {events[3].id}: its content does not match" in result.stderr


def test_old_events_verify_after_the_key_is_rotated(own_app):
    _record(own_app, 2)
    assert run_cli(own_app, "audit", "anchor").exit_code == 0  # signed with the old key
    own_app.config["AUDIT_HMAC_OLD_KEYS"] = [TEST_AUDIT_KEY]
    own_app.config["AUDIT_HMAC_KEY"] = "the-next-audit-key-" + "y" * 40
    _record(own_app, 2)
    with own_app.app_context():
        new_id = keyring().current_id
        ids = db.session.scalars(sa.select(AuditEvent.key_id).order_by(AuditEvent.id)).all()
    old_id = key_id_of(TEST_AUDIT_KEY.encode())
    assert ids == [old_id, old_id, new_id, new_id] and old_id != new_id
    result = run_cli(own_app, "audit", "verify")
    assert result.exit_code == 0, result.output
    assert "OK: 4 audit events" in result.output
    assert "The log still holds event" in result.output


def test_a_leaked_old_key_cannot_rewrite_events_after_the_rotation(own_app, attacker):
    _record(own_app, 2)
    own_app.config["AUDIT_HMAC_OLD_KEYS"] = [TEST_AUDIT_KEY]
    own_app.config["AUDIT_HMAC_KEY"] = "the-next-audit-key-" + "y" * 40
    _record(own_app, 2)
    attacker.drop_triggers()
    events = attacker.events()
    old_id, old_key = key_id_of(TEST_AUDIT_KEY.encode()), TEST_AUDIT_KEY.encode()
    events[3].actor_name = "someone-else"
    _rechain(
        attacker,
        events,
        3,
        lambda ev: keyed_hash(ev, old_id, old_key),
        key_id=old_id,
        actor_name="someone-else",
    )

    result = run_cli(own_app, "audit", "verify")

    assert result.exit_code == 1
    assert (
        f"BROKEN at audit event {events[3].id}: it was hashed with audit key {old_id}, retired "
        "before the key of the events before it" in result.stderr
    )


def test_record_keeps_its_signature_and_writes_a_keyed_event(ctx, make):
    unit = make.unit()
    ev = audit.record(None, "unit.update", unit, before={"n": 1}, after={"n": 2})
    db.session.commit()
    assert (ev.hash_scheme, ev.key_id) == (HMAC_V1, keyring().current_id)
    assert ev.object_type == "Unit" and ev.object_id == str(unit.id)
    assert audit.verify_chain()[1] is None


@pytest.mark.parametrize(
    "key",
    [None, "", INSECURE_AUDIT_HMAC_KEY, "too-short-a-key", "s" * 40],
    ids=["missing", "empty", "insecure-default", "short", "same-as-secret-key"],
)
def test_app_refuses_to_start_in_production_without_a_strong_audit_key(monkeypatch, key):
    monkeypatch.delenv("INSPECT_AUDIT_HMAC_KEY", raising=False)
    config = {"SECRET_KEY": "s" * 40, "SQLALCHEMY_DATABASE_URI": "sqlite://"}
    if key is not None:
        config["AUDIT_HMAC_KEY"] = key
    with pytest.raises(ConfigurationError, match="AUDIT_HMAC_KEY"):
        create_app(config)


def test_audit_key_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("INSPECT_AUDIT_HMAC_KEY", "k" * 48)
    app = create_app({"SECRET_KEY": "s" * 40, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert not app.testing
    with app.app_context():
        assert keyring().current == b"k" * 48
