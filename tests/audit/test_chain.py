"""The audit chain: written with the change, chained, verified (tampering: test_tamper.py)."""

import sqlalchemy as sa

from inspect_app import audit
from inspect_app.audit.services import GENESIS, verify_chain
from inspect_app.extensions import db
from inspect_app.models import AuditEvent


def _record_three(make):
    unit = make.unit()
    for n in range(3):
        audit.record(None, "unit.update", unit, before={"n": n}, after={"n": n + 1})
    db.session.commit()
    return db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)).all()


def test_events_chain_to_each_other(ctx, make):
    events = _record_three(make)
    assert events[0].prev_hash == GENESIS
    assert events[1].prev_hash == events[0].hash
    assert events[2].prev_hash == events[1].hash
    assert verify_chain() == (3, None)


def test_audit_event_is_rolled_back_with_the_change(ctx, make):
    unit = make.unit()
    audit.record(None, "unit.update", unit)
    db.session.rollback()
    assert db.session.query(AuditEvent).count() == 0


def test_an_event_recorded_in_a_savepoint_that_is_rolled_back_is_not_written(ctx, make):
    unit = make.unit()
    audit.record(None, "unit.update", unit, after={"n": 1})
    try:
        with db.session.begin_nested():
            audit.record(None, "unit.update", unit, after={"n": 2})
            with db.session.begin_nested():
                audit.record(None, "unit.update", unit, after={"n": 3})
            raise RuntimeError("undo the savepoint")
    except RuntimeError:
        pass
    with db.session.begin_nested():
        audit.record(None, "unit.update", unit, after={"n": 4})
    db.session.commit()
    events = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [e.after for e in events] == [{"n": 1}, {"n": 4}]
    assert events[1].prev_hash == events[0].hash
    assert verify_chain() == (2, None)


def test_events_of_a_rolled_back_transaction_do_not_reach_the_next_one(ctx, make):
    unit = make.unit()
    audit.record(None, "unit.update", unit, after={"n": 1})
    db.session.rollback()
    audit.record(None, "unit.update", unit, after={"n": 2})
    db.session.commit()
    assert [e.after for e in db.session.scalars(sa.select(AuditEvent))] == [{"n": 2}]


def test_an_event_recorded_before_any_statement_is_rolled_back_too(app):
    """No statement had begun the session's transaction when the event was recorded: the
    rollback still drops it (it used to reach the next commit)."""
    with app.app_context():
        db.session.commit()  # nothing under way
        audit.record(None, "round.update", object_type="Round", object_id=1, after={"n": 1})
        db.session.rollback()
        audit.record(None, "round.update", object_type="Round", object_id=1, after={"n": 2})
        db.session.commit()
        assert [e.after for e in db.session.scalars(sa.select(AuditEvent))] == [{"n": 2}]


def test_an_event_is_chained_at_commit_in_the_order_recorded(ctx, make):
    unit = make.unit()
    first = audit.record(None, "unit.update", unit, after={"n": 1})
    second = audit.record(None, "unit.update", unit, after={"n": 2})
    assert first.id is None and first.hash is None  # not yet chained
    db.session.commit()
    assert first.id < second.id
    assert (first.prev_hash, second.prev_hash) == (GENESIS, first.hash)


def test_verify_exits_0_on_an_intact_chain(app, make):
    with app.app_context():
        _record_three(make)
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0
    assert "3" in result.output


def test_audit_event_page_shows_before_and_after(login_as, app, make):
    with app.app_context():
        unit = make.unit()
        ev = audit.record(
            None, "unit.update", unit, before={"name": "旧名"}, after={"name": "新名"}
        )
        db.session.commit()
        event_id = ev.id
    html = login_as("coordinator").get(f"/audit/{event_id}").get_data(as_text=True)
    assert "旧名" in html and "新名" in html


