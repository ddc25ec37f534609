"""The bell and the list: counts, order, paging, opening, marking all read, and isolation."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from inspect_app.extensions import db
from inspect_app.models import Notification, utcnow

from ..conftest import Browser


@pytest.fixture
def people(app, make):
    """A unit liaison with three unread notifications and one read, and a coordinator with one."""
    with app.app_context():
        liaison = make.user(role="unit")
        office = make.user(role="coordinator")
        item = make.finding(code="F-BELL-1").rectification
        start = utcnow() - timedelta(hours=5)
        rows = [
            Notification(
                user_id=liaison.id,
                kind="returned",
                item_id=item.id,
                data={"code": "F-BELL-1", "due_date": "2026-07-01"},
                created_at=start + timedelta(hours=n),
            )
            for n in range(3)
        ]
        rows.append(
            Notification(
                user_id=liaison.id,
                kind="items_opened",
                data={"count": 2},
                created_at=start - timedelta(days=1),
                read_at=start,
            )
        )
        rows.append(
            Notification(user_id=office.id, kind="response_submitted", item_id=item.id, data={})
        )
        db.session.add_all(rows)
        db.session.commit()
        return {
            "liaison": liaison.username,
            "office": office.username,
            "mine": [r.id for r in rows[:4]],
            "office_note": rows[4].id,
            "item": item.id,
        }


def _login(app, username) -> Browser:
    browser = Browser(app.test_client())
    browser.login(username)
    return browser


def _unread(app, ident) -> bool:
    with app.app_context():
        return db.session.get(Notification, ident).read_at is None


def test_the_bell_shows_the_unread_count_with_an_accessible_name(app, people):
    html = _login(app, people["liaison"]).get("/").get_data(as_text=True)
    assert 'aria-label="通知（3条未读）"' in html
    assert 'class="bell-count" aria-hidden="true">3<' in html


def test_the_bell_reads_english_and_shows_no_badge_when_all_is_read(app, make):
    with app.app_context():
        username = make.user(role="viewer").username
    html = _login(app, username).get("/?lang=en").get_data(as_text=True)
    assert 'aria-label="Notifications (0 unread)"' in html
    assert "bell-count" not in html


def test_anonymous_pages_have_no_bell(client):
    assert 'class="bell' not in client.get("/auth/login").get_data(as_text=True)


def test_the_count_is_one_query_per_page_even_when_the_page_shows_it_twice(app, people):
    browser = _login(app, people["liaison"])
    counts = []

    def spy(conn, cursor, statement, *args):
        if "count(notifications.id)" in statement.lower():
            counts.append(statement)

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", spy)
    try:
        response = browser.get("/notifications/")
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", spy)
    assert response.status_code == 200
    assert len(counts) == 1


def test_the_list_shows_own_notifications_newest_first_with_the_unread_marked(app, people):
    html = _login(app, people["liaison"]).get("/notifications/").get_data(as_text=True)
    assert html.count("整改事项F-BELL-1已被退回") == 3
    assert html.index("整改事项F-BELL-1已被退回") < html.index("本单位新增2项整改事项")
    assert html.count('class="notice-entry unread"') == 3
    assert html.count('class="badge">未读<') == 3
    assert "待验收" not in html  # the coordinator's notification is not in the liaison's list
    assert "全部标为已读" in html


def test_the_list_is_paged(app, make):
    with app.app_context():
        user = make.user(role="unit")
        db.session.add_all(
            Notification(user_id=user.id, kind="verified", data={"code": f"F-P{n:02d}"})
            for n in range(30)
        )
        db.session.commit()
        username = user.username
    browser = _login(app, username)
    first = browser.get("/notifications/").get_data(as_text=True)
    second = browser.get("/notifications/?page=2").get_data(as_text=True)
    assert first.count("notice-entry") == 25 and second.count("notice-entry") == 5
    assert "第 2 / 2 页" in second


def test_opening_a_notification_marks_it_read_and_goes_to_its_item(app, people):
    browser = _login(app, people["liaison"])
    ident = people["mine"][0]
    response = browser.post(f"/notifications/{ident}/open")
    assert response.status_code == 302
    if "rectification.show" in app.view_functions:
        assert response.headers["Location"].endswith(f"/{people['item']}")
    else:  # the item pages are not part of this build: back to the list
        assert response.headers["Location"].endswith("/notifications/")
    assert not _unread(app, ident)
    assert 'aria-label="通知（2条未读）"' in browser.get("/").get_data(as_text=True)


def test_opening_twice_keeps_the_first_reading_time(app, people):
    browser = _login(app, people["liaison"])
    ident = people["mine"][1]
    browser.post(f"/notifications/{ident}/open")
    with app.app_context():
        first = db.session.get(Notification, ident).read_at
    browser.post(f"/notifications/{ident}/open")
    with app.app_context():
        assert db.session.get(Notification, ident).read_at == first


def test_a_user_cannot_open_another_users_notification(app, people):
    browser = _login(app, people["liaison"])
    response = browser.post(f"/notifications/{people['office_note']}/open")
    assert response.status_code == 404
    assert _unread(app, people["office_note"])
    assert browser.post("/notifications/987654/open").status_code == 404


def test_opening_needs_a_post_with_a_csrf_token(app, people):
    browser = _login(app, people["liaison"])
    ident = people["mine"][0]
    assert browser.get(f"/notifications/{ident}/open").status_code == 405
    assert browser.client.post(f"/notifications/{ident}/open").status_code == 400
    assert _unread(app, ident)


def test_mark_all_read_marks_only_ones_own(app, people):
    browser = _login(app, people["liaison"])
    response = browser.post("/notifications/read-all", follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "已将3条通知标为已读" in html and "没有未读通知" in html
    assert not any(_unread(app, i) for i in people["mine"])
    assert _unread(app, people["office_note"])
    assert browser.client.post("/notifications/read-all").status_code == 400  # no CSRF token


def test_anonymous_clients_are_sent_to_log_in(client):
    response = client.get("/notifications/")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_a_read_notification_links_to_its_page_only_when_that_page_exists(app, people):
    browser = _login(app, people["liaison"])
    browser.post("/notifications/read-all")
    html = browser.get("/notifications/").get_data(as_text=True)
    if "rectification.show" in app.view_functions:
        assert f'/{people["item"]}"' in html
    else:
        assert 'class="notice-text"' in html
