"""Security defaults: headers, CSP, secret key, request size, CSRF on JSON calls."""

import pytest

from inspect_app import ConfigurationError, create_app
from inspect_app.config import INSECURE_SECRET_KEY


def test_pages_carry_security_headers_and_a_strict_csp(client):
    response = client.get("/auth/login")
    csp = response.headers["Content-Security-Policy"]
    script_src = next(part for part in csp.split(";") if part.strip().startswith("script-src"))
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response.headers["Cache-Control"] == "no-store"


def test_app_refuses_to_start_in_production_with_the_default_secret(monkeypatch, tmp_path):
    monkeypatch.delenv("INSPECT_SECRET_KEY", raising=False)
    with pytest.raises(ConfigurationError):
        create_app({"SECRET_KEY": INSECURE_SECRET_KEY, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    with pytest.raises(ConfigurationError):
        create_app({"SECRET_KEY": "", "SQLALCHEMY_DATABASE_URI": "sqlite://"})


@pytest.mark.parametrize(
    "fallback", [INSECURE_SECRET_KEY, "short-key", "a" * 40], ids=["default", "short", "audit-key"]
)
def test_app_refuses_to_start_in_production_with_a_weak_fallback_secret(fallback):
    """An old key in SECRET_KEY_FALLBACKS still verifies sessions and opens two-step secrets."""
    config = {"SECRET_KEY": "x" * 40, "AUDIT_HMAC_KEY": "a" * 40}
    with pytest.raises(ConfigurationError, match="SECRET_KEY_FALLBACKS"):
        create_app(
            {**config, "SECRET_KEY_FALLBACKS": [fallback], "SQLALCHEMY_DATABASE_URI": "sqlite://"}
        )
    create_app(
        {**config, "SECRET_KEY_FALLBACKS": ["y" * 40], "SQLALCHEMY_DATABASE_URI": "sqlite://"}
    )


def test_app_starts_in_production_with_a_real_secret():
    app = create_app(
        {"SECRET_KEY": "x" * 40, "AUDIT_HMAC_KEY": "a" * 40, "SQLALCHEMY_DATABASE_URI": "sqlite://"}
    )
    assert not app.testing


def test_secure_cookie_setting_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("INSPECT_SESSION_COOKIE_SECURE", "true")
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True


def test_request_body_is_limited(app, client):
    assert app.config["MAX_CONTENT_LENGTH"] == 16 * 1024 * 1024
    response = client.post(
        "/auth/login", data=b"x" * (16 * 1024 * 1024 + 1), content_type="application/octet-stream"
    )
    assert response.status_code == 413
    assert "文件过大" in response.get_data(as_text=True)


def test_json_post_without_csrf_header_is_refused_with_json(login_as):
    b = login_as("viewer")
    response = b.client.post("/auth/language", json={"lang": "en"})
    assert response.status_code == 400


def test_api_errors_are_json_not_html(client):
    response = client.get("/api/v1/nope")
    assert response.status_code == 404
    assert response.is_json
    assert response.get_json()["error"]["code"] == "not_found"
    assert client.get("/api/v1/me").get_json()["error"]["code"] == "unauthorized"


def test_behind_a_proxy_the_client_address_is_used_for_limits_and_audit(new_database_url, tmp_path):
    from flask_migrate import upgrade

    from inspect_app.extensions import db
    from inspect_app.models import AuditEvent

    from .conftest import make_test_config

    config = make_test_config(new_database_url(), tmp_path)
    config["PROXY_HOPS"] = 1
    app = create_app(config)
    with app.app_context():
        upgrade()
    client = app.test_client()
    token = client.get("/api/v1/csrf").get_json()["csrf_token"]
    response = client.post(
        "/auth/login",
        data={"username": "nobody", "password": "wrong-wrong", "csrf_token": token},
        headers={"X-Forwarded-For": "203.0.113.7"},
    )
    assert response.status_code == 200
    with app.app_context():
        event = (
            db.session.query(AuditEvent)
            .filter_by(action="auth.login_failed")
            .order_by(AuditEvent.id.desc())
            .first()
        )
        assert event.ip == "203.0.113.7"
        db.session.remove()
        db.engine.dispose()


@pytest.mark.parametrize(
    "path", ["/%5Cevil.example/phish", "/\\evil.example/x", "//evil.example/y"]
)
def test_language_link_on_a_404_page_never_leaves_the_site(client, path):
    """Security review 2-C: the link was built from the raw path, and browsers read /\\ as //."""
    import re

    response = client.get(path)
    assert response.status_code == 404
    links = re.findall(r'<a href="([^"]*)"[^>]*hreflang', response.get_data(as_text=True))
    assert links and all(link.startswith("/?lang=") for link in links)
    assert "evil.example" not in response.get_data(as_text=True)


def test_language_link_keeps_the_page_and_its_query(login_as):
    b = login_as("coordinator")
    html = b.get("/directory/units?q=%E5%8D%95%E4%BD%8D&kind=soe").get_data(as_text=True)
    assert 'href="/directory/units?q=%E5%8D%95%E4%BD%8D&amp;kind=soe&amp;lang=en"' in html
