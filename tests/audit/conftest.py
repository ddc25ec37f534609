"""Databases of their own for tampering tests, and an attacker's connection to them.

The shared test database runs every test inside one rolled-back transaction, which a second
connection cannot see (and, on SQLite, cannot write past). Tampering tests therefore get a fresh
migrated database each (a copy of one migrated template, so only one `upgrade()` per run), an app
on it, and `attacker`: a plain connection as the database owner, outside the app.
"""

from __future__ import annotations

import os
import shutil
import uuid
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from click.testing import Result
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy.engine import make_url

from inspect_app import create_app
from inspect_app.extensions import db
from inspect_app.models import AuditEvent

from ..conftest import make_test_config


def _admin_engine(url: str) -> sa.Engine:
    return sa.create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session")
def template_url(new_database_url, tmp_path_factory):
    """One database migrated to head, to copy from."""
    url = new_database_url()
    app = create_app(make_test_config(url, tmp_path_factory.mktemp("template")))
    with app.app_context():
        upgrade()
        db.session.remove()
        db.engine.dispose()
    return url


@pytest.fixture
def fresh_url(template_url, tmp_path):
    """A new database, a copy of the migrated template; dropped afterwards."""
    template = make_url(template_url)
    if template.get_backend_name() == "sqlite":
        path = tmp_path / f"{uuid.uuid4().hex}.sqlite"
        shutil.copyfile(template.database, path)
        yield f"sqlite:///{path}"
        return
    name = f"inspect_audit_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = _admin_engine(template_url)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{template.database}"')
    yield template.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.exec_driver_sql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
        )
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
    admin.dispose()


@pytest.fixture
def own_app(fresh_url, tmp_path) -> Flask:
    """An app on a database of its own, with its own anchor file."""
    app = create_app(make_test_config(fresh_url, tmp_path))
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@dataclass
class Attacker:
    """Someone who owns the database but not the audit key: raw SQL on their own connection."""

    engine: sa.Engine

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def sql(self, statement: str, **params) -> list:
        with self.engine.begin() as conn:
            result = conn.execute(sa.text(statement), params)
            return result.all() if result.returns_rows else []

    def drop_triggers(self) -> None:
        """What an owner does first: the append-only triggers are in the way."""
        if self.dialect == "sqlite":
            self.sql("DROP TRIGGER audit_events_no_update")
            self.sql("DROP TRIGGER audit_events_no_delete")
        else:
            self.sql("ALTER TABLE audit_events DISABLE TRIGGER USER")

    def events(self) -> list[AuditEvent]:
        """Every event as a detached AuditEvent, read with the table's types (JSON, datetime)."""
        table = AuditEvent.__table__
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(table).order_by(table.c.id)).mappings().all()
        return [AuditEvent(**row) for row in rows]

    def rewrite(self, ev: AuditEvent, **values) -> None:
        table = AuditEvent.__table__
        with self.engine.begin() as conn:
            conn.execute(table.update().where(table.c.id == ev.id).values(**values))

    def move_head(self, event_id: int, hash_: str, count: int) -> None:
        self.sql(
            "UPDATE audit_heads SET last_event_id = :id, hash = :hash, count = :count WHERE id = 1",
            id=event_id,
            hash=hash_,
            count=count,
        )


@pytest.fixture
def attacker(fresh_url) -> Attacker:
    engine = sa.create_engine(fresh_url)
    yield Attacker(engine)
    engine.dispose()


def run_cli(app: Flask, *args: str) -> Result:
    """The real `flask ...` command, in English so messages can be read in assertions."""
    english = {"LC_ALL": "en_US.UTF-8", "LANG": "en_US.UTF-8"}
    return app.test_cli_runner().invoke(args=list(args), env=english)
