"""Test fixtures: one migrated database per run (SQLite or PostgreSQL), one transaction per test.

TEST_DATABASE_URL=postgresql+psycopg://... makes the run create (and finally drop) a database of
its own on that server; without it a SQLite file in a temporary folder is used.
"""

from __future__ import annotations

import os
import re
import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from inspect_app import create_app
from inspect_app.extensions import db, limiter
from inspect_app.models import AuditEvent

from . import factories

TEST_PASSWORD = factories.TEST_PASSWORD
TEST_AUDIT_KEY = "test-audit-hmac-key-not-for-production-0123456789"


def _make_postgres_database(base_url: str) -> tuple[str, callable]:
    url = make_url(base_url)
    name = f"inspect_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')

    def drop():
        with admin.connect() as conn:
            conn.exec_driver_sql(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
            )
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
        admin.dispose()

    return url.set(database=name).render_as_string(hide_password=False), drop


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    base = os.environ.get("TEST_DATABASE_URL")
    if base:
        url, drop = _make_postgres_database(base)
        yield url
        drop()
    else:
        yield "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.sqlite")


@pytest.fixture(scope="session")
def new_database_url(tmp_path_factory):
    """Make another empty database on the same backend (for migration tests)."""
    made = []

    def make() -> str:
        base = os.environ.get("TEST_DATABASE_URL")
        if base:
            url, drop = _make_postgres_database(base)
            made.append(drop)
            return url
        return "sqlite:///" + str(tmp_path_factory.mktemp("db") / f"{uuid.uuid4().hex}.sqlite")

    yield make
    for drop in made:
        drop()


def make_test_config(database_url: str, tmp_path) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "AUDIT_HMAC_KEY": TEST_AUDIT_KEY,
        "AUDIT_ANCHOR_FILE": str(tmp_path / "audit-anchors.log"),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "UPLOAD_DIR": str(tmp_path / "uploads"),
        "EXPORT_DIR": str(tmp_path / "exports"),
        "RATELIMIT_STORAGE_URI": "memory://",
        # Tests that are not about two-step login log in with a password only; the MFA tests
        # (tests/auth/test_mfa.py) and the browser tests use the production default.
        "MFA_REQUIRED_ROLES": (),
        # Jobs run inline as they are started (huey's immediate mode); their files go here.
        "JOBS_IMMEDIATE": True,
        "JOBS_DIR": str(tmp_path / "jobs"),
        "JOBS_SQLITE_FILE": str(tmp_path / "jobs.sqlite"),
        # Tests roll their rows back without an audit event: figures are computed every time
        # (tests/dashboard/test_cache.py turns the cache on).
        "DASHBOARD_CACHE_SECONDS": 0,
    }


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    app = create_app(make_test_config(database_url, tmp_path_factory.mktemp("instance")))
    with app.app_context():
        # SQLite transactions (BEGIN IMMEDIATE, SAVEPOINT) are set up by create_app itself.
        engine = db.engine
        from flask_migrate import upgrade

        upgrade()
        engine.dispose()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _isolated(request, app):
    yield from isolated_transaction(request, app)


def isolated_transaction(request, app):
    """Every test runs inside one outer transaction that is rolled back at its end.

    Flask-SQLAlchemy 3.1 ignores a session `bind=`, so the connection replaces the engine in
    db.engines (engineering-notes §5); app code may still commit, into a SAVEPOINT.
    """
    if "live_server" in request.fixturenames or "tablet" in request.fixturenames:
        yield  # browser tests use their own committed database
        return
    with app.app_context():
        engines = db.engines  # the app's own dict: replacing an entry affects every context
        engine = engines[None]
        conn = engine.connect()
        outer = conn.begin()
        engines[None] = conn
        limiter.reset()
    old_session = db.session
    db.session = db._make_scoped_session({"join_transaction_mode": "create_savepoint"})
    try:
        # No app context is held here: Flask-Login and CSRF cache per-request state on `g`.
        yield
    finally:
        with app.app_context():
            db.session.remove()
        db.session = old_session
        engines[None] = engine
        outer.rollback()
        conn.close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def ctx(app):
    """An app context for calling services directly (never around test-client calls)."""
    with app.app_context():
        yield


