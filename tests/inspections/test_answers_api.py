"""Answer batches through the API: applied, duplicate on replay, conflict on a stale version."""

import sqlalchemy as sa

from inspect_app.audit.services import verify_chain
from inspect_app.extensions import db
from inspect_app.models import Answer, AuditEvent

from ..conftest import Browser
from .conftest import change
from .test_fill_page import StatementCounter
from .test_fill_page import big as big  # a fixture


def _post(b, inspection_id, *changes):
    return b.post_json(f"/api/v1/inspections/{inspection_id}/answers", {"changes": list(changes)})


def test_first_answer_starts_the_inspection_and_is_applied(app, setup):
    b = Browser(app.test_client())
    b.login(setup["lead"])
    r = _post(
        b,
        setup["inspection"],
        change(setup["items"]["T-01"], result="compliant", note="有任命文件"),
    )
    assert r.status_code == 200
    [outcome] = r.get_json()["results"]
    assert outcome["status"] == "applied"
    assert outcome["answer"]["version"] == 1 and outcome["answer"]["result"] == "compliant"
    detail = b.get(f"/api/v1/inspections/{setup['inspection']}").get_json()
    assert detail["status"] == "in_progress"
    with app.app_context():
        assert db.session.query(AuditEvent).filter_by(action="answer.update").count() == 1


def test_replayed_batch_reports_duplicate_and_changes_nothing(app, setup):
    b = Browser(app.test_client())
    b.login(setup["lead"])
    batch = [change(setup["items"]["T-01"], result="noncompliant", finding_description="未任命")]
    first = _post(b, setup["inspection"], *batch).get_json()["results"][0]
    second = _post(b, setup["inspection"], *batch).get_json()["results"][0]
    assert first["status"] == "applied" and second["status"] == "duplicate"
    assert second["answer"]["version"] == 1
    with app.app_context():
        answer = db.session.query(Answer).filter_by(item_id=setup["items"]["T-01"]).one()
        assert answer.version == 1
        assert db.session.query(AuditEvent).filter_by(action="answer.update").count() == 1


def test_stale_base_version_reports_conflict_with_the_servers_value(app, setup):
    lead, member = Browser(app.test_client()), Browser(app.test_client())
    lead.login(setup["lead"])
    member.login(setup["member"])
    item = setup["items"]["T-02"]
    assert (
        _post(lead, setup["inspection"], change(item, 0, result="compliant")).get_json()["results"][
            0
        ]["status"]
        == "applied"
    )
    outcome = _post(member, setup["inspection"], change(item, 0, result="noncompliant")).get_json()[
        "results"
    ][0]
    assert outcome["status"] == "conflict"
    assert outcome["server"]["result"] == "compliant" and outcome["server"]["version"] == 1
    with app.app_context():
        assert db.session.query(Answer).filter_by(item_id=item).one().result == "compliant"


def test_two_inspectors_filling_different_items_lose_nothing(app, setup):
    lead, member = Browser(app.test_client()), Browser(app.test_client())
    lead.login(setup["lead"])
    member.login(setup["member"])
    _post(lead, setup["inspection"], change(setup["items"]["T-01"], result="compliant"))
    _post(
        member,
        setup["inspection"],
        change(setup["items"]["T-02"], result="noncompliant", finding_description="日志仅保留30天"),
    )
    _post(lead, setup["inspection"], change(setup["items"]["T-01"], 1, note="复核"))
    with app.app_context():
        answers = {
            a.item.code: a for a in db.session.query(Answer).filter(Answer.result.is_not(None))
        }
        assert answers["T-01"].result == "compliant" and answers["T-01"].note == "复核"
        assert answers["T-02"].finding_description == "日志仅保留30天"


