"""The OpenAPI document and the API's URL rules describe the same operations."""

import re

from inspect_app.api import openapi

IGNORED_METHODS = {"HEAD", "OPTIONS"}


def _rules_of_the_api(app) -> set[tuple[str, str]]:
    out = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
            out |= {(path, method.lower()) for method in rule.methods - IGNORED_METHODS}
    return out


def test_every_api_rule_is_in_the_document_and_every_documented_operation_is_a_rule(app):
    documented = {
        (path, method) for path, item in openapi.document()["paths"].items() for method in item
    }
    rules = _rules_of_the_api(app)
    assert not rules - documented, f"undocumented API operations: {sorted(rules - documented)}"
    assert not documented - rules, f"documented but not served: {sorted(documented - rules)}"


def test_the_served_document_is_the_one_the_tests_fuzz(client):
    assert client.get("/api/v1/openapi.json").get_json() == openapi.document()


def test_every_documented_error_has_the_error_shape():
    document = openapi.document()
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                if int(status) >= 400:
                    schema = response["content"]["application/json"]["schema"]
                    assert schema is openapi.ERROR, (method, path, status)
