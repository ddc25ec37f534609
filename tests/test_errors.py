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