def test_same_value_on_a_stale_version_is_not_a_conflict(app, setup):
    lead, member = Browser(app.test_client()), Browser(app.test_client())
    lead.login(setup["lead"])
    member.login(setup["member"])
    item = setup["items"]["T-02"]
    _post(lead, setup["inspection"], change(item, 0, result="compliant"))
    outcome = _post(member, setup["inspection"], change(item, 0, result="compliant")).get_json()[
        "results"
    ][0]
    assert outcome["status"] == "applied"


def test_bad_changes_are_rejected_one_by_one_and_the_good_ones_applied(app, setup):
    b = Browser(app.test_client())
    b.login(setup["lead"])
    results = _post(
        b,
        setup["inspection"],
        change(setup["items"]["T-01"], result="maybe"),
        change(setup["items"]["T-06"], value="很多"),
        {
            "change_id": "not-a-uuid",
            "item_id": setup["items"]["T-01"],
            "base_version": 0,
            "result": "compliant",
        },
        change(999999, result="compliant"),
        change(setup["items"]["T-06"], value="12"),
    ).get_json()["results"]
    assert [r["status"] for r in results] == [
        "rejected",
        "rejected",
        "rejected",
        "rejected",
        "applied",
    ]
    assert results[4]["answer"]["value"] == 12
    assert "UUID" in results[2]["message"]


def test_reused_change_id_with_different_content_is_rejected(app, setup):
    b = Browser(app.test_client())
    b.login(setup["lead"])
    first = change(setup["items"]["T-01"], result="compliant")
    _post(b, setup["inspection"], first)
    second = {**first, "result": "noncompliant"}
    assert _post(b, setup["inspection"], second).get_json()["results"][0]["status"] == "rejected"


def test_inspector_not_on_the_team_gets_404(app, setup):
    b = Browser(app.test_client())
    b.login(setup["outsider"])
    assert b.get(f"/api/v1/inspections/{setup['inspection']}").status_code == 404
    r = _post(b, setup["inspection"], change(setup["items"]["T-01"], result="compliant"))
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_found"


def test_unit_user_cannot_see_an_inspection_before_submission(app, make, setup):
    from inspect_app.models import Unit

    with app.app_context():
        make.user(role="unit", username="liaison", unit=db.session.get(Unit, setup["unit"]))
    b = Browser(app.test_client())
    b.login("liaison")
    assert b.get(f"/api/v1/inspections/{setup['inspection']}").status_code == 404
    assert b.get(f"/inspections/{setup['inspection']}").status_code == 404


def test_answers_without_csrf_header_are_refused(app, setup):
    b = Browser(app.test_client())
    b.login(setup["lead"])
    r = b.client.post(
        f"/api/v1/inspections/{setup['inspection']}/answers",
        json={"changes": [change(setup["items"]["T-01"], result="compliant")]},
    )
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "csrf_failed"


def test_api_needs_login_and_answers_in_json(client, setup):
    r = client.get(f"/api/v1/inspections/{setup['inspection']}")
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "unauthorized"


def test_malformed_batch_is_a_json_400(app, setup):
    b = Browser(app.test_client())
    b.login(setup["lead"])
    r = b.post_json(f"/api/v1/inspections/{setup['inspection']}/answers", {"changes": []})
    assert r.status_code == 400 and r.is_json


def test_my_inspections_lists_team_inspections_with_progress(app, setup):
    b = Browser(app.test_client())
    b.login(setup["member"])
    _post(b, setup["inspection"], change(setup["items"]["T-01"], result="compliant"))
    listing = b.get("/api/v1/inspections").get_json()["inspections"]
    assert [i["id"] for i in listing] == [setup["inspection"]]
    assert listing[0]["progress"] == {
        "answered": 1,
        "total": 4,
    }  # T-04 hidden, T-05 not for non-CII units
    outsider = Browser(app.test_client())
    outsider.login(setup["outsider"])
    assert outsider.get("/api/v1/inspections").get_json()["inspections"] == []


