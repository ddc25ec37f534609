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
