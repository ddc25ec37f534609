"""Odd input in answer batches and uploads: a 4xx or a rejected change, never a 500, and the
rest of the batch is kept (security review 2-D), on both backends."""

import json

import pytest

from inspect_app.extensions import db
from inspect_app.models import Answer

from ..conftest import Browser
from .conftest import change


@pytest.mark.parametrize("bad", ["a\x00b", "\ud800", "x\udfffy"])
def test_unstorable_text_in_one_change_is_rejected_and_the_rest_of_the_batch_applied(
    app, setup, bad
):
    b = Browser(app.test_client())
    b.login(setup["lead"])
    good, odd = setup["items"]["T-01"], setup["items"]["T-02"]
    response = b.post_json(
        f"/api/v1/inspections/{setup['inspection']}/answers",
        {
            "changes": [
                change(odd, note=bad),
                change(good, result="compliant", note="innocent change in the same batch"),
            ]
        },
    )
    assert response.status_code == 200
    first, second = response.get_json()["results"]
    assert first["status"] == "rejected" and first["message"]
    assert second["status"] == "applied"
    with app.app_context():
        assert db.session.query(Answer).filter_by(item_id=good).one().result == "compliant"


def test_json_nested_100000_deep_is_a_400(app, setup):
    b = Browser(app.test_client())
    b.login(setup["lead"])
    response = b.client.post(
        f"/api/v1/inspections/{setup['inspection']}/answers",
        data="[" * 100_000 + "]" * 100_000,
        content_type="application/json",
        headers={"X-CSRFToken": b.token()},
    )
    assert response.status_code == 400
    assert response.get_json()["error"]["message"]


def test_json_nested_more_than_the_limit_is_a_400_naming_the_nesting(app, setup):
    b = Browser(app.test_client())
    b.login(setup["lead"])
    deep = {"changes": []}
    node = deep
    for _ in range(60):
        node["x"] = {}
        node = node["x"]
    response = b.post_json(f"/api/v1/inspections/{setup['inspection']}/answers", deep)
    assert response.status_code == 400
    assert (
        "nest" in response.get_json()["error"]["message"]
        or "嵌套" in (response.get_json()["error"]["message"])
    )


def test_huge_integer_in_a_number_answer_is_rejected_not_a_500(app, setup):
    b = Browser(app.test_client())
    b.login(setup["lead"])
    response = b.client.post(
        f"/api/v1/inspections/{setup['inspection']}/answers",
        data=json.dumps({"changes": [change(setup["items"]["T-06"])]}).replace(
            '"base_version": 0', '"base_version": 0, "value": 1' + "0" * 400
        ),
        content_type="application/json",
        headers={"X-CSRFToken": b.token()},
    )
    assert response.status_code == 200
    assert response.get_json()["results"][0]["status"] == "rejected"


def test_nul_byte_in_an_uploaded_file_name_is_a_400(app, setup):
    import io

    from .helpers import jpeg_bytes

    b = Browser(app.test_client())
    b.login(setup["lead"])
    response = b.client.post(
        f"/api/v1/inspections/{setup['inspection']}/evidence",
        data={"file": (io.BytesIO(jpeg_bytes()), "a\x00b.jpg")},
        headers={"X-CSRFToken": b.token()},
    )
    assert response.status_code == 400
