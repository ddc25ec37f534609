"""Forms for the round pages: they parse and check shape; rounds.services decides."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import (
    DateField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from ..models.inspection import ROUND_NATURES
from .labels import NATURE_LABELS, THEME_LABELS
from .services import THEMES, Target, TargetFilter, TeamMember


class EditRoundForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    theme = SelectField(
        _l("Inspection theme"), choices=[SelectChoice(t, THEME_LABELS[t]) for t in THEMES]
    )
    nature = SelectField(
        _l("Nature of the inspection"),
        choices=[SelectChoice(n, NATURE_LABELS[n]) for n in ROUND_NATURES],
    )
    start_date = DateField(_l("Start date"), validators=[Optional()])
    end_date = DateField(_l("End date"), validators=[Optional()])
    departments = SelectMultipleField(_l("Participating departments"), coerce=int, choices=[])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=5000)])

    def add_errors(self, errors: dict | None) -> None:
        """Show a service's messages beside the fields they concern."""
        for name, message in (errors or {}).items():
            if name in self:
                self[name].errors = [*self[name].errors, message]


def _flag(value: str | None) -> bool | None:
    return {"yes": True, "no": False}.get((value or "").strip())


def parse_filters(args: MultiDict) -> tuple[TargetFilter, dict[str, str]]:
    """The target filters from the query string, and the raw values to keep in links."""
    raw = {
        name: (args.get(name) or "").strip()
        for name in ("target", "kind", "key", "level", "cii", "fresh", "q")
    }
    if raw["target"] not in ("unit", "system"):
        raw["target"] = "unit"
    level = int(raw["level"]) if raw["level"] in ("1", "2", "3", "4", "5") else None
    filters = TargetFilter(
        target=raw["target"],
        unit_kind=raw["kind"],
        key_unit=_flag(raw["key"]),
        mlps_level=level,
        cii=_flag(raw["cii"]),
        not_inspected=raw["fresh"] == "1",
        q=raw["q"][:100],
    )
    return filters, {k: v for k, v in raw.items() if v}


def parse_date(value: str | None) -> date | None:
    try:
        return date.fromisoformat((value or "").strip())
    except ValueError:
        return None


def _int(value: str | None) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isdigit() else None


@dataclass
class TeamEntry:
    """What the team table of a form sent: members, lead and certificate numbers by user."""

    member_ids: list[int] = field(default_factory=list)
    lead_id: int | None = None
    certificates: dict[int, str] = field(default_factory=dict)
    scheduled_on: date | None = None
    date_text: str = ""

    @classmethod
    def from_form(cls, form: MultiDict) -> TeamEntry:
        ids = [i for i in (_int(v) for v in form.getlist("member")) if i is not None]
        certificates = {
            uid: form.get(f"cert-{uid}", "")
            for uid in (_int(k[5:]) for k in form if k.startswith("cert-"))
            if uid is not None
        }
        text = (form.get("scheduled_on") or "").strip()
        return cls(
            list(dict.fromkeys(ids)), _int(form.get("lead")), certificates, parse_date(text), text
        )

    def team(self) -> list[TeamMember]:
        return [TeamMember(uid, self.certificates.get(uid)) for uid in self.member_ids]


@dataclass
class AssignEntry(TeamEntry):
    """The assignment form: targets, checklist version and confirmation, plus the team."""

    targets: list[Target] = field(default_factory=list)
    template_id: int | None = None
    confirmed_over_cap: bool = False

    @classmethod
    def from_form(cls, form: MultiDict) -> AssignEntry:
        base = TeamEntry.from_form(form)
        targets = [t for t in (Target.parse(v) for v in form.getlist("target")) if t is not None]
        return cls(
            **base.__dict__,
            targets=list(dict.fromkeys(targets)),
            template_id=_int(form.get("template_id")),
            confirmed_over_cap=form.get("confirm_cap") == "1",
        )

    @property
    def chosen(self) -> set[str]:
        return {str(t) for t in self.targets}


DEFAULT_PREPARATION = _l(
    "Please have the person in charge of network security and the system administrators present, "
    "and prepare: the network security responsibility documents, the list of information systems "
    "with their MLPS filing and assessment reports, the security management rules, the logs of "
    "the past six months, the emergency plans and drill records, and the rectification of earlier "
    "problems."
)


class ApprovePlanForm(FlaskForm):
    preparation = TextAreaField(
        _l("What the unit prepares (printed on the inspection notice)"),
        validators=[Length(max=3000)],
    )


class AdvanceServedForm(FlaskForm):
    served_on = DateField(_l("Date the inspection notice was served"), validators=[DataRequired()])
