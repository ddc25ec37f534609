"""unit_of_work: a command's changes are committed together or not at all."""

import pytest

from inspect_app.errors import ValidationFailed
from inspect_app.extensions import db
from inspect_app.models import Department
from inspect_app.transaction import unit_of_work


def test_the_body_is_committed_at_its_end(ctx):
    with unit_of_work():
        db.session.add(Department(code="UOW1", name="一"))
    db.session.expire_all()
    assert db.session.query(Department).filter_by(code="UOW1").count() == 1


def test_a_refusal_rolls_everything_back_and_is_raised(ctx):
    with pytest.raises(ValidationFailed), unit_of_work():
        db.session.add(Department(code="UOW2", name="二"))
        db.session.flush()
        raise ValidationFailed("no")
    assert db.session.query(Department).filter_by(code="UOW2").count() == 0
