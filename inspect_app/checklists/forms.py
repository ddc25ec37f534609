"""Forms of the checklist pages."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired


class UploadChecklistForm(FlaskForm):
    file = FileField(
        _l("Checklist file (.xlsx or .yaml)"),
        validators=[
            FileRequired(message=_l("Choose a file to upload.")),
            FileAllowed(
                ["xlsx", "yaml", "yml"],
                message=_l("Only Excel workbooks (.xlsx) or YAML files can be checked."),
            ),
        ],
    )


class DeleteVersionForm(FlaskForm):
    """Empty form: deleting is a POST carrying only the CSRF token."""
