"""The rectification API: the same operations as the pages, scoped and versioned."""

import io

import pytest

from inspect_app.clock import local_today
from inspect_app.extensions import db
from inspect_app.models import RectificationItem, User

from ..conftest import Browser
from ..inspections.helpers import jpeg_bytes
from ..rectification.conftest import world  # noqa: F401 (a fixture)


def _as(app, user_id) -> Browser:
    with app.app_context():
        username = db.session.get(User, user_id).username
    b = Browser(app.test_client())
    b.login(username)
    return b


def _response() -> dict:
    """A rectification report, its work done today (between the inspection and today)."""
    return {
        "cause": "制度缺失",
        "measures": "已印发网络安全责任制文件",
        "completed_on": local_today().isoformat(),
        "responsible_person": "赵六",
    }


def test_a_unit_lists_exactly_its_own_items(app, world):  # noqa: F811
    body = _as(app, world["liaison"]).get("/api/v1/rectification/items").get_json()
    assert sorted(i["id"] for i in body["items"]) == sorted(world["items"])
    assert body["total"] == 3
    office = _as(app, world["office"]).get("/api/v1/rectification/items").get_json()
    assert world["other_item"] in {i["id"] for i in office["items"]}


def test_another_units_item_is_not_found(app, world):  # noqa: F811
    b = _as(app, world["liaison"])
    assert b.get(f"/api/v1/rectification/items/{world['other_item']}").status_code == 404
    r = b.post_json(f"/api/v1/rectification/items/{world['other_item']}/response", _response())
    assert r.status_code == 404


def test_unit_responds_with_a_photo_then_the_office_verifies(app, world):  # noqa: F811
    item_id = world["items"][0]
    unit = _as(app, world["liaison"])
    r = unit.client.post(
        f"/api/v1/rectification/items/{item_id}/response",
        data={**_response(), "version": "0", "file": (io.BytesIO(jpeg_bytes()), "整改后.jpg")},
        headers={"X-CSRFToken": unit.token()},
        content_type="multipart/form-data",
    )
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["status"] == "submitted" and body["version"] == 1
    [event] = body["events"]
    assert event["kind"] == "response" and event["attachments"][0]["name"] == "整改后.jpg"
    office = _as(app, world["office"])
    stale = office.post_json(
        f"/api/v1/rectification/items/{item_id}/verify", {"note": "ok", "version": 0}
    )
    assert stale.status_code == 409 and stale.get_json()["error"]["code"] == "conflict"
    done = office.post_json(
        f"/api/v1/rectification/items/{item_id}/verify", {"note": "同意销号", "version": 1}
    )
    assert done.status_code == 200 and done.get_json()["status"] == "closed"


def test_unit_cannot_verify_its_own_item(app, world):  # noqa: F811
    unit = _as(app, world["liaison"])
    unit.post_json(f"/api/v1/rectification/items/{world['items'][0]}/response", _response())
    r = unit.post_json(f"/api/v1/rectification/items/{world['items'][0]}/verify", {})
    assert r.status_code == 403


@pytest.mark.parametrize(
    "payload",
    [
        {**_response(), "completed_on": "2026-13-45"},
        {**_response(), "cause": ["not", "text"]},
        {**_response(), "version": "v1"},
        {**_response(), "measures": ""},
    ],
)
def test_bad_input_is_a_400_and_changes_nothing(app, world, payload):  # noqa: F811
    r = _as(app, world["liaison"]).post_json(
        f"/api/v1/rectification/items/{world['items'][0]}/response", payload
    )
    assert r.status_code == 400 and r.get_json()["error"]["message"]
    with app.app_context():
        assert db.session.get(RectificationItem, world["items"][0]).status == "open"


def test_extension_requested_and_granted_through_the_api(app, world):  # noqa: F811
    from datetime import timedelta

    from inspect_app.clock import local_today

    item_id = world["items"][1]
    proposed = (local_today() + timedelta(days=60)).isoformat()
    r = _as(app, world["liaison"]).post_json(
        f"/api/v1/rectification/items/{item_id}/extension-request",
        {"reason": "采购", "proposed_date": proposed, "interim_measures": "断网"},
    )
    assert r.status_code == 200 and r.get_json()["pending_extension"] is True
    r = _as(app, world["office"]).post_json(
        f"/api/v1/rectification/items/{item_id}/extension-decision", {"grant": True}
    )
    assert r.status_code == 200
    assert r.get_json()["due_date"] == proposed and not r.get_json()["pending_extension"]


def test_bulk_extend_reports_every_refusal(app, world):  # noqa: F811
    office = _as(app, world["office"])
    r = office.post_json(
        "/api/v1/rectification/bulk",
        {
            "action": "extend",
            "items": [{"id": world["items"][0]}, {"id": 987654}],
            "due_date": "2027-09-30",
        },
    )
    assert r.status_code == 400
    assert [d["item_id"] for d in r.get_json()["error"]["details"]] == [987654]
    r = office.post_json(
        "/api/v1/rectification/bulk",
        {
            "action": "extend",
            "items": [{"id": i} for i in world["items"]],
            "due_date": "2027-09-30",
        },
    )
    assert r.status_code == 200 and {i["due_date"] for i in r.get_json()["items"]} == {"2027-09-30"}


def test_an_administrator_cannot_respond_as_the_unit_only_enter_a_paper_response(
    app,
    world,  # noqa: F811
    make,
):
    """The unit's report is its own statement: an administrator gets a 403 for it and nothing
    changes; entered for the unit (代录, naming the paper's source) it is marked as such."""
    item_id = world["items"][0]
    with app.app_context():
        admin_id = make.user(role="admin").id
    admin = _as(app, admin_id)
    r = admin.post_json(f"/api/v1/rectification/items/{item_id}/response", _response())
    assert r.status_code == 403
    with app.app_context():
        item = db.session.get(RectificationItem, item_id)
        assert (item.status, item.version) == ("open", 0)
    r = admin.post_json(
        f"/api/v1/rectification/items/{item_id}/response",
        {**_response(), "on_behalf": True, "source": "单位盖章纸质整改报告"},
    )
    assert r.status_code == 200, r.get_json()
    [event] = r.get_json()["events"]
    assert event["on_behalf"] is True
