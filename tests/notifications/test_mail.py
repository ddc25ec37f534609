"""E-mail of notifications through a real SMTP server (aiosmtpd on a free local port)."""

from __future__ import annotations

from datetime import timedelta
from email.header import decode_header, make_header

from inspect_app.extensions import db
from inspect_app.models import Notification, User, utcnow
from inspect_app.notifications import mail

from .conftest import free_port


def _remind(app, day="2026-06-13") -> str:
    result = app.test_cli_runner().invoke(
        args=["rectification", "remind", "--today", day], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    return result.output


def _set_email(app, user_id: int, address: str) -> None:
    with app.app_context():
        db.session.get(User, user_id).email = address
        db.session.commit()


def _mailed(app, user_id: int) -> list[bool]:
    with app.app_context():
        notes = db.session.query(Notification).filter_by(user_id=user_id).order_by(Notification.id)
        return [n.emailed_at is not None for n in notes]


def _subject(message) -> str:
    return str(make_header(decode_header(message["Subject"])))


def _body(message) -> str:
    return message.get_payload(decode=True).decode(message.get_content_charset())


def test_remind_twice_mails_each_reminder_once(app, world, smtp):
    _set_email(app, world["liaison"], "liaison@example.cn")
    first = _remind(app)
    assert "已发送1封，共含3条通知" in first
    [message] = smtp.messages
    assert message["To"] == "liaison@example.cn" and message["From"] == "inspect@example.cn"
    assert _subject(message) == "[网络安全联合检查] 3条新通知"
    body = _body(message)
    assert body.count("将于7天后到期（2026-06-20）") == 3 and "请勿回复" in body
    assert _mailed(app, world["liaison"]) == [True, True, True]
    second = _remind(app)
    assert "已发送0封，共含0条通知" in second
    assert len(smtp.messages) == 1


def test_a_single_notification_is_the_subject(app, world, smtp):
    _set_email(app, world["other_liaison"], "other@example.cn")
    _remind(app)
    [message] = smtp.to("other@example.cn")
    assert _subject(message).startswith("[网络安全联合检查] 整改事项")
    assert "将于7天后到期" in _subject(message)


def test_people_without_an_address_read_or_old_notifications_are_not_mailed(app, world, smtp):
    _set_email(app, world["liaison"], "liaison@example.cn")
    with app.app_context():
        liaison = world["liaison"]
        db.session.add_all(
            [
                Notification(
                    user_id=liaison, kind="verified", data={"code": "F-READ"}, read_at=utcnow()
                ),
                Notification(
                    user_id=liaison,
                    kind="verified",
                    data={"code": "F-OLD"},
                    created_at=utcnow() - timedelta(days=30),
                ),
            ]
        )
        db.session.commit()
    _remind(app)
    [message] = smtp.messages  # the other liaison and the coordinators have no address
    assert "F-READ" not in _body(message) and "F-OLD" not in _body(message)


def test_an_inactive_account_is_not_mailed(app, world, smtp):
    _set_email(app, world["liaison"], "liaison@example.cn")
    with app.app_context():
        db.session.get(User, world["liaison"]).is_active_flag = False
        db.session.commit()
    _remind(app)
    assert smtp.messages == []


def test_one_refused_address_is_reported_and_does_not_stop_the_rest(app, world, smtp):
    _set_email(app, world["liaison"], "gone@example.cn")
    _set_email(app, world["other_liaison"], "other@example.cn")
    smtp.refuse.add("gone@example.cn")
    result = app.test_cli_runner().invoke(args=["rectification", "remind", "--today", "2026-06-13"])
    assert result.exit_code == 0
    assert (
        "发给" in result.output
        and "gone@example.cn" in result.output
        and "下次运行时重试" in result.output
    )
    assert "已发送1封，共含1条通知" in result.output
    assert [m["To"] for m in smtp.messages] == ["other@example.cn"]
    assert _mailed(app, world["liaison"]) == [False, False, False]
    assert _mailed(app, world["other_liaison"]) == [True]
    smtp.refuse.clear()  # the next run sends what is still waiting, and only that
    assert "已发送1封，共含3条通知" in _remind(app)
    assert [m["To"] for m in smtp.messages] == ["other@example.cn", "gone@example.cn"]


def test_an_unreachable_server_is_reported_and_nothing_is_marked_sent(app, world, monkeypatch):
    _set_email(app, world["liaison"], "liaison@example.cn")
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", free_port())  # nobody listens there
    monkeypatch.setitem(app.config, "MAIL_TIMEOUT", 2)
    result = app.test_cli_runner().invoke(args=["rectification", "remind", "--today", "2026-06-13"])
    assert result.exit_code == 0
    assert "无法连接邮件服务器" in result.output and "1封邮件待下次运行时发送" in result.output
    assert _mailed(app, world["liaison"]) == [False, False, False]


def test_the_message_is_chinese_whatever_the_shell_speaks(app, world, smtp, monkeypatch):
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    monkeypatch.delenv("LC_ALL", raising=False)
    _set_email(app, world["liaison"], "liaison@example.cn")
    output = _remind(app)
    assert "E-mail: 1 message(s) sent with 3 notification(s)." in output
    assert "将于7天后到期" in _body(smtp.messages[0])


def test_compose_names_the_person_and_lists_every_notification(app, make):
    with app.test_request_context("/"):
        person = make.user(role="unit", display_name="王联络", email="w@example.cn")
        notes = [
            Notification(user_id=person.id, kind="verified", data={"code": "F-1"}),
            Notification(
                user_id=person.id, kind="returned", data={"code": "F-2", "due_date": "2026-07-01"}
            ),
        ]
        message = mail.compose(person, notes, sender="inspect@example.cn")
    body = message.get_content()
    assert body.startswith("王联络：")
    assert "- 整改事项F-1已验收通过并销号。" in body
    assert "- 整改事项F-2已被退回，请于2026-07-01前重新报送。" in body
    assert message["Message-ID"].endswith("@example.cn>")


def test_no_mail_server_means_nothing_is_tried(app, world):
    with app.app_context():
        report = mail.send_pending()
    assert report.configured is False and report.messages == 0


def test_with_the_public_address_set_each_item_is_linked(app, make):
    """PUBLIC_URL (the address users reach the app at) makes each notification a link to its
    item, and the closing line a link to the notifications page; without it, no links."""
    app.config["PUBLIC_URL"] = "https://inspect.example.gov.cn/wangxin"
    try:
        with app.app_context():
            person = make.user(role="unit", display_name="王联络", email="w@example.cn")
            note = Notification(
                user_id=person.id, kind="verified", item_id=None, data={"code": "F-1"}
            )
            linked = Notification(user_id=person.id, kind="verified", data={"code": "F-2"})
            linked.item_id = 42
            body = mail.compose(person, [note, linked], sender="i@example.cn").get_content()
        assert "- 整改事项F-1已验收通过并销号。\n- 整改事项F-2" in body
        assert (
            "整改事项F-2已验收通过并销号。\n  https://inspect.example.gov.cn/wangxin/rectification/items/42\n"
            in body
        )
        assert "https://inspect.example.gov.cn/wangxin/notifications/" in body
    finally:
        app.config["PUBLIC_URL"] = ""
    with app.app_context():
        person = make.user(role="unit", email="x@example.cn")
        note = Notification(user_id=person.id, kind="verified", data={"code": "F-3"})
        note.item_id = 42
        assert "http" not in mail.compose(person, [note], sender="i@example.cn").get_content()


def test_a_public_address_that_is_not_a_web_address_stops_the_start():
    import pytest

    from inspect_app import ConfigurationError, create_app

    for bad in (
        "inspect.example.gov.cn",
        "ftp://x.cn",
        "https://x.cn/?a=1",
        "https://u:p@x.cn",
        "https://x.cn:abc",
        "https://x.cn:99999",
        "https://[::1",
        "https://x.cn/a b",
        "https://x.cn/网信",
    ):
        with pytest.raises(ConfigurationError, match="PUBLIC_URL"):
            create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "PUBLIC_URL": bad})
    good = create_app(
        {"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "PUBLIC_URL": "https://x.cn/"}
    )
    assert good.config["PUBLIC_URL"] == "https://x.cn"
    for fine in ("https://x.cn:8443/a/b", "http://[::1]:8080", "https://x.cn/wx-inspect/"):
        app = create_app(
            {"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "PUBLIC_URL": fine}
        )
        assert app.config["PUBLIC_URL"] == fine.rstrip("/")
