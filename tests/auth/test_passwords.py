"""The password rule (ASVS 5.0 V6.2): 12 to 128 characters, not common, not the username."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from inspect_app.auth import passwords
from inspect_app.auth.passwords import check_password_strength, common_passwords
from inspect_app.demo.seed import DEMO_PASSWORD
from inspect_app.errors import ValidationFailed
from inspect_app.extensions import db
from inspect_app.models import User

from ..conftest import TEST_PASSWORD
from ..directory.test_users import new_account

DATA = Path(passwords.__file__).resolve().parent / "data"


@pytest.mark.parametrize(
    "password",
    [DEMO_PASSWORD, TEST_PASSWORD, "long-enough-pw", "plum-kettle-harbour-9", "x" * 60 + "abcde"],
)
def test_shipped_and_sensible_passwords_are_accepted(ctx, password):
    check_password_strength(password, username="coordinator")


def test_the_demo_and_test_passwords_are_not_on_the_lists(ctx):
    assert DEMO_PASSWORD not in common_passwords()
    assert TEST_PASSWORD not in common_passwords()


def test_the_lists_hold_the_zxcvbn_passwords_and_common_chinese_ones(ctx):
    words = common_passwords()
    assert len(words) > 30_000
    for word in ("password", "qq123456", "5201314", "woaini1314", "woaini1314520", "1qaz2wsx3edc"):
        assert word in words, word


def test_each_list_says_where_it_comes_from_and_its_licence():
    zxcvbn = (DATA / "common-passwords.txt").read_text(encoding="utf-8")
    assert "zxcvbn 4.5.0" in zxcvbn and "MIT License" in zxcvbn
    readme = (DATA / "README.md").read_text(encoding="utf-8")
    assert "common-passwords-zh.txt" in readme and "MIT" in readme


@pytest.mark.parametrize(
    "password",
    [
        "password1234",  # listed
        "woaini1314520",  # listed (Chinese)
        "qq1234567890",  # listed (Chinese)
        "qwertyuiop123",  # a listed word with digits around it
        "2026!!monkey2026",
        "Dragon123456789",
        "123456789012",  # a keyboard run
        "zyxwvutsrqpon",  # the alphabet backwards
    ],
)
def test_common_passwords_are_refused_in_chinese(ctx, password):
    with pytest.raises(ValidationFailed) as err:
        check_password_strength(password, username="someone")
    assert "常见密码" in err.value.message


@pytest.mark.parametrize("password", ["aaaaaaaaaaaa", "abababababab", "1212121212121212"])
def test_repetitions_are_refused(ctx, password):
    with pytest.raises(ValidationFailed, match="重复"):
        check_password_strength(password, username="someone")


@pytest.mark.parametrize(
    "username, password",
    [
        ("inspector4", "my-inspector4-pass"),
        ("Inspector4", "MY-INSPECTOR4-PASS"),
        ("coordinator1", "1rotanidrooc"),  # reversed
    ],
)
def test_passwords_with_the_username_are_refused(ctx, username, password):
    with pytest.raises(ValidationFailed, match="用户名"):
        check_password_strength(password, username=username)


def test_a_two_letter_username_only_refuses_itself(ctx):
    check_password_strength("plum-kettle-li-harbour", username="li")


def test_length_limits_are_12_and_128(ctx):
    check_password_strength("plum-kettle-" + "x" * 116, username="u")  # 128
    with pytest.raises(ValidationFailed, match="至少需要 12 个字符"):
        check_password_strength("plum-kettle", username="u")  # 11
    with pytest.raises(ValidationFailed, match="最多 128 个字符"):
        check_password_strength("plum-kettle-" + "x" * 117, username="u")  # 129


def test_minimum_length_comes_from_config(app, monkeypatch):
    monkeypatch.setitem(app.config, "PASSWORD_MIN_LENGTH", 16)
    with app.app_context(), pytest.raises(ValidationFailed, match="16"):
        check_password_strength("plum-kettle-9x", username="u")


def test_english_message_for_english_users(app):
    with app.test_request_context("/?lang=en"), pytest.raises(ValidationFailed) as err:
        check_password_strength("password1234", username="u")
    assert "common passwords" in err.value.message


def test_change_password_refuses_a_common_password(app, make, web):
    with app.app_context():
        make.user(role="coordinator", username="chen")
    web.login("chen")
    response = web.post(
        "/auth/password",
        {"current": TEST_PASSWORD, "new": "woaini1314520", "confirm": "woaini1314520"},
    )
    assert response.status_code == 400
    assert "常见密码" in response.get_data(as_text=True)


def test_account_creation_refuses_a_password_containing_the_username(app, login_as):
    password = "wangfang-2026-x"
    response = login_as("admin").post(
        "/directory/users/new",
        new_account(username="wangfang", password=password, confirm=password),
    )
    assert response.status_code == 400
    assert "不能包含您的用户名" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(User).where(User.username == "wangfang")) is None


def test_admin_reset_refuses_a_common_password(app, login_as, make):
    with app.app_context():
        victim = make.user(role="viewer").id
    response = login_as("admin").post(
        f"/directory/users/{victim}/password",
        {"password": "password1234", "confirm": "password1234"},
    )
    assert response.status_code == 400
    assert "常见密码" in response.get_data(as_text=True)


def test_users_create_refuses_a_common_password(app):
    result = app.test_cli_runner().invoke(
        args=["users", "create", "boss", "--role", "viewer"],
        input="qwertyuiop123\nqwertyuiop123\n",
    )
    assert result.exit_code == 1
    assert "常见密码" in result.output or "common" in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(User).where(User.username == "boss")) is None
