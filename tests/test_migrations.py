"""Migrations build the schema the models describe, and go down again, on this backend."""

from flask_migrate import check, downgrade, upgrade
from sqlalchemy import inspect

from inspect_app import create_app
from inspect_app.extensions import db

from .conftest import make_test_config


def test_upgrade_then_check_finds_no_model_change_without_migration(new_database_url, tmp_path):
    app = create_app(make_test_config(new_database_url(), tmp_path))
    with app.app_context():
        upgrade()
        check()  # exits non-zero when models and migrations differ
        assert "audit_events" in inspect(db.engine).get_table_names()
        downgrade(revision="base")
        assert "audit_events" not in inspect(db.engine).get_table_names()
        upgrade()
        db.engine.dispose()


def test_migrations_have_a_single_head():
    from pathlib import Path

    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option(
        "script_location", str(Path(__file__).resolve().parent.parent / "migrations")
    )
    assert len(ScriptDirectory.from_config(config).get_heads()) == 1


def test_downgrade_to_base_works_on_a_database_that_holds_data(new_database_url, tmp_path):
    """Dropping tables whose rows others reference used to fail on SQLite's foreign keys."""
    from .factories import Factory

    app = create_app(make_test_config(new_database_url(), tmp_path))
    with app.app_context():
        upgrade()
        make = Factory()
        inspection = make.inspection(status="submitted")
        make.finding(inspection)
        db.session.remove()
        downgrade(revision="base")
        assert "units" not in inspect(db.engine).get_table_names()
        upgrade()
        db.engine.dispose()


def _old_schema_rows(conn):
    """Rows at revision 2f299c3635e3: unit 1 visited on one day by one team with three
    checklists (two numbered notices), and on another day; unit 2 (党政机关) once."""
    from datetime import date, datetime

    from sqlalchemy import text

    now = datetime(2026, 3, 1, 8, 0)
    conn.execute(
        text(
            "INSERT INTO units (id, code, name, kind, is_key_unit, is_cii, sector, address,"
            " contact_name, contact_phone, contact_email, has_website, has_new_media, handles_pi,"
            " important_data, classified, active, created_at, updated_at) VALUES"
            " (1, 'U1', '甲公司', 'soe', false, false, '', '', '', '', '', false, false, false,"
            " false, false, true, :now, :now),"
            " (2, 'U2', '乙局', 'party_gov', false, false, '', '', '', '', '', false, false, false,"
            " false, false, true, :now, :now)"
        ),
        {"now": now},
    )
    conn.execute(
        text(
            "INSERT INTO users (id, username, display_name, password_hash, role, certificate_no,"
            " phone, is_active, session_token, created_at) VALUES"
            " (1, 'a', 'A', 'x', 'coordinator', '', '', true, 't1', :now),"
            " (2, 'b', 'B', 'x', 'coordinator', '', '', true, 't2', :now)"
        ),
        {"now": now},
    )
    conn.execute(
        text(
            "INSERT INTO rounds (id, year, seq, title, theme, nature, status, notes, created_at)"
            " VALUES (1, 2026, 1, 'R1', '', 'enterprise_inspection', 'active', '', :now)"
        ),
        {"now": now},
    )
    conn.execute(
        text(
            "INSERT INTO checklist_templates (id, key, version, title, title_en, target,"
            " description, sha256, source_path, definition, loaded_at) VALUES"
            " (1, 'T', '1', 'T', '', 'unit', '', '', '', '{}', :now)"
        ),
        {"now": now},
    )
    rows = [  # id, unit, day, notice number, issued, served
        (1, 1, date(2026, 3, 5), "号5", date(2026, 3, 6), date(2026, 3, 8)),
        (2, 1, date(2026, 3, 5), "号7", date(2026, 3, 6), None),
        (3, 1, date(2026, 3, 5), None, None, None),
        (4, 1, date(2026, 4, 9), None, None, None),
        (5, 2, date(2026, 3, 5), "号9", date(2026, 3, 6), None),
    ]
    for iid, unit, day, number, issued, served in rows:
        conn.execute(
            text(
                "INSERT INTO inspections (id, round_id, unit_id, template_id, status,"
                " scheduled_on, lead_id, signatory_name, notice_number, notice_issued_on,"
                " notice_served_on, created_at, updated_at) VALUES (:id, 1, :unit, 1,"
                " 'submitted', :day, 1, '', :number, :issued, :served, :now, :now)"
            ),
            {
                "id": iid,
                "unit": unit,
                "day": day,
                "number": number,
                "issued": issued,
                "served": served,
                "now": now,
            },
        )
        for user in (1, 2):
            conn.execute(
                text(
                    "INSERT INTO inspection_members (inspection_id, user_id, certificate_no)"
                    " VALUES (:i, :u, 'c')"
                ),
                {"i": iid, "u": user},
            )


