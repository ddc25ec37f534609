"""Fixtures for the auth tests: a clock the login services read, and log-in helpers."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from inspect_app.auth import services
from inspect_app.models import utcnow


class Clock:
    """The time the auth services see (login sessions, lockout, TOTP); moved by the test."""

    def __init__(self):
        self.now = utcnow().replace(microsecond=0)

    def __call__(self):
        return self.now

    def advance(self, **kw) -> None:
        self.now += timedelta(**kw)


@pytest.fixture
def clock(monkeypatch):
    c = Clock()
    monkeypatch.setattr(services, "utcnow", c)
    return c


@pytest.fixture
def mfa_roles(app, monkeypatch):
    """The production default: admins and coordinators must use two-step login."""
    monkeypatch.setitem(app.config, "MFA_REQUIRED_ROLES", ("admin", "coordinator"))


def cookie(client, name: str) -> str | None:
    found = client.get_cookie(name)
    return found.value if found is not None else None


def flashes(html: str) -> list[str]:
    return re.findall(r'<p class="flash[^"]*">([^<]*)</p>', html)
