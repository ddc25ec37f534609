"""Fixtures for notifications: the rectification world (one unit's items due 2026-06-20) and a
real SMTP server (aiosmtpd) on a free local port."""

from __future__ import annotations

import email
import socket

import pytest
from aiosmtpd.controller import Controller

from ..rectification.conftest import world  # noqa: F401 - shared with the rectification tests


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    """What the test SMTP server received; addresses in `refuse` are refused at RCPT."""

    def __init__(self):
        self.messages: list[email.message.Message] = []
        self.refuse: set[str] = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 Message accepted"

    def to(self, address: str) -> list[email.message.Message]:
        return [m for m in self.messages if m["To"] == address]


@pytest.fixture
def smtp(app, monkeypatch):
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    for key, value in {
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": port,
        "MAIL_SENDER": "inspect@example.cn",
        "MAIL_TIMEOUT": 5,
    }.items():
        monkeypatch.setitem(app.config, key, value)
    yield inbox
    controller.stop()
