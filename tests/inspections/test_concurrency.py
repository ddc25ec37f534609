"""Two inspectors on one inspection at the same moment: nothing fails, nothing is lost."""

import threading
import uuid

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from inspect_app import create_app
from inspect_app.extensions import db
from inspect_app.inspections import answering
from inspect_app.models import Answer, User

from ..conftest import make_test_config
from ..factories import Factory


@pytest.fixture
def other_app(new_database_url, tmp_path):
    app = create_app(make_test_config(new_database_url(), tmp_path))
    with app.app_context():
        upgrade()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_first_answers_from_two_inspectors_at_once_are_both_kept(other_app):
    with other_app.app_context():
        make = Factory()
        template = make.template(
            items=[{"code": f"C-{n:02d}", "text": f"问题{n}？"} for n in range(20)]
        )
        lead, member = make.user(role="inspector"), make.user(role="inspector")
        inspections = [
            make.inspection(template=template, members=[lead, member]).id for _ in range(4)
        ]
        item_ids = [i.id for i in template.items]
        users = (lead.id, member.id)
    errors = []
    barrier = threading.Barrier(2)

    def work(user_id, item_id, inspection_id):
        try:
            barrier.wait()  # both start together; neither holds a transaction while waiting
            with other_app.app_context():
                actor = db.session.get(User, user_id)
                change = {
                    "change_id": str(uuid.uuid4()),
                    "item_id": item_id,
                    "base_version": 0,
                    "result": "compliant",
                }
                [outcome] = answering.apply_changes(inspection_id, [change], actor=actor)
                assert outcome["status"] == "applied", outcome
                db.session.remove()
        except Exception as err:  # noqa: BLE001
            errors.append(err)

    for inspection_id in inspections:
        threads = [
            threading.Thread(target=work, args=(users[n], item_ids[n], inspection_id))
            for n in range(2)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert errors == []
    with other_app.app_context():
        for inspection_id in inspections:
            answers = db.session.query(Answer).filter_by(inspection_id=inspection_id).all()
            assert len(answers) == 20
            assert sum(1 for a in answers if a.result == "compliant") == 2


@pytest.mark.parametrize("same_value", [False, True])
def test_one_new_change_id_sent_to_two_inspections_at_once_is_applied_once(other_app, same_value):
    """Security review 1-B: the row lock is per inspection, so both requests reached the insert
    of the same change_id; the loser got a 500 and lost its batch on PostgreSQL."""
    trials = 5
    with other_app.app_context():
        make = Factory()
        template = make.template(
            items=[{"code": "C-01", "text": "问题？"}, {"code": "C-02", "text": "问题2？"}]
        )
        lead = make.user(role="inspector")
        pairs = [
            [make.inspection(template=template, members=[lead]).id for _ in range(2)]
            for _ in range(trials)
        ]
        first, second = (i.id for i in template.items)
        lead_id = lead.id
        if same_value:  # the answers hold the value already: no write and no audit lock
            for inspection_id in sum(pairs, []):
                answering.apply_changes(
                    inspection_id,
                    [
                        {
                            "change_id": str(uuid.uuid4()),
                            "item_id": first,
                            "base_version": 0,
                            "result": "compliant",
                        }
                    ],
                    actor=db.session.get(User, lead_id),
                )
        db.session.remove()
    base = 1 if same_value else 0
    for pair in pairs:
        shared = str(uuid.uuid4())
        results, errors = {}, []
        barrier = threading.Barrier(2)

        def work(inspection_id, shared=shared, results=results, errors=errors, barrier=barrier):
            try:
                barrier.wait()
                with other_app.app_context():
                    batch = [
                        {
                            "change_id": shared,
                            "item_id": first,
                            "base_version": base,
                            "result": "compliant",
                        },
                        {
                            "change_id": str(uuid.uuid4()),
                            "item_id": second,
                            "base_version": 0,
                            "note": "innocent change in the same batch",
                        },
                    ]
                    actor = db.session.get(User, lead_id)
                    results[inspection_id] = answering.apply_changes(
                        inspection_id, batch, actor=actor
                    )
                    db.session.remove()
            except Exception as err:  # noqa: BLE001
                errors.append(err)

        threads = [threading.Thread(target=work, args=(i,)) for i in pair]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert sorted(results[i][0]["status"] for i in pair) == ["applied", "rejected"]
        assert all(results[i][1]["status"] == "applied" for i in pair)


@pytest.mark.parametrize(("base", "expected"), [(1, "conflict"), (2, "applied")])
def test_a_batch_that_waited_for_the_inspections_lock_sees_the_answers_written_meanwhile(
    other_app, base, expected
):
    """The lock was taken in the statement that read the answers: on PostgreSQL the other
    rows of a statement that waits for a row lock are those of its start, so the batch worked
    on the answer as it was before the holder wrote it (a change to the old value was told
    "applied" and written nowhere; one on the new version was refused). The answers are read
    after the lock."""
    if not str(other_app.config["SQLALCHEMY_DATABASE_URI"]).startswith("postgresql"):
        pytest.skip("a writer waiting for a row lock: PostgreSQL (SQLite locks the database)")
    with other_app.app_context():
        make = Factory()
        template = make.template(items=[{"code": "C-01", "text": "问题？"}])
        lead = make.user(role="inspector")
        inspection_id = make.inspection(template=template, members=[lead]).id
        item, lead_id = template.items[0].id, lead.id
        answering.apply_changes(
            inspection_id,
            [
                {
                    "change_id": str(uuid.uuid4()),
                    "item_id": item,
                    "base_version": 0,
                    "result": "compliant",
                }
            ],
            actor=db.session.get(User, lead_id),
        )
        db.session.remove()
        engine = db.engine
    with engine.connect() as holder:
        holder.execute(
            sa.text("SELECT id FROM inspections WHERE id = :i FOR UPDATE"), {"i": inspection_id}
        )
        holder.execute(  # another writer, under the inspection's lock: version 2
            sa.text(
                "UPDATE answers SET result = 'noncompliant', version = 2 WHERE inspection_id = :i"
            ),
            {"i": inspection_id},
        )
        outcome = {}

        def work():
            with other_app.app_context():
                change = {
                    "change_id": str(uuid.uuid4()),
                    "item_id": item,
                    "base_version": base,
                    "result": "compliant",
                }
                [outcome["o"]] = answering.apply_changes(
                    inspection_id, [change], actor=db.session.get(User, lead_id)
                )
                db.session.remove()

        thread = threading.Thread(target=work)
        thread.start()
        thread.join(1.0)  # it waits for the holder's lock
        holder.commit()
    thread.join()
    assert outcome["o"]["status"] == expected, outcome
    with other_app.app_context():
        answer = db.session.scalars(sa.select(Answer).filter_by(inspection_id=inspection_id)).one()
        stored = (answer.result, answer.version)
    assert stored == (("noncompliant", 2) if expected == "conflict" else ("compliant", 3))
