"""Forms of the rectification pages: they parse and check shape; rectification.services decides.

Every form of the item page carries the item's version (a stale page gets the 409 message) and a
prefix, so several forms live on one page without two inputs sharing an id. CSRFProtect checks
the page's one token on every POST before a view runs, so the forms do not check it again.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import (
    DateField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional, StopValidation
from wtforms.widgets import HiddenInput

from ..errors import DomainError
from ..labels import ESCALATION_TARGET_LABELS
from ..models.rectification import ESCALATION_TARGETS
from . import services

TEXT = services.MAX_TEXT
NAME = services.MAX_NAME


def _required(message):
    return DataRequired(message=message)


class DayField(DateField):
    """A date: empty is no date (a required one says so in its own words), anything else must
    be a day written as YYYY-MM-DD (what a date input sends)."""

    def process_formdata(self, valuelist):
        if valuelist and not " ".join(valuelist).strip():
            self.data = None
            return
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(_l("Enter a date as YYYY-MM-DD.")) from None

    def pre_validate(self, form):
        if self.process_errors:  # a garbled date says so, not "required"
            raise StopValidation()


class ItemForm(FlaskForm):
    """A step on one item: its version, and the service's field names mapped to the form's."""

    class Meta:
        csrf = False  # CSRFProtect has checked the page's token before the view runs

    version = IntegerField(widget=HiddenInput(), validators=[InputRequired()])
    # The name a service gives a field in its refusal (details["field"]) -> the form field.
    service_fields: dict[str, str] = {}

    def add_service_error(self, err: DomainError) -> None:
        """Show a service's refusal beside the field it concerns, else above the form."""
        details = err.details if isinstance(err.details, dict) else {}
        named = {str(label): name for label, name in self.service_fields.items()}
        name = named.get(str(details.get("field", "")))
        if name and name in self:
            self[name].errors = [*self[name].errors, err.message]
        else:
            self.form_errors.append(err.message)

    def stale(self) -> bool:
        return bool(self.version.errors)


