"""E-mail for notifications, through the SMTP server in MAIL_SERVER (nothing is sent without one).

One message per person per run, listing their notifications not yet e-mailed, in the office's
language (DEFAULT_LOCALE). A notification counts as e-mailed (emailed_at) only after the server
accepted the message that carried it; a refused message is reported and tried again next run,
and one refusal does not stop the others. Notifications already read in the app, older than
MAIL_MAX_AGE_DAYS, of inactive accounts or of people without an address are not mailed.
"""

from __future__ import annotations

import contextlib
import smtplib
import ssl
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import Notification, RectificationItem, User, utcnow
from . import messages


@dataclass
class Failure:
    """A message the server did not take: whose, and why."""

    username: str
    address: str
    error: str


@dataclass
class MailReport:
    """What one run did. `configured` is False when MAIL_SERVER is not set (nothing tried);
    `unreachable` holds the connection error when the server could not be reached at all."""

    configured: bool = True
    messages: int = 0
    notifications: int = 0
    failures: list[Failure] = field(default_factory=list)
    unreachable: str = ""
    waiting: int = 0  # messages not tried because the server could not be reached


def _pending_users(since: datetime) -> list[int]:
    return list(
        db.session.scalars(
            sa.select(Notification.user_id)
            .join(User, User.id == Notification.user_id)
            .where(
                Notification.emailed_at.is_(None),
                Notification.read_at.is_(None),
                Notification.created_at >= since,
                User.email != "",
                User.is_active_flag.is_(True),
            )
            .distinct()
            .order_by(Notification.user_id)
        )
    )


def _pending(user_id: int, since: datetime) -> list[Notification]:
    """The user's notifications to mail, locked until they are marked, so two runs at once never
    send one twice: on PostgreSQL the other run skips them; on SQLite the transaction holds the
    database's write lock while this one message is sent (a local relay takes milliseconds)."""
    return list(
        db.session.scalars(
            sa.select(Notification)
            .where(
                Notification.user_id == user_id,
                Notification.emailed_at.is_(None),
                Notification.read_at.is_(None),
                Notification.created_at >= since,
            )
            .options(joinedload(Notification.item).joinedload(RectificationItem.unit))
            .order_by(Notification.created_at, Notification.id)
            .with_for_update(of=Notification, skip_locked=True)
        ).unique()
    )


def compose(user: User, notes: list[Notification], *, sender: str) -> EmailMessage:
    """The message to one person, in the office's language."""
    cfg = current_app.config
    with force_locale(cfg["DEFAULT_LOCALE"]):
        app_name = _("Joint Network Security Inspection")
        links = _Links(cfg["PUBLIC_URL"]) if cfg.get("PUBLIC_URL") else None
        lines = [messages.text(n) for n in notes]
        if len(lines) == 1:
            subject = f"[{app_name}] {lines[0]}"
        else:
            subject = f"[{app_name}] " + ngettext(
                "%(num)d new notification", "%(num)d new notifications", len(lines)
            )
        body = "\n".join(
            [
                _("Dear %(name)s,", name=user.name),
                "",
                *(
                    f"- {line}" + (f"\n  {links.item(n.item_id)}" if links and n.item_id else "")
                    for n, line in zip(notes, lines, strict=True)
                ),
                "",
                _("Log in to the inspection system to see and handle them."),
                *([links.notifications()] if links else []),
                _("This message was sent automatically; please do not reply to it."),
            ]
        )
    message = EmailMessage()
    message["Subject"] = subject[:200]
    message["From"] = sender
    message["To"] = user.email
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message.set_content(body + "\n")
    return message


class _Links:
    """Addresses in the app as users reach it (PUBLIC_URL), built from the app's routes."""

    def __init__(self, public_url: str):
        parts = urlsplit(public_url)
        self.adapter = current_app.url_map.bind(
            parts.netloc, script_name=parts.path or "/", url_scheme=parts.scheme
        )

    def item(self, item_id: int) -> str:
        return self.adapter.build("rectification.show", {"item_id": item_id}, force_external=True)

    def notifications(self) -> str:
        return self.adapter.build("notifications.index", force_external=True)


def _connect() -> smtplib.SMTP:
    cfg = current_app.config
    host, port, timeout = cfg["MAIL_SERVER"], int(cfg["MAIL_PORT"]), float(cfg["MAIL_TIMEOUT"])
    if cfg["MAIL_USE_SSL"]:
        server = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
    else:
        server = smtplib.SMTP(host, port, timeout=timeout)
        if cfg["MAIL_USE_TLS"]:
            server.starttls(context=ssl.create_default_context())
    if cfg["MAIL_USERNAME"]:
        server.login(cfg["MAIL_USERNAME"], cfg["MAIL_PASSWORD"] or "")
    return server


def send_pending(*, now: datetime | None = None) -> MailReport:
    """E-mail each person their notifications not yet e-mailed (see the module's rules).

    Returns a report; never raises for a mail problem (the next run tries again). Commits once
    per message sent, marking its notifications e-mailed.
    """
    cfg = current_app.config
    if not cfg.get("MAIL_SERVER"):
        return MailReport(configured=False)
    report = MailReport()
    since = (now or utcnow()) - timedelta(days=int(cfg["MAIL_MAX_AGE_DAYS"]))
    user_ids = _pending_users(since)
    db.session.rollback()  # end the read: SQLite holds its write lock for a whole transaction
    if not user_ids:
        return report
    sender = cfg["MAIL_SENDER"] or f"noreply@{cfg['MAIL_SERVER']}"
    try:
        server = _connect()
    except (OSError, smtplib.SMTPException) as err:
        report.unreachable = f"{type(err).__name__}: {err}"
        report.waiting = len(user_ids)
        return report
    try:
        for user_id in user_ids:
            _send_one(server, user_id, since, sender, report)
    finally:
        with contextlib.suppress(OSError, smtplib.SMTPException):
            server.quit()
    return report


def _send_one(server, user_id: int, since: datetime, sender: str, report: MailReport) -> None:
    user = db.session.get(User, user_id)
    notes = _pending(user_id, since)
    if not notes:  # another run has them
        db.session.rollback()
        return
    message = compose(user, notes, sender=sender)
    try:
        server.send_message(message)
    except (OSError, smtplib.SMTPException) as err:
        report.failures.append(Failure(user.username, user.email, f"{type(err).__name__}: {err}"))
        db.session.rollback()
        return
    sent_at = utcnow()
    for n in notes:
        n.emailed_at = sent_at
    db.session.commit()
    report.messages += 1
    report.notifications += len(notes)
