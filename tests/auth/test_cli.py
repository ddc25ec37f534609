"""`flask users create` prompts for the password and checks role membership."""

from inspect_app.extensions import db
from inspect_app.models import User


def test_users_create_prompts_for_password_and_creates_the_account(app, make):
    with app.app_context():
        unit_id = make.unit(code="U9").id
    result = app.test_cli_runner().invoke(
        args=["users", "create", "liaison", "--role", "unit", "--unit", "U9"],
        input="long-enough-pw\nlong-enough-pw\n",
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.query(User).filter_by(username="liaison").one()
        assert user.unit_id == unit_id and user.role == "unit"


def test_users_create_refuses_a_unit_user_without_a_unit(app):
    result = app.test_cli_runner().invoke(
        args=["users", "create", "liaison", "--role", "unit"],
        input="long-enough-pw\nlong-enough-pw\n",
    )
    assert result.exit_code == 1
    assert "unit" in result.output.lower() or "单位" in result.output
    with app.app_context():
        assert db.session.query(User).filter_by(username="liaison").count() == 0


def test_users_create_refuses_an_inspector_with_an_unknown_department(app):
    result = app.test_cli_runner().invoke(
        args=["users", "create", "insp", "--role", "inspector", "--department", "NOPE"],
        input="long-enough-pw\nlong-enough-pw\n",
    )
    assert result.exit_code == 1
    assert "NOPE" in result.output


def test_users_create_refuses_a_unit_user_with_a_department(app, make):
    with app.app_context():
        make.unit(code="U7")
        make.department(code="CAC")
    result = app.test_cli_runner().invoke(
        args=["users", "create", "eve", "--role", "unit", "--unit", "U7", "--department", "CAC"],
        input="long-enough-pw\nlong-enough-pw\n",
    )
    assert result.exit_code == 1
    with app.app_context():
        assert db.session.query(User).filter_by(username="eve").count() == 0


def test_users_create_takes_an_email_address_and_refuses_a_malformed_one(app):
    runner = app.test_cli_runner()
    args = ["users", "create", "viewer9", "--role", "viewer", "--email"]
    bad = runner.invoke(args=[*args, "not-an-address"], input="long-enough-pw\nlong-enough-pw\n")
    assert bad.exit_code == 1 and "name@example.cn" in bad.output
    good = runner.invoke(args=[*args, "v9@example.cn"], input="long-enough-pw\nlong-enough-pw\n")
    assert good.exit_code == 0, good.output
    with app.app_context():
        assert db.session.query(User).filter_by(username="viewer9").one().email == "v9@example.cn"
