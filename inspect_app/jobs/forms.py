"""The form that starts a job: the kind; every other field is a parameter the kind checks."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

# Fields of the form that are not parameters of the job.
NOT_PARAMS = ("csrf_token", "kind")


class StartJobForm(FlaskForm):
    kind = StringField(_l("Kind of job"), validators=[DataRequired(), Length(max=60)])

    def params(self, form) -> dict:
        """The job's parameters as sent: one string per field, a list for repeated fields."""
        params: dict = {}
        for key in form:
            if key in NOT_PARAMS:
                continue
            values = form.getlist(key)
            params[key] = values[0] if len(values) == 1 else values
        return params
