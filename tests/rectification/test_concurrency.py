"""Two moves on one item at once (verify and return): one wins, the other gets a 409."""

import threading
from datetime import date

import pytest
from flask_migrate import upgrade

from inspect_app import create_app
from inspect_app.errors import Conflict, InvalidTransition
from inspect_app.extensions import db
from inspect_app.models import RectificationItem, User
from inspect_app.rectification import services as rs

from ..conftest import make_test_config
from ..factories import Factory

TODAY = date(2026, 6, 1)


@pytest.fixture
def other_app(new_database_url, tmp_path):
    app = create_app(make_test_config(new_database_url(), tmp_path))
    with app.app_context():
        upgrade()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.mark.parametrize("with_version", [False, True])
def test_verify_and_return_at_once_one_wins_the_other_is_refused(other_app, with_version):
    with other_app.app_context():
        make = Factory()
        unit = make.unit()
        liaison = make.user(role="unit", unit=unit)
        office_a, office_b = make.user(role="coordinator"), make.user(role="coordinator")
        items = []
        for _ in range(4):
            finding = make.finding(make.inspection(unit=unit, status="submitted"), due_date=TODAY)
            rs.respond(
                finding.rectification.id,
                actor=liaison,
                cause="c",
                measures="m",
                completed_on=TODAY,
                responsible_person="p",
                today=TODAY,
            )
            items.append(finding.rectification.id)
        ids = (office_a.id, office_b.id)
        db.session.remove()
    for item_id in items:
        outcomes, barrier = [], threading.Barrier(2)

        def act(kind, user_id, item_id=item_id, outcomes=outcomes, barrier=barrier):
            with other_app.app_context():
                version = 1 if with_version else None
                barrier.wait()  # no transaction is open while waiting (SQLite would queue here)
                try:
                    actor = db.session.get(User, user_id)
                    if kind == "verify":
                        rs.verify(item_id, actor=actor, expected_version=version, today=TODAY)
                    else:
                        rs.return_item(
                            item_id,
                            actor=actor,
                            reason="不足",
                            due_date=TODAY,
                            expected_version=version,
                            today=TODAY,
                        )
                    outcomes.append(kind)
                except (InvalidTransition, Conflict) as err:
                    outcomes.append(err.status_code)
                finally:
                    db.session.remove()

        threads = [
            threading.Thread(target=act, args=("verify", ids[0])),
            threading.Thread(target=act, args=("return", ids[1])),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(map(str, outcomes)) in (["409", "verify"], ["409", "return"])
        with other_app.app_context():
            item = db.session.get(RectificationItem, item_id)
            assert item.status in ("closed", "returned") and item.version == 2
            assert len(item.events) == 2
            db.session.remove()
