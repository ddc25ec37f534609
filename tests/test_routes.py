"""Every route: anonymous users are sent to log in, no page errors or loads anything external."""

import re

import pytest

PUBLIC = {
    "static",
    "auth.login",
    "main.healthz",
    "main.service_worker",
    "api.csrf_token",
    "api.openapi_document",
}
EXTERNAL = re.compile(r"""(?:src|href|action)\s*=\s*["']?\s*(?:https?:)?//""", re.I)


def _get_rules(app):
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and rule.endpoint != "static":
            yield rule


def _url(app, rule) -> str:
    values = {}
    for arg in rule.arguments:
        converter = rule._converters[arg]
        values[arg] = getattr(converter, "items", None) and sorted(converter.items)[0] or 1
    return app.url_map.bind("localhost").build(rule.endpoint, values)


def test_every_get_route_needs_a_login_except_the_public_ones(app, client):
    for rule in _get_rules(app):
        if rule.endpoint in PUBLIC:
            continue
        with client.get(_url(app, rule)) as response:
            status, is_json, location = (
                response.status_code,
                response.is_json,
                response.headers.get("Location", ""),
            )
        if rule.rule.startswith("/api/"):
            assert status == 401, rule.rule
            assert is_json
        else:
            assert status == 302, rule.rule
            assert "/auth/login" in location, rule.rule


@pytest.mark.parametrize("role", ["admin", "coordinator", "inspector", "unit", "viewer"])
def test_every_page_without_parameters_renders_for_every_role_without_external_urls(
    app, login_as, role
):
    b = login_as(role)
    for rule in _get_rules(app):
        if rule.arguments:
            continue
        with b.get(rule.rule) as response:
            assert response.status_code in (200, 302, 403, 404), (rule.rule, response.status_code)
            if response.mimetype == "text/html":
                assert not EXTERNAL.search(response.get_data(as_text=True)), rule.rule
