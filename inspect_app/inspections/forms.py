"""Forms of the inspection pages (the answers themselves go through the batch service)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length


class SubmitInspectionForm(FlaskForm):
    signatory_name = StringField(
        _l("Name of the unit representative (printed)"),
        validators=[
            DataRequired(_l("Enter the printed name of the unit representative.")),
            Length(max=100),
        ],
    )
    signature = HiddenField(_l("Signature"))
    confirm = BooleanField(
        _l("As lead inspector I confirm the answers and findings above."),
        validators=[InputRequired(_l("Tick the lead inspector's confirmation."))],
    )


class NoticeServedForm(FlaskForm):
    served_on = DateField(_l("Date the notice was served (送达)"), validators=[DataRequired()])


class ReopenForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason for reopening"), validators=[DataRequired(), Length(max=2000)]
    )


class EmptyForm(FlaskForm):
    """A form with only the CSRF token (start, delete)."""
