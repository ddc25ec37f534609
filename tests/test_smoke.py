"""The app boots, serves the login page in Chinese by default and logs people in."""

from inspect_app.extensions import db
from inspect_app.models import User


def test_login_page_is_chinese_by_default(client):
    html = client.get("/auth/login").get_data(as_text=True)
    assert 'lang="zh-CN"' in html
    assert "登录" in html


def test_lang_en_shows_english(client):
    html = client.get("/auth/login?lang=en").get_data(as_text=True)
    assert 'lang="en"' in html
    assert "Log in" in html


def test_rows_do_not_leak_between_tests_part1(ctx, make):
    make.user(username="leaky")
    assert db.session.query(User).filter_by(username="leaky").count() == 1


def test_rows_do_not_leak_between_tests_part2(ctx):
    assert db.session.query(User).filter_by(username="leaky").count() == 0
