"""The dashboard's links to the rectification ledger are the ones url_for builds."""

import pytest
from flask import url_for

from inspect_app.dashboard.routes import Links
from inspect_app.reports.figures import Scope


@pytest.mark.parametrize(
    ("scope", "filters"),
    [
        (Scope(2026), {}),
        (Scope(2026), {"status": "closed"}),
        (Scope(2026, round_id=7), {"unit": 12, "status": "overdue"}),
        (Scope(2026, unit_id=3), {"repeat": 1, "severity": "high"}),
        (Scope(2026), {"round": 5, "unit": 9, "status": "risk accepted/é"}),
    ],
)
def test_a_ledger_link_is_the_one_url_for_builds(app, scope, filters):
    with app.test_request_context("/dashboard/"):
        args = {"year": scope.year, "round": scope.round_id, "unit": scope.unit_id, **filters}
        expected = url_for("rectification.index", **{k: v for k, v in args.items() if v})
        links = Links(scope)
        assert links.ledger(**filters) == expected
        assert links.ledger(**filters) == expected  # the path kept from the first


def test_unit_item_and_round_links_are_the_ones_url_for_builds(app):
    with app.test_request_context("/dashboard/"):
        links = Links(Scope(2026))
        for n in (1, 7, 98765, 987654321):
            assert links.unit(n) == url_for("directory.unit_show", unit_id=n)
            assert links.item(n) == url_for("rectification.show", item_id=n)
            assert links.inspections(n) == url_for("rounds.show", round_id=n)