@pytest.fixture
def make(app):
    """Factories bound to the test database: make.user(role=...), make.unit(), ..."""
    return factories.Factory()


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf-token" content="([^"]+)"', html) or re.search(
        r'name="csrf_token" type="hidden" value="([^"]+)"', html
    )
    assert match, "no CSRF token in the page"
    return match.group(1)


class Browser:
    """A test client that logs in through the real form and sends CSRF tokens like a browser."""

    def __init__(self, client):
        self.client = client
        self._token = None

    def token(self) -> str:
        if self._token is None:
            self._token = self.client.get("/api/v1/csrf").get_json()["csrf_token"]
        return self._token

    def get(self, url, **kw):
        return self.client.get(url, **kw)

    def post(self, url, data=None, **kw):
        data = dict(data or {})
        data.setdefault("csrf_token", self.token())
        return self.client.post(url, data=data, **kw)

    def post_json(self, url, payload, **kw):
        headers = {"X-CSRFToken": self.token(), **kw.pop("headers", {})}
        return self.client.post(url, json=payload, headers=headers, **kw)

    def login(self, username, password=TEST_PASSWORD):
        response = self.post("/auth/login", {"username": username, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        self._token = None  # the session was renewed at login
        return response


@pytest.fixture
def web(client):
    return Browser(client)


@pytest.fixture
def login_as(app, make):
    """login_as("coordinator") -> a Browser logged in as a new user of that role."""

    def _login(role: str, **kw):
        with app.app_context():
            user = make.user(role=role, **kw)
            username, user_id = user.username, user.id
            unit_id, department_id = user.unit_id, user.department_id
        b = Browser(app.test_client())
        b.login(username)
        b.user_id, b.username, b.unit_id, b.department_id = (
            user_id,
            username,
            unit_id,
            department_id,
        )
        return b

    return _login


def pytest_sessionstart(session):
    """Compile the translation catalogs so the app under test speaks Chinese."""
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parent.parent / "scripts" / "i18n.py"
    subprocess.run([sys.executable, str(script), "compile"], check=True, capture_output=True)


# Every action an audit event is made with anywhere in the tests, for the check below: the
# label test reads the code for actions written as literals, and six calls pass a name made at
# run time (rectification's bulk actions, a round's or a unit's change, a login's outcome).
_AUDITED_ACTIONS: set[str] = set()


@sa.event.listens_for(AuditEvent, "init")
def _saw_an_audit_event(target, args, kwargs) -> None:
    _AUDITED_ACTIONS.add(kwargs.get("action") or "")


def _seeing_recorded_events() -> None:
    """audit.record() makes a plain Recorded (no mapped AuditEvent, whose init the listener
    above sees): its actions are seen as it is made."""
    from inspect_app.audit.services import Recorded

    made = Recorded.__init__

    def init(self, *args, **kwargs):
        _AUDITED_ACTIONS.add(kwargs.get("action") or "")
        made(self, *args, **kwargs)

    Recorded.__init__ = init


_seeing_recorded_events()


@pytest.fixture(scope="session", autouse=True)
def every_audited_action_has_a_label():
    """The audit pages show an action's label; one without shows its code. Checked once the
    session's tests have run (each worker its own): a missing label fails the last test's
    teardown. Actions of the test.* family are the tests' own."""
    yield
    from inspect_app.labels import AUDIT_ACTION_LABELS

    unlabelled = {
        action
        for action in _AUDITED_ACTIONS
        if not action.startswith("test.") and action not in AUDIT_ACTION_LABELS
    }
    assert sorted(unlabelled) == [], "audit actions without a label in labels.py"
