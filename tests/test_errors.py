"""Error pages in both languages, JSON under /api/, and a rollback on 500."""

import pytest
import sqlalchemy as sa
from flask import abort

from inspect_app import create_app
from inspect_app.errors import InvalidTransition

from .conftest import make_test_config

ZH = {
    400: "请求有误",
    403: "无权访问",
    404: "未找到",
    409: "冲突",
    413: "文件过大",
    429: "请求过于频繁",
    500: "服务器错误",
}
EN = {
    400: "Bad request",
    403: "Forbidden",
    404: "Not found",
    409: "Conflict",
    413: "File too large",
    429: "Too many requests",
    500: "Server error",
}


@pytest.fixture(scope="module")
def boom_app(database_url, tmp_path_factory):
    """An app of its own with routes that fail on purpose."""
    app = create_app(make_test_config(database_url, tmp_path_factory.mktemp("boom")))

    @app.get("/boom/<int:status>", endpoint="boom")
    def boom(status):
        if status == 500:
            raise RuntimeError("kaboom")
        abort(status)

    @app.get("/boom/database", endpoint="boom_database")
    @app.get("/api/v1/boom/database", endpoint="api_boom_database")
    def boom_database():
        # A real refused connection: nothing listens on port 1.
        engine = sa.create_engine("postgresql+psycopg://postgres@127.0.0.1:1/none")
        try:
            with engine.connect():
                pass
        finally:
            engine.dispose()

    @app.get("/api/v1/boom/<int:status>", endpoint="api_boom")
    def api_boom(status):
        if status == 409:
            raise InvalidTransition("A closed item cannot be returned.")
        abort(status)

    return app


@pytest.fixture
def client(boom_app):
    return boom_app.test_client()


@pytest.mark.parametrize("status", sorted(ZH))
def test_error_page_in_chinese_and_english(boom_app, client, status):
    zh = client.get(f"/boom/{status}")
    assert zh.status_code == status
    assert ZH[status] in zh.get_data(as_text=True)
    en = client.get(f"/boom/{status}?lang=en")
    assert en.status_code == status
    assert EN[status] in en.get_data(as_text=True)
    assert "kaboom" not in en.get_data(as_text=True)


@pytest.mark.parametrize("status", [400, 403, 404, 413, 429])
def test_api_errors_are_json(boom_app, client, status):
    response = client.get(f"/api/v1/boom/{status}")
    assert response.status_code == status
    assert response.get_json()["error"]["status"] == status


def test_domain_error_under_api_is_json_409_with_the_message(boom_app, client):
    response = client.get("/api/v1/boom/409")
    assert response.status_code == 409
    assert response.get_json()["error"] == {
        "status": 409,
        "code": "invalid_transition",
        "message": "A closed item cannot be returned.",
    }


def test_an_unreachable_database_is_a_503_to_retry_not_a_500(boom_app, client):
    api = client.get("/api/v1/boom/database")
    assert api.status_code == 503
    assert api.headers["Retry-After"] == "5"
    assert api.get_json()["error"]["code"] == "database_unavailable"
    page = client.get("/boom/database")
    assert page.status_code == 503
    assert "暂时无法连接数据库" in page.get_data(as_text=True)
    assert "cannot be reached" in client.get("/boom/database?lang=en").get_data(as_text=True)


def test_a_connection_lost_in_the_middle_of_a_logged_in_request_is_a_503(
    new_database_url, tmp_path
):
    """PostgreSQL ends the request's own connection (as a restart does): the answer is still a
    503 in the user's language, although the logged-in user's row can no longer be read."""
    url = new_database_url()
    if not url.startswith("postgresql"):
        pytest.skip("a server that ends a connection: PostgreSQL")
    from flask_migrate import upgrade

    from inspect_app.extensions import db

    from .conftest import Browser
    from .factories import Factory

    app = create_app(make_test_config(url, tmp_path))

    name = sa.engine.make_url(url).database
    admin = sa.create_engine(
        sa.engine.make_url(url).set(database="postgres"),
        isolation_level="AUTOCOMMIT",
        poolclass=sa.pool.NullPool,
    )

    def allow(flag: bool) -> None:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {str(flag).lower()}')

    @app.get("/api/v1/boom/killed", endpoint="api_boom_killed")
    @app.get("/boom/killed", endpoint="boom_killed")
    def boom_killed():
        # Down as during a restart: no new connection, and this one is ended.
        allow(False)
        db.session.execute(sa.text("SELECT pg_terminate_backend(pg_backend_pid())"))

    with app.app_context():
        upgrade()
        Factory().user(role="coordinator", username="killed-conn")
    browser = Browser(app.test_client())
    browser.login("killed-conn")
    try:
        api = browser.client.get("/api/v1/boom/killed")
        assert api.status_code == 503, api.get_data(as_text=True)[:300]
        assert api.get_json()["error"]["code"] == "database_unavailable"
        allow(True)
        page = browser.client.get("/boom/killed")
        assert page.status_code == 503
        assert "暂时无法连接数据库" in page.get_data(as_text=True)
        # Down before the request: loading the logged-in user itself fails.
        allow(False)
        with admin.connect() as conn:
            conn.exec_driver_sql(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (name,),
            )
        for path in ("/api/v1/me", "/"):
            down = browser.client.get(path)
            assert down.status_code == 503, (path, down.get_data(as_text=True)[:300])
        assert "暂时无法连接数据库" in down.get_data(as_text=True)
    finally:
        allow(True)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        admin.dispose()


def test_no_free_database_connection_within_the_pool_timeout_is_a_503(database_url, tmp_path):
    from inspect_app.extensions import db

    config = make_test_config(database_url, tmp_path)
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite's pool hands every thread its own connection")
    config["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_size": 1, "max_overflow": 0, "pool_timeout": 0.2}
    app = create_app(config)
    client = app.test_client()
    with app.app_context():
        held = db.engine.connect()  # the pool's only connection, busy elsewhere
        try:
            response = client.get("/readyz")
            assert response.status_code == 503
            assert response.get_json()["database"] == "unreachable"
            assert client.get("/healthz").status_code == 200  # no database: still answers
            page = client.get("/public/items")  # a page that reads the database
            assert page.status_code == 503
            assert page.headers["Retry-After"] == "5"
        finally:
            held.close()
            db.engine.dispose()
