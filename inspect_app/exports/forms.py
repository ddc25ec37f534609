"""The form that starts a round or year export (its values are checked by the kind's validator)."""

from flask_wtf import FlaskForm
from wtforms import HiddenField


class StartExportForm(FlaskForm):
    kind = HiddenField()
    year = HiddenField()
    seq = HiddenField()