def test_detail_lists_applicable_items_and_shown_codes(app, setup):
    b = Browser(app.test_client())
    b.login(setup["lead"])
    detail = b.get(f"/api/v1/inspections/{setup['inspection']}").get_json()
    assert [i["code"] for i in detail["items"]] == ["T-01", "T-02", "T-03", "T-04", "T-06"]
    assert "T-04" not in detail["shown_item_codes"]
    _post(b, setup["inspection"], change(setup["items"]["T-03"], result="compliant"))
    detail = b.get(f"/api/v1/inspections/{setup['inspection']}").get_json()
    assert "T-04" in detail["shown_item_codes"]


def test_openapi_document_describes_the_answer_endpoint(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    post = doc["paths"]["/api/v1/inspections/{inspection_id}/answers"]["post"]
    assert post["responses"]["200"]
    assert set(doc["components"]["schemas"]["Outcome"]["properties"]["status"]["enum"]) == {
        "applied",
        "duplicate",
        "conflict",
        "rejected",
    }


def test_unit_user_sees_no_audit_trace_of_an_inspection_before_submission(app, make, setup):
    from inspect_app.models import Unit

    lead = Browser(app.test_client())
    lead.login(setup["lead"])
    _post(
        lead,
        setup["inspection"],
        change(setup["items"]["T-01"], result="noncompliant", finding_description="未任命"),
    )
    with app.app_context():
        make.user(role="unit", username="own_unit", unit=db.session.get(Unit, setup["unit"]))
        event_ids = [
            e.id
            for e in db.session.query(AuditEvent).filter(
                AuditEvent.action.in_(["answer.update", "inspection.start"])
            )
        ]
    liaison = Browser(app.test_client())
    liaison.login("own_unit")
    assert "未任命" not in liaison.get("/audit/").get_data(as_text=True)
    for event_id in event_ids:
        assert liaison.get(f"/audit/{event_id}").status_code == 404


def test_a_change_that_changes_nothing_keeps_the_version_and_writes_no_audit_event(app, setup):
    b = Browser(app.test_client())
    b.login(setup["lead"])
    item = setup["items"]["T-01"]
    _post(b, setup["inspection"], change(item, result="compliant"))
    outcome = _post(
        b, setup["inspection"], change(item, 1, result="compliant", note=None)
    ).get_json()["results"][0]
    assert outcome["status"] == "applied" and outcome["answer"]["version"] == 1
    with app.app_context():
        assert db.session.query(AuditEvent).filter_by(action="answer.update").count() == 1


def test_upper_case_replay_of_an_applied_change_id_is_refused_and_the_batch_kept(app, setup):
    """Security review 1-A: the lookup used the raw id, the insert the lower-cased one (500)."""
    b = Browser(app.test_client())
    b.login(setup["lead"])
    first = change(setup["items"]["T-01"], note="n")
    assert _post(b, setup["inspection"], first).get_json()["results"][0]["status"] == "applied"
    replay = {**first, "change_id": first["change_id"].upper(), "base_version": 1, "note": "up2"}
    innocent = change(setup["items"]["T-02"], note="innocent change in the same batch")
    response = _post(b, setup["inspection"], replay, innocent)
    assert response.status_code == 200
    replayed, applied = response.get_json()["results"]
    assert replayed["status"] == "rejected" and applied["status"] == "applied"
    same = {**first, "change_id": first["change_id"].upper()}
    assert _post(b, setup["inspection"], same).get_json()["results"][0]["status"] == "duplicate"
    with app.app_context():
        assert db.session.query(Answer).filter_by(item_id=setup["items"]["T-01"]).one().note == "n"


def test_a_batch_costs_the_same_few_statements_whatever_its_size(app, big):
    """bench/load.py: statements per batch set its throughput. On PostgreSQL: the login 1, the
    inspection locked with its team 1, the items with their answers 1 (after the lock:
    test_concurrency), the audit chain's head with the events' ids 1, then the events, the head
    moved, the new change_ids and the answers 1 (none is read first: a batch with a known one is
    worked out again). On SQLite
    the change_ids and the answers are two statements (executemany) before the commit, and the
    head is moved apart from the events, which are written one INSERT each (SQLite promises no
    order of the ids an INSERT returns)."""
    b = Browser(app.test_client())
    b.login(big["lead"])
    ids = big["item_ids"]
    b.post_json(  # the once-a-minute last-seen write falls here, not on the batches counted
        f"/api/v1/inspections/{big['inspection']}/answers",
        {"changes": [change(ids[0], 1, note="first")]},
    )
    for size in (3, 30):
        counter = StatementCounter()
        sa.event.listen(sa.engine.Engine, "before_cursor_execute", counter)
        try:
            r = _post(
                b,
                big["inspection"],
                *(change(ids[i], 1, result="compliant", note=f"n{i}") for i in range(1, size + 1)),
            )
        finally:
            sa.event.remove(sa.engine.Engine, "before_cursor_execute", counter)
        assert [o["status"] for o in r.get_json()["results"]] == ["applied"] * size
        with app.app_context():
            sqlite = db.engine.dialect.name == "sqlite"
        assert len(counter.statements) <= (7 + size if sqlite else 5), "\n\n".join(
            counter.statements
        )
        ids = ids[size:]


def test_changes_to_one_item_within_a_batch_apply_in_turn(app, setup):
    b = Browser(app.test_client())
    b.login(setup["lead"])
    item = setup["items"]["T-01"]
    results = _post(
        b,
        setup["inspection"],
        change(item, 0, result="noncompliant", finding_description="未任命"),
        change(item, 1, note="已拍照"),
        change(item, 1, note="made on version 1 again: stale"),
        change(item, 2, result="compliant"),
    ).get_json()["results"]
    assert [r["status"] for r in results] == ["applied", "applied", "conflict", "applied"]
    assert [r["answer"]["version"] for r in results if r["status"] == "applied"] == [1, 2, 3]
    assert results[2]["server"]["version"] == 2
    with app.app_context():
        answer = db.session.query(Answer).filter_by(item_id=item).one()
        assert (answer.version, answer.result, answer.note) == (3, "compliant", "已拍照")
        assert answer.finding_description == "未任命"
        assert db.session.query(AuditEvent).filter_by(action="answer.update").count() == 3
        # an answer without a value keeps SQL NULL, as its row was made (not JSON null)
        assert (
            db.session.scalar(
                sa.select(sa.func.count())
                .select_from(Answer)
                .where(Answer.item_id == item, Answer.__table__.c.value.is_(None))
            )
            == 1
        )


def test_a_batch_sent_again_with_a_new_change_added_applies_only_the_new_one(app, setup):
    b = Browser(app.test_client())
    b.login(setup["lead"])
    first = change(setup["items"]["T-01"], result="compliant", note="第一次")
    _post(b, setup["inspection"], first)
    second = change(setup["items"]["T-02"], result="noncompliant", finding_description="无日志")
    results = _post(b, setup["inspection"], first, second).get_json()["results"]
    assert [r["status"] for r in results] == ["duplicate", "applied"]
    assert results[0]["answer"]["version"] == 1 and results[1]["answer"]["version"] == 1
    with app.app_context():
        # the first try took first's change_id for new; its commit found it known and the
        # batch was worked out again (on PostgreSQL from within the commit: the writes go with
        # the audit events), leaving one event per change and the log whole
        assert db.session.query(AuditEvent).filter_by(action="answer.update").count() == 2
        assert verify_chain()[1] is None
        assert {
            a.item.code: a.version for a in db.session.query(Answer).filter(Answer.version > 0)
        } == {
            "T-01": 1,
            "T-02": 1,
        }


def test_what_a_batch_writes_reads_back_exactly(app, setup):
    """Text, numbers and a value cleared: stored as sent (on PostgreSQL the batch goes as JSON
    in one statement), a cleared value as SQL NULL."""
    b = Browser(app.test_client())
    b.login(setup["lead"])
    text, number = setup["items"]["T-01"], setup["items"]["T-06"]
    note = '现场 🧯 \U00020000 "引号" back\\slash\n第二行\t'
    sent = [
        change(
            text,
            0,
            result="noncompliant",
            note=note,
            finding_description="未任命 <b>&amp;</b>",
            finding_severity="high",
            finding_deadline_days=30,
        ),
        change(number, 0, value=0.1),
    ]
    assert [o["status"] for o in _post(b, setup["inspection"], *sent).get_json()["results"]] == [
        "applied",
        "applied",
    ]
    with app.app_context():
        answer = db.session.query(Answer).filter_by(item_id=text).one()
        assert (answer.note, answer.finding_description) == (note, "未任命 <b>&amp;</b>")
        assert (answer.finding_severity, answer.finding_deadline_days) == ("high", 30)
        assert db.session.query(Answer).filter_by(item_id=number).one().value == 0.1
    for base, value in ((1, 12345678901), (2, None)):
        results = _post(b, setup["inspection"], change(number, base, value=value))
        assert results.get_json()["results"][0]["status"] == "applied"
        with app.app_context():
            stored = db.session.query(Answer).filter_by(item_id=number).one()
            assert (stored.value, stored.version) == (value, base + 1)
    with app.app_context():
        assert db.session.scalar(
            sa.select(Answer.__table__.c.value.is_(None)).where(Answer.item_id == number)
        )


def test_a_batch_made_at_a_zoned_time_is_stored_in_utc(app, setup):
    """Every datetime column holds naive UTC: a `now` with a zone is converted, not cut."""
    from datetime import datetime, timedelta, timezone

    from inspect_app.inspections import answering
    from inspect_app.models import AppliedChange, User

    beijing = timezone(timedelta(hours=8))
    item = setup["items"]["T-02"]
    with app.app_context():
        lead = db.session.scalar(sa.select(User).where(User.username == setup["lead"]))
        sent = change(item, 0, result="compliant")
        [outcome] = answering.apply_changes(
            setup["inspection"],
            [sent],
            actor=lead,
            now=datetime(2026, 12, 7, 14, 0, tzinfo=beijing),
        )
        assert outcome["answer"]["updated_at"] == "2026-12-07T06:00:00Z"
        db.session.expire_all()
        answer = db.session.query(Answer).filter_by(item_id=item).one()
        assert answer.updated_at == datetime(2026, 12, 7, 6, 0)
        stored = db.session.get(AppliedChange, sent["change_id"])
        assert stored.created_at == datetime(2026, 12, 7, 6, 0)


def test_a_batch_stores_every_column_of_an_applied_change():
    """PostgreSQL inserts the columns it sends: a column added to applied_changes must be sent
    (or it would take its default without anyone deciding so)."""
    from inspect_app.inspections.answering import _APPLIED_COLUMNS
    from inspect_app.models import AppliedChange

    assert set(_APPLIED_COLUMNS) == set(AppliedChange.__table__.columns.keys())


def test_only_the_batch_that_starts_an_inspection_moves_the_dashboards_figures(app, setup):
    """The figures' version (audit heads' figure_events) counts the start of the inspection,
    not the answers: a leader's dashboard stays warm while inspectors answer."""
    from inspect_app.dashboard.cache import data_version

    b = Browser(app.test_client())
    b.login(setup["lead"])
    items = setup["items"]
    with app.app_context():
        before = data_version() or 0
    _post(b, setup["inspection"], change(items["T-01"], 0, result="compliant"))
    with app.app_context():
        started = data_version()
    assert started == before + 1  # inspection.start (planned -> in progress)
    _post(b, setup["inspection"], change(items["T-02"], 0, result="noncompliant"))
    _post(b, setup["inspection"], change(items["T-01"], 1, note="再查"))
    with app.app_context():
        assert data_version() == started
