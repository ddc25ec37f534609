"""Health probes: /healthz says the process serves; /readyz says the database answers."""

from inspect_app import create_app

from .conftest import make_test_config


def test_readyz_is_ok_when_the_database_answers(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_readyz_is_503_and_healthz_still_ok_when_the_database_is_unreachable(tmp_path):
    # A real refused connection: nothing listens on port 1.
    app = create_app(make_test_config("postgresql+psycopg://postgres@127.0.0.1:1/none", tmp_path))
    client = app.test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable", "database": "unreachable"}
    assert client.get("/healthz").status_code == 200
