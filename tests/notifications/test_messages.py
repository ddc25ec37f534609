"""Every kind of notification reads as a sentence in Chinese and in English."""

import ast
import re
from pathlib import Path

import pytest
from flask_babel import force_locale

from inspect_app.models import Notification
from inspect_app.notifications import messages

SAMPLE = {
    "code": "2026-R3-U014-7-01",
    "unit": "Bank",
    "count": 2,
    "due_date": "2026-07-01",
    "proposed_date": "2026-08-01",
    "until": "2026-12-31",
    "body": "City PSB",
    "days": 3,
}
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.parametrize("kind", sorted(messages.TEXTS))
def test_every_kind_reads_in_both_languages(app, kind):
    note = Notification(kind=kind, data=SAMPLE)
    with app.test_request_context("/"):
        with force_locale("zh_Hans_CN"):
            chinese = messages.text(note)
        with force_locale("en"):
            english = messages.text(note)
    assert CJK.search(chinese), chinese
    assert not CJK.search(english), english
    assert "%(" not in chinese + english
    if kind not in ("items_opened",):
        assert SAMPLE["code"] in chinese and SAMPLE["code"] in english


@pytest.mark.parametrize(
    ("days", "chinese"),
    [(0, "今天到期"), (1, "明天到期"), (5, "将于5天后到期")],
)
def test_due_soon_says_today_tomorrow_or_in_days(app, days, chinese):
    note = Notification(kind="due_soon", data={**SAMPLE, "days": days})
    with app.test_request_context("/"), force_locale("zh_Hans_CN"):
        assert chinese in messages.text(note)


def test_an_unknown_kind_still_reads_as_a_sentence(app):
    with app.test_request_context("/"), force_locale("zh_Hans_CN"):
        assert "整改通知" in messages.text(Notification(kind="later_kind", data={}))


def test_every_kind_the_services_store_has_a_text():
    """Kinds named in notify() calls (and the event kinds passed on by name) are all covered."""
    root = Path(__file__).resolve().parents[2] / "inspect_app"
    stored = set()
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "attr", getattr(node.func, "id", "")) == "notify"
                and len(node.args) >= 2
                and isinstance(node.args[1], ast.Constant)
            ):
                stored.add(node.args[1].value)
    # decide_extension and bulk pass the event's kind: these are the ones they can be.
    stored |= {"extension_granted", "extension_refused", "verified", "returned"}
    assert stored >= {"items_opened", "response_submitted", "risk_reopened", "due_soon", "overdue"}
    assert stored <= set(messages.TEXTS), stored - set(messages.TEXTS)
