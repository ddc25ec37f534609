"""Forms for the directory pages: they parse and check shape; directory.services decides."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    EmailField,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    EqualTo,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from ..labels import DEPARTMENT_KIND_LABELS, ROLE_LABELS, UNIT_KIND_LABELS
from ..models import UNIT_KINDS
from ..models.org import DEPARTMENT_KINDS
from . import creditcode, services

MLPS_LEVEL_LABELS = {
    1: _l("Level 1"),
    2: _l("Level 2"),
    3: _l("Level 3"),
    4: _l("Level 4"),
    5: _l("Level 5"),
}
BLANK = SelectChoice("", "—")


def _int_or_none(value: Any) -> int | None:
    if value in (None, ""):
        return None
    return int(value)


class _ValuesForm(FlaskForm):
    """A form whose data goes to a service as a plain dict of the named fields."""

    value_fields: tuple[str, ...] = ()

    def values(self) -> dict[str, Any]:
        return {name: self[name].data for name in self.value_fields}

    def add_errors(self, errors: dict[str, str] | None) -> None:
        """Show a service's messages by field beside the fields they concern."""
        for name, message in (errors or {}).items():
            if name in self:
                self[name].errors = [*self[name].errors, message]


class DepartmentForm(_ValuesForm):
    value_fields = services.DEPARTMENT_FIELDS

    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=20)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    name_en = StringField(_l("English name"), validators=[Optional(), Length(max=100)])
    kind = SelectField(
        _l("Kind of department"),
        choices=[SelectChoice(k, DEPARTMENT_KIND_LABELS[k]) for k in DEPARTMENT_KINDS],
        default="joint",
    )
    sector = StringField(_l("Sector regulated"), validators=[Optional(), Length(max=100)])


class UnitForm(_ValuesForm):
    value_fields = services.UNIT_FIELDS

    code = StringField(_l("Unit code"), validators=[DataRequired(), Length(max=40)])
    name = StringField(_l("Unit name"), validators=[DataRequired(), Length(max=200)])
    kind = SelectField(
        _l("Kind of unit"),
        choices=[BLANK, *(SelectChoice(k, UNIT_KIND_LABELS[k]) for k in UNIT_KINDS)],
        validators=[DataRequired()],
    )
    parent_code = StringField(_l("Parent unit (code)"), validators=[Optional(), Length(max=40)])
    credit_code = StringField(
        _l("Unified social credit code"), validators=[Optional(), Length(max=40)]
    )
    sector = StringField(_l("Sector"), validators=[Optional(), Length(max=100)])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=300)])
    is_key_unit = BooleanField(_l("Key unit"))
    is_cii = BooleanField(_l("Operates critical information infrastructure"))
    contact_name = StringField(_l("Contact person"), validators=[Optional(), Length(max=100)])
    contact_phone = TelField(_l("Contact phone"), validators=[Optional(), Length(max=50)])
    contact_email = EmailField(_l("Contact e-mail"), validators=[Optional(), Length(max=200)])
    has_website = BooleanField(_l("Has a website"))
    has_new_media = BooleanField(_l("Has new-media accounts"))
    handles_pi = BooleanField(_l("Processes personal information"))
    important_data = BooleanField(_l("Processes important data"))
    classified = BooleanField(_l("Handles classified information"))
    inspection_cap = IntegerField(
        _l("Yearly inspection cap"),
        validators=[Optional(), NumberRange(min=0, max=services.MAX_INSPECTION_CAP)],
    )
    active = BooleanField(_l("Active"), default=True)

    def validate_credit_code(self, field) -> None:
        # Checked here too so the message shows together with the form's other messages.
        value = creditcode.normalise(field.data)
        if value and (message := services.credit_code_error(value)):
            raise ValidationError(message)


class SystemForm(_ValuesForm):
    value_fields = services.SYSTEM_FIELDS

    code = StringField(_l("System code"), validators=[DataRequired(), Length(max=40)])
    name = StringField(_l("System name"), validators=[DataRequired(), Length(max=200)])
    unit_code = StringField(_l("Unit (code)"), validators=[DataRequired(), Length(max=40)])
    mlps_level = SelectField(
        _l("MLPS level"),
        choices=[BLANK, *(SelectChoice(n, label) for n, label in MLPS_LEVEL_LABELS.items())],
        coerce=_int_or_none,
        validators=[DataRequired()],
    )
    filing_number = StringField(_l("MLPS filing number"), validators=[Optional(), Length(max=60)])
    is_cii = BooleanField(_l("Critical information infrastructure"))
    internet_facing = BooleanField(_l("Reachable from the internet"))
    is_cloud = BooleanField(_l("Cloud platform or system on a cloud"))
    is_ics = BooleanField(_l("Industrial control system"))
    address = StringField(_l("Where it runs"), validators=[Optional(), Length(max=300)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])
    active = BooleanField(_l("Active"), default=True)


def _role_choices(roles) -> list[SelectChoice]:
    return [SelectChoice(role, ROLE_LABELS[role]) for role in roles]


class _AccountForm(_ValuesForm):
    role = SelectField(_l("Role"), validators=[DataRequired()])
    display_name = StringField(_l("Full name"), validators=[Optional(), Length(max=100)])
    department_code = SelectField(_l("Department"), choices=[BLANK], validate_choice=True)
    unit_code = StringField(_l("Unit (code)"), validators=[Optional(), Length(max=40)])
    certificate_no = StringField(
        _l("Law-enforcement certificate number"), validators=[Optional(), Length(max=60)]
    )
    email = EmailField(_l("E-mail address"), validators=[Optional(), Length(max=120)])

    def set_choices(self, roles, departments: list[tuple[str, str]]) -> None:
        self.role.choices = _role_choices(roles)
        self.department_code.choices = [BLANK, *(SelectChoice(c, n) for c, n in departments)]


class CreateUserForm(_AccountForm):
    value_fields = (
        "username",
        "display_name",
        "role",
        "department_code",
        "unit_code",
        "certificate_no",
        "email",
        "password",
    )

    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=80)])
    password = PasswordField(_l("Initial password"), validators=[DataRequired(), Length(max=128)])
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The two passwords differ."))],
    )


class EditUserForm(_AccountForm):
    value_fields = (
        "display_name",
        "role",
        "department_code",
        "unit_code",
        "certificate_no",
        "email",
        "active",
    )

    active = BooleanField(_l("Account active"))


class ResetPasswordForm(_ValuesForm):
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=128)])
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The two passwords differ."))],
    )


class ImportForm(FlaskForm):
    file = FileField(
        _l("Excel file (.xlsx)"),
        validators=[
            FileRequired(message=_l("Choose a file to upload.")),
            FileAllowed(["xlsx"], message=_l("Only Excel workbooks (.xlsx) can be imported.")),
        ],
    )