def test_the_visit_migration_groups_inspections_and_moves_the_notice_both_ways(
    new_database_url, tmp_path
):
    from sqlalchemy import text

    app = create_app(make_test_config(new_database_url(), tmp_path))
    with app.app_context():
        upgrade(revision="2f299c3635e3")
        with db.engine.begin() as conn:
            _old_schema_rows(conn)
        upgrade(revision="5f58307847ee")
        with db.engine.connect() as conn:
            visit_of = dict(conn.execute(text("SELECT id, visit_id FROM inspections")).all())
            visits = {
                row.id: row
                for row in conn.execute(
                    text(
                        "SELECT id, unit_id, nature, notice_status, notice_number,"
                        " notice_served_on, service_note FROM visits"
                    )
                )
            }
        assert visit_of[1] == visit_of[2] == visit_of[3]  # one unit, one day, one team
        assert len({visit_of[1], visit_of[4], visit_of[5]}) == 3
        assert len(visits) == 3
        first = visits[visit_of[1]]
        assert first.notice_number == "号5" and first.notice_status == "approved"
        assert str(first.notice_served_on) == "2026-03-08"
        assert "号7" in first.service_note  # the second number is not lost
        assert first.nature == "enterprise_inspection"
        assert visits[visit_of[5]].nature == "party_gov_supervision"
        assert visits[visit_of[4]].notice_number is None
        downgrade(revision="2f299c3635e3")
        with db.engine.connect() as conn:
            numbers = dict(conn.execute(text("SELECT id, notice_number FROM inspections")).all())
        assert numbers[1] == "号5" and numbers[5] == "号9" and numbers[4] is None
        assert "visits" not in inspect(db.engine).get_table_names()
        db.engine.dispose()


def test_the_team_migration_stores_each_visits_inspectors_once_both_ways(
    new_database_url, tmp_path
):
    from sqlalchemy import text

    app = create_app(make_test_config(new_database_url(), tmp_path))
    with app.app_context():
        upgrade(revision="2f299c3635e3")
        with db.engine.begin() as conn:
            _old_schema_rows(conn)
        upgrade(revision="5f58307847ee")
        with db.engine.begin() as conn:
            # The same inspector with another certificate on the visit's second inspection: the
            # first inspection's is kept.
            conn.execute(
                text(
                    "UPDATE inspection_members SET certificate_no = 'later'"
                    " WHERE inspection_id IN (2, 3) AND user_id = 1"
                )
            )
        upgrade(revision="a3c9d1f4b7e2")
        with db.engine.connect() as conn:
            visit_of = dict(conn.execute(text("SELECT id, visit_id FROM inspections")).all())
            team = conn.execute(
                text("SELECT visit_id, user_id, certificate_no FROM visit_members ORDER BY id")
            ).all()
        assert len(team) == 6  # three visits, two inspectors each, each once
        first = [(u, c) for v, u, c in team if v == visit_of[1]]
        assert first == [(1, "c"), (2, "c")]
        assert {u for v, u, _c in team if v == visit_of[5]} == {1, 2}
        downgrade(revision="8d4b2e61c7a9")
        assert "visit_members" not in inspect(db.engine).get_table_names()
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM inspection_members")).scalar() == 10
        db.engine.dispose()