class UnitStepForm(ItemForm):
    """A step of the unit's, or the office's entering a paper one for it (代录: with a source)."""

    source = TextAreaField(
        _l("Source of the paper original (代录)"),
        description=_l(
            "What you are entering from, e.g. the unit's sealed report of 2026-06-10 received by post."
        ),
        validators=[Optional(), Length(max=TEXT)],
    )

    def __init__(self, *args, on_behalf: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.on_behalf = on_behalf
        if on_behalf:
            self.source.validators = [
                _required(_l("Say what the paper original is.")),
                Length(max=TEXT),
            ]
        else:
            del self.source

    def source_value(self) -> str:
        return self.source.data if self.on_behalf else ""


class RespondForm(UnitStepForm):
    cause = TextAreaField(
        _l("Cause of the problem"),
        validators=[_required(_l("Describe the cause of the problem.")), Length(max=TEXT)],
    )
    measures = TextAreaField(
        _l("Measures taken"),
        validators=[_required(_l("Describe the measures taken.")), Length(max=TEXT)],
    )
    completed_on = DayField(
        _l("Completion date"),
        validators=[_required(_l("Give the date the rectification was completed."))],
    )
    responsible_person = StringField(
        _l("Responsible person"),
        validators=[_required(_l("Name the responsible person.")), Length(max=NAME)],
    )
    responsible_phone = TelField(_l("Phone"), validators=[Optional(), Length(max=50)])
    files = MultipleFileField(_l("Evidence: photos and PDF scans (sealed documents)"))

    service_fields = {
        _l("The cause"): "cause",
        _l("The measures taken"): "measures",
        _l("The completion date"): "completed_on",
        _l("The responsible person"): "responsible_person",
        _l("The phone"): "responsible_phone",
        _l("The source of the paper response"): "source",
    }


class ExtensionRequestForm(UnitStepForm):
    reason = TextAreaField(
        _l("Reason for the extension"),
        validators=[_required(_l("Give the reason for the extension.")), Length(max=TEXT)],
    )
    proposed_date = DayField(
        _l("Proposed new due date"),
        validators=[_required(_l("Give the date you propose."))],
    )
    interim_measures = TextAreaField(
        _l("Interim measures until then"),
        validators=[_required(_l("Describe the interim measures.")), Length(max=TEXT)],
    )

    service_fields = {
        _l("The reason"): "reason",
        _l("The proposed date"): "proposed_date",
        _l("The interim measures"): "interim_measures",
        _l("The source of the paper request"): "source",
    }


class DecideExtensionForm(ItemForm):
    decision = RadioField(
        _l("Decision"),
        choices=[SelectChoice("grant", _l("Grant")), SelectChoice("refuse", _l("Refuse"))],
        validators=[InputRequired(message=_l("Choose to grant or refuse."))],
    )
    due_date = DayField(
        _l("New due date (when granting; the proposed date if left empty)"),
        validators=[Optional()],
    )
    reason = TextAreaField(
        _l("Reason (required when refusing)"), validators=[Optional(), Length(max=TEXT)]
    )

    service_fields = {_l("The new due date"): "due_date", _l("The reason"): "reason"}


class RecheckMixin:
    """An optional on-site re-check (复查): when and by whom, with evidence files."""

    checked_on = DayField(_l("On-site re-check: date"), validators=[Optional()])
    checked_by = StringField(
        _l("On-site re-check: who checked"), validators=[Optional(), Length(max=200)]
    )
    files = MultipleFileField(_l("Re-check evidence: photos and PDF scans"))

    def recheck(self) -> services.Recheck | None:
        if self.checked_on.data is None and not (self.checked_by.data or "").strip():
            return None
        return services.Recheck(checked_on=self.checked_on.data, checked_by=self.checked_by.data)


class VerifyForm(RecheckMixin, ItemForm):
    note = TextAreaField(_l("Verification note"), validators=[Optional(), Length(max=TEXT)])

    service_fields = {_l("The note"): "note", _l("Who checked"): "checked_by"}


class ReturnForm(RecheckMixin, ItemForm):
    reason = TextAreaField(
        _l("Reason for returning"),
        validators=[_required(_l("Say why the response is not enough.")), Length(max=TEXT)],
    )
    due_date = DayField(_l("New due date"), validators=[_required(_l("Give the new due date."))])

    service_fields = {
        _l("The reason"): "reason",
        _l("The new due date"): "due_date",
        _l("Who checked"): "checked_by",
    }


class AcceptRiskForm(ItemForm):
    reason = TextAreaField(
        _l("Why the risk is accepted"),
        validators=[_required(_l("Give the reason.")), Length(max=TEXT)],
    )
    until = DayField(
        _l("Accepted until"), validators=[_required(_l("Give the end of the acceptance."))]
    )

    service_fields = {_l("The reason"): "reason", _l("The end of the acceptance"): "until"}


class EscalateForm(ItemForm):
    to = SelectField(
        _l("Hand over to"),
        choices=[
            SelectChoice("", "—"),
            *(SelectChoice(t, ESCALATION_TARGET_LABELS[t]) for t in ESCALATION_TARGETS),
        ],
        validators=[_required(_l("Choose whom the item is handed over to."))],
    )
    body = StringField(
        _l("Receiving body"),
        validators=[_required(_l("Name the receiving body.")), Length(max=200)],
    )
    reason = TextAreaField(
        _l("Reason for handing over"),
        validators=[_required(_l("Give the reason.")), Length(max=TEXT)],
    )

    service_fields = {
        _l("The receiving body"): "body",
        _l("The reason"): "reason",
    }


class InterviewForm(ItemForm):
    held_on = DayField(
        _l("Date of the interview"),
        validators=[_required(_l("Give the date of the interview."))],
    )
    place = StringField(_l("Place"), validators=[_required(_l("Give the place.")), Length(max=200)])
    office_people = StringField(
        _l("For the office (names and posts)"),
        validators=[_required(_l("Name the office's participants.")), Length(max=500)],
    )
    unit_people = StringField(
        _l("For the unit (names and posts)"),
        validators=[_required(_l("Name the unit's participants.")), Length(max=500)],
    )
    content = TextAreaField(
        _l("What was said"),
        validators=[_required(_l("Record what was said.")), Length(max=TEXT)],
    )
    commitments = TextAreaField(
        _l("The unit's commitments"), validators=[Optional(), Length(max=TEXT)]
    )
    files = MultipleFileField(_l("Scans of the signed record"))

    service_fields = {
        _l("The date of the interview"): "held_on",
        _l("The place"): "place",
        _l("The office's participants"): "office_people",
        _l("The unit's participants"): "unit_people",
        _l("What was said"): "content",
        _l("The unit's commitments"): "commitments",
    }


class NotificationForm(ItemForm):
    to_body = StringField(
        _l("Superior department notified"),
        validators=[_required(_l("Name the superior department.")), Length(max=200)],
    )
    content = TextAreaField(
        _l("Text of the notification"),
        validators=[_required(_l("Write the text of the notification.")), Length(max=TEXT)],
    )

    service_fields = {
        _l("The superior department"): "to_body",
        _l("The text of the notification"): "content",
    }


class BulkForm(FlaskForm):
    """Many items at once: each selected item is sent as "id:version"."""

    class Meta:
        csrf = False  # checked by CSRFProtect before the view

    action = RadioField(
        _l("What to do with the selected items"),
        choices=[
            SelectChoice("verify", _l("Verify and close")),
            SelectChoice("return", _l("Return")),
            SelectChoice("extend", _l("Extend the due date")),
        ],
        validators=[InputRequired(message=_l("Choose what to do."))],
    )
    note = TextAreaField(
        _l("Note (the reason, when returning)"), validators=[Optional(), Length(max=TEXT)]
    )
    due_date = DayField(_l("New due date (when returning or extending)"), validators=[Optional()])

    def __init__(self, *args, actions: tuple[str, ...] = ("verify", "return", "extend"), **kw):
        super().__init__(*args, **kw)
        self.action.choices = [c for c in self.action.choices if c.value in actions]


def parse_selection(values: list[str]) -> tuple[dict[int, int], bool]:
    """{item id: version} from the checked "id:version" boxes, and whether any box was garbled."""
    versions: dict[int, int] = {}
    garbled = False
    for value in values:
        item, _sep, version = value.partition(":")
        if item.isdigit() and version.isdigit() and len(item) < 10 and len(version) < 10:
            versions[int(item)] = int(version)
        else:
            garbled = True
    return versions, garbled
