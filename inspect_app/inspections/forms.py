"""Forms of the inspection pages (the answers themselves go through the batch service)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    HiddenField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from ..labels import INSPECTION_METHOD_LABELS, SERVICE_METHOD_LABELS


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


SERVICE_METHOD_CHOICES = [SelectChoice(k, v) for k, v in SERVICE_METHOD_LABELS.items()]


class NoticeServedForm(FlaskForm):
    """The 送达回证: choices of serving officers are the visit's team, set by the view."""

    served_on = DateField(_l("Date the notice was served (送达)"), validators=[DataRequired()])
    served_time = TimeField(_l("Time of service"), validators=[Optional()])
    method = SelectField(_l("Method of service"), choices=SERVICE_METHOD_CHOICES)
    place = StringField(
        _l("Place of service (or postal or electronic address)"),
        validators=[DataRequired(), Length(max=300)],
    )
    server_a = SelectField(_l("Serving officer"), coerce=int, validate_choice=False)
    server_b = SelectField(_l("Second serving officer"), coerce=int, validate_choice=False)
    recipient_name = StringField(_l("Recipient's name"), validators=[Length(max=100)])
    signature = HiddenField(_l("Recipient's signature"))
    refused = BooleanField(_l("The recipient refused to sign or to accept"))
    witness = StringField(_l("Witness (name and post)"), validators=[Length(max=100)])
    note = TextAreaField(
        _l("Note (postal tracking number, circumstances)"), validators=[Length(max=2000)]
    )


class ApproveNoticeForm(FlaskForm):
    legal_review = BooleanField(_l("A major matter: it passed the legal review (法制审核)"))
    legal_review_note = TextAreaField(
        _l("Outcome of the legal review"), validators=[Length(max=2000)]
    )


class ReopenForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason for reopening"), validators=[DataRequired(), Length(max=2000)]
    )


class EmptyForm(FlaskForm):
    """A form with only the CSRF token (start, delete)."""


class VisitRecordForm(FlaskForm):
    """The facts of the 检查记录 that the checklist answers do not hold (times in local time)."""

    started_at = DateTimeLocalField(
        _l("Inspection started"), format="%Y-%m-%dT%H:%M", validators=[Optional()]
    )
    ended_at = DateTimeLocalField(
        _l("Inspection ended"), format="%Y-%m-%dT%H:%M", validators=[Optional()]
    )
    place = StringField(_l("Place of inspection"), validators=[Length(max=300)])
    method = SelectField(
        _l("Method of inspection"),
        choices=[SelectChoice(k, v) for k, v in INSPECTION_METHOD_LABELS.items()],
    )
    remote_authorisation = StringField(
        _l("Written authorisation for remote testing"), validators=[Length(max=300)]
    )
    credentials_shown = BooleanField(
        _l(
            "The inspectors showed their enforcement certificates and told the unit the basis, "
            "the items and its right to ask for an inspector's withdrawal (回避)"
        )
    )
    unit_reply = TextAreaField(
        _l("The unit's answer (e.g. no request for withdrawal)"), validators=[Length(max=2000)]
    )
    representative_post = StringField(_l("Representative's post"), validators=[Length(max=100)])
    representative_phone = StringField(
        _l("Representative's telephone"), validators=[Length(max=50)]
    )
    support_staff = TextAreaField(
        _l("Technical support staff, one a line: name, organisation"),
        validators=[Length(max=4000)],
    )
    unit_statement = TextAreaField(
        _l("The unit's objection or explanation (异议/说明)"), validators=[Length(max=5000)]
    )
    unit_refused_to_sign = BooleanField(_l("The unit's representative refused to sign"))
    refusal_witness = StringField(_l("Witness of the refusal"), validators=[Length(max=100)])


class SignRecordForm(FlaskForm):
    signature = HiddenField(_l("Signature"))


class UploadRecordingForm(FlaskForm):
    file = FileField(
        _l("Audio or video recording (MP4, M4A)"),
        validators=[FileRequired(message=_l("Choose a recording to upload."))],
    )


class ArriveForm(FlaskForm):
    code = StringField(
        _l("The unit's code (on its QR sign)"), validators=[DataRequired(), Length(max=20)]
    )


class RateConductForm(FlaskForm):
    rating = SelectField(
        _l("Conduct of the inspection team"),
        choices=[SelectChoice(str(n), str(n)) for n in (5, 4, 3, 2, 1)],
    )
    comment = TextAreaField(
        _l("Comment or complaint (检查行为评价)"), validators=[Length(max=2000)]
    )