def test_the_chains_migration_keeps_old_events_in_chain_1_and_refuses_to_go_down_past_others(
    new_database_url, tmp_path
):
    import pytest
    from sqlalchemy import text

    event = (
        "INSERT INTO audit_events (created_at, actor_name, action, object_type, object_id, ip,"
        " {chain} prev_hash, hash, hash_scheme) VALUES ('2026-12-07', 'system', 'test.event',"
        " 'T', :n, '', {value} :g, :n, 'hmac-v1')"
    )
    app = create_app(make_test_config(new_database_url(), tmp_path))
    with app.app_context():
        upgrade(revision="a3c9d1f4b7e2")
        with db.engine.begin() as conn:
            conn.execute(text(event.format(chain="", value="")), {"g": "0" * 64, "n": "1"})
        upgrade(revision="c4e8a2f1d6b3")
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT chain FROM audit_events")).scalars().all() == [1]
        downgrade(revision="a3c9d1f4b7e2")  # every event in chain 1: it may go down
        upgrade(revision="c4e8a2f1d6b3")
        with db.engine.begin() as conn:  # an event of chain 2, as a busy PostgreSQL makes them
            conn.execute(text(event.format(chain="chain,", value="2,")), {"g": "0" * 64, "n": "2"})
        with pytest.raises(SystemExit):  # flask-migrate's exit for the migration's error
            downgrade(revision="a3c9d1f4b7e2")
        columns = {c["name"] for c in inspect(db.engine).get_columns("audit_events")}
        assert "chain" in columns
        db.session.remove()
        db.engine.dispose()


def test_the_sealing_migration_seals_stored_two_step_secrets_and_opens_them_going_down(
    new_database_url, tmp_path
):
    from datetime import datetime

    from sqlalchemy import text

    from inspect_app.auth import totp

    secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    app = create_app(make_test_config(new_database_url(), tmp_path))
    with app.app_context():
        upgrade(revision="f3a9c5e1b7d2")
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO users (id, username, display_name, password_hash, role,"
                    " certificate_no, phone, email, is_active, session_token, created_at,"
                    " mfa_secret) VALUES (7, 'a', 'A', 'x', 'admin', '', '', '', true, 't1', :now,"
                    " :secret), (8, 'b', 'B', 'x', 'admin', '', '', '', true, 't2', :now, NULL)"
                ),
                {"now": datetime(2026, 12, 7), "secret": secret},
            )
        upgrade(revision="b8e1f4c2a7d5")

        def stored():
            with db.engine.connect() as conn:
                return dict(conn.execute(text("SELECT id, mfa_secret FROM users")).all())

        after = stored()
        assert after[8] is None and after[7].startswith("s1:") and secret not in after[7]
        assert totp.unseal(after[7], 7) == secret
        with db.engine.begin() as conn:  # a secret the app sealed since opens going down too
            conn.execute(
                text("UPDATE users SET mfa_secret = :sealed WHERE id = 8"),
                {"sealed": totp.seal(secret[::-1], 8)},
            )
        downgrade(revision="f3a9c5e1b7d2")
        assert stored() == {7: secret, 8: secret[::-1]}
        upgrade()
        db.engine.dispose()


def test_the_sealing_migration_refuses_to_be_written_as_sql(new_database_url, tmp_path, capfd):
    """Sealing needs the stored rows and the app's key: `flask db upgrade --sql` cannot do it."""
    import pytest

    app = create_app(make_test_config(new_database_url(), tmp_path))
    with app.app_context():
        with pytest.raises(SystemExit):  # flask-migrate's exit for the migration's error
            upgrade(revision="f3a9c5e1b7d2:b8e1f4c2a7d5", sql=True)
        db.engine.dispose()
    assert "run it against the database" in capfd.readouterr().err  # alembic's log handler


def test_no_migration_imports_the_apps_code():
    """A migration must do the same whatever the app's code becomes: the sealing migration
    imported auth/totp.py, so a later seal format would have changed what it writes."""
    import ast
    from pathlib import Path

    importing = []
    for path in sorted((Path(__file__).parent.parent / "migrations").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            importing += [f"{path.name}: {n}" for n in names if n.split(".")[0] == "inspect_app"]
    assert importing == []