def test_concurrent_appends_from_many_threads_keep_one_chain(new_database_url, tmp_path):
    """Eight workers appending at once (SQLite file or PostgreSQL) never fork the chain."""
    import threading

    from flask_migrate import upgrade

    from inspect_app import create_app

    from ..conftest import make_test_config

    other = create_app(make_test_config(new_database_url(), tmp_path))
    with other.app_context():
        upgrade()
    errors = []

    def work(n):
        try:
            with other.app_context():
                for i in range(10):
                    db.session.scalar(
                        sa.select(sa.func.count(AuditEvent.id))
                    )  # read first, then write
                    audit.record(None, "test.concurrent", object_type="T", object_id=f"{n}-{i}")
                    db.session.commit()
                db.session.remove()
        except Exception as err:  # noqa: BLE001
            errors.append(err)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with other.app_context():
        assert verify_chain() == (80, None)
        db.session.remove()
        db.engine.dispose()


def test_record_takes_the_client_address_as_an_argument_outside_a_request(ctx):
    from inspect_app.models import AuditEvent

    event = audit.record(None, "test.job_run", object_type="Job", ip="192.0.2.4")
    assert event.ip == "192.0.2.4"
    assert audit.record(None, "test.job_run", object_type="Job").ip == ""
    db.session.commit()
    assert db.session.get(AuditEvent, event.id).ip == "192.0.2.4"


def test_a_request_tags_its_events_with_the_client_address(app, client):
    from inspect_app.models import AuditEvent

    token = client.get("/api/v1/csrf").get_json()["csrf_token"]
    client.post(
        "/auth/login",
        data={"username": "nobody-here", "password": "x" * 12, "csrf_token": token},
        environ_base={"REMOTE_ADDR": "192.0.2.77"},
    )
    with app.app_context():
        event = db.session.query(AuditEvent).order_by(AuditEvent.id.desc()).first()
        assert (event.action, event.ip) == ("auth.login_failed", "192.0.2.77")


AWKWARD = {
    "text": '整改通知书 🧯 \U00020000 "quoted" back\\slash \t tab',
    "numbers": [0, -1, 2**53 + 1, 0.1, 1.0, 1e-07, 12345.678],
    "nested": {"z": None, "a": [True, False, {"k": []}]},
    "empty": "",
}


def test_events_are_stored_as_they_were_hashed_whatever_their_content(ctx, make):
    """On PostgreSQL the events of a commit go in one statement as JSON: what comes back must
    be what was hashed, to the microsecond and the last digit."""
    unit = make.unit()
    audit.record(None, "unit.update", unit, before=None, after=AWKWARD, ip="2001:db8::1")
    audit.record(None, "unit.update", unit, before={"n": 1}, after=None)
    db.session.commit()
    db.session.expunge_all()
    events = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [e.after for e in events] == [AWKWARD, None]
    assert [e.before for e in events] == [None, {"n": 1}]
    assert events[0].ip == "2001:db8::1"
    # the hashes, recomputed from what was stored (created_at to the microsecond included)
    assert verify_chain() == (2, None)


def test_the_audit_pages_type_filter_reads_no_log(login_as, app, make):
    """The log grows with every answer batch: the object types offered are the ones the app
    names (OBJECT_TYPE_LABELS), not a DISTINCT over the whole log at every page."""
    from inspect_app.labels import OBJECT_TYPE_LABELS

    from ..dashboard.conftest import StatementCounter

    coordinator = login_as("coordinator")
    with StatementCounter() as counter:
        html = coordinator.get("/audit/").get_data(as_text=True)
    assert not [s for s in counter.statements if "DISTINCT" in s.upper()]
    for code in OBJECT_TYPE_LABELS:
        assert f'<option value="{code}"' in html
    assert 'value="Import"' in html  # the directory import's events


def test_a_recorded_event_carries_every_column_of_the_log():
    """record() keeps a plain Recorded, written by statement at the commit: a column added to
    AuditEvent must be one of its fields too, or the commit would fail."""
    from dataclasses import fields

    from inspect_app.audit.services import Recorded

    assert {f.name for f in fields(Recorded)} == {c.name for c in AuditEvent.__table__.columns}
