"""The six rounds of a year, their targets and joint teams: every planning rule lives here.

Commands take explicit inputs (`actor=`, `now=`), check everything before they change anything,
write their audit events in the same transaction and commit once. Refusals are DomainErrors:
ValidationFailed for bad input, InvalidTransition for a move the state does not allow, and
ConfirmationRequired when the command goes ahead only after the user confirms. Every command
raises NotAllowed unless the actor may edit rounds, so the API and CLI can call them as pages do.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from .. import audit
from ..audit.services import snapshot
from ..auth import permissions
from ..directory.services import missing_regulators
from ..errors import ConfirmationRequired, InvalidTransition, NotFound, ValidationFailed
from ..extensions import db
from ..labels import INSPECTION_STATUS_LABELS
from ..models import (
    Answer,
    Attachment,
    ChecklistTemplate,
    Department,
    Inspection,
    InspectionMember,
    Round,
    SelfAnswer,
    System,
    Unit,
    User,
    Visit,
    utcnow,
)
from ..models.inspection import EDITABLE_STATUSES, ROUND_NATURES
from ..models.org import kind_setting
from ..transaction import unit_of_work
from .labels import ROUND_STATUS_LABELS, label

THEMES = ("major_dates", "key_units", "key_systems", "risk_review")
ROUNDS_PER_YEAR = 6
MIN_TEAM = 2  # 行政处罚法第42条: at least two enforcement officers
YEARS = (2000, 2100)
CANDIDATE_LIMIT = 500

# The one table of round moves; anything not listed is an InvalidTransition.
ROUND_TRANSITIONS: dict[str, tuple[str, ...]] = {
    "planned": ("active",),
    "active": ("closed",),
    "closed": (),
}

# seq -> (title, theme, nature, (start month, day), (end month, day)): the defaults of a new year.
DEFAULT_ROUNDS: dict[int, tuple[Any, str, str, tuple[int, int], tuple[int, int]]] = {
    1: (
        _l("New Year and Spring Festival major dates inspection"),
        "major_dates",
        "enterprise_inspection",
        (1, 6),
        (1, 24),
    ),
    2: (
        _l("Network security inspection of key units"),
        "key_units",
        "party_gov_supervision",
        (3, 2),
        (3, 27),
    ),
    3: (
        _l("MLPS inspection of important systems"),
        "key_systems",
        "enterprise_inspection",
        (5, 6),
        (5, 29),
    ),
    4: (
        _l("Data security and personal information special review"),
        "risk_review",
        "special_review",
        (7, 1),
        (7, 24),
    ),
    5: (
        _l("National Day major dates inspection"),
        "major_dates",
        "enterprise_inspection",
        (9, 1),
        (9, 25),
    ),
    6: (
        _l("Yearly network security risk review"),
        "risk_review",
        "special_review",
        (11, 2),
        (11, 27),
    ),
}


# --- inputs and results -----------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """A unit, or one system of a unit, to inspect: `Target("unit", 12)`, `Target("system", 7)`."""

    kind: str
    id: int

    @classmethod
    def parse(cls, text: str) -> Target | None:
        """'unit:12' -> Target("unit", 12); None when the text is not of that shape."""
        kind, _sep, ident = (text or "").partition(":")
        if kind not in ("unit", "system") or not ident.isdigit():
            return None
        return cls(kind, int(ident))

    def __str__(self) -> str:
        return f"{self.kind}:{self.id}"


@dataclass(frozen=True)
class TeamMember:
    """An inspector on a team; certificate_no None means the one on the user's record."""

    user_id: int
    certificate_no: str | None = None


@dataclass
class TargetFilter:
    target: str = "unit"  # unit | system
    unit_kind: str = ""
    key_unit: bool | None = None
    mlps_level: int | None = None
    cii: bool | None = None
    not_inspected: bool = False
    q: str = ""


@dataclass
class Candidate:
    """A unit or system that may be picked for a round, with its count against the yearly cap."""

    target: Target
    unit: Unit
    system: System | None
    year_count: int
    cap: int | None
    in_round: int

    @property
    def at_cap(self) -> bool:
        return self.cap is not None and self.year_count >= self.cap


@dataclass
class CapExcess:
    """A unit that would pass its yearly inspection cap."""

    unit_id: int
    unit_name: str
    existing: int
    new: int
    cap: int

    @property
    def total(self) -> int:
        return self.existing + self.new


@dataclass
class RoundRow:
    round: Round
    inspections: int
    unfinished: int


@dataclass
class Assignment:
    inspections: list[Inspection]
    warnings: list[str] = field(default_factory=list)


# --- queries ----------------------------------------------------------------------------------


def years_with_rounds() -> list[int]:
    return list(db.session.scalars(sa.select(Round.year).distinct().order_by(Round.year)))


def round_rows(year: int) -> list[RoundRow]:
    """The rounds of a year in sequence, with how many inspections each has and how many are open."""
    unfinished = sa.func.sum(sa.case((Inspection.status.in_(EDITABLE_STATUSES), 1), else_=0))
    counts = (
        sa.select(
            Inspection.round_id,
            sa.func.count(Inspection.id).label("n"),
            unfinished.label("open"),
        )
        .group_by(Inspection.round_id)
        .subquery()
    )
    stmt = (
        sa.select(Round, counts.c.n, counts.c.open)
        .outerjoin(counts, counts.c.round_id == Round.id)
        .where(Round.year == year)
        .order_by(Round.seq)
    )
    return [RoundRow(rnd, n or 0, int(open_ or 0)) for rnd, n, open_ in db.session.execute(stmt)]


def missing_seqs(year: int) -> list[int]:
    taken = set(db.session.scalars(sa.select(Round.seq).where(Round.year == year)))
    return [seq for seq in range(1, ROUNDS_PER_YEAR + 1) if seq not in taken]


def round_inspections(round_id: int) -> list[Inspection]:
    """A round's inspections with unit, system, checklist, lead and team loaded."""
    stmt = (
        sa.select(Inspection)
        .where(Inspection.round_id == round_id)
        .options(
            joinedload(Inspection.unit),
            joinedload(Inspection.system),
            joinedload(Inspection.template),
            joinedload(Inspection.lead),
            selectinload(Inspection.members).joinedload(InspectionMember.user),
            selectinload(Inspection.members).joinedload(InspectionMember.department),
        )
        .order_by(Inspection.scheduled_on, Inspection.id)
    )
    return list(db.session.scalars(stmt).unique())


def draft_notices(round_id: int) -> list[Visit]:
    """The round's visits whose rectification notice awaits the office's approval."""
    return list(
        db.session.scalars(
            sa.select(Visit)
            .where(Visit.round_id == round_id, Visit.notice_status == "draft")
            .options(joinedload(Visit.unit))
            .order_by(Visit.scheduled_on, Visit.id)
        )
    )


def unfinished_count(round_id: int) -> int:
    """How many inspections of the round are not yet submitted or closed."""
    stmt = sa.select(sa.func.count(Inspection.id)).where(
        Inspection.round_id == round_id, Inspection.status.in_(EDITABLE_STATUSES)
    )
    return db.session.scalar(stmt) or 0


def all_departments() -> list[Department]:
    return list(db.session.scalars(sa.select(Department).order_by(Department.code)))


def eligible_inspectors() -> list[User]:
    """Users who may be on a team: active inspectors, by department."""
    stmt = (
        sa.select(User)
        .where(User.role == "inspector", User.is_active_flag.is_(True))
        .options(joinedload(User.department))
        .order_by(User.department_id, User.display_name, User.username)
    )
    return list(db.session.scalars(stmt))


def templates_for(target: str) -> list[ChecklistTemplate]:
    """Checklist versions that may be used for a unit or a system, newest version first per key."""
    stmt = (
        sa.select(ChecklistTemplate)
        .where(ChecklistTemplate.target == target)
        .order_by(ChecklistTemplate.key, ChecklistTemplate.loaded_at.desc())
    )
    return list(db.session.scalars(stmt))


def inspection_cap(unit: Unit, caps: dict[str, int] | None = None) -> int | None:
    """The unit's yearly inspection cap: its own, else the default for its kind (国办发〔2024〕54号)."""
    if unit.inspection_cap is not None:
        return unit.inspection_cap
    caps = caps if caps is not None else current_app.config.get("INSPECTION_CAPS", {})
    return kind_setting(caps, unit.kind)


def _year_counts_stmt(year: int) -> sa.Subquery:
    # The cap counts visits (入企次数), not checklist rows: one visit with four checklists is one.
    return (
        sa.select(Visit.unit_id.label("unit_id"), sa.func.count(Visit.id).label("n"))
        .join(Round, Round.id == Visit.round_id)
        .where(Round.year == year)
        .group_by(Visit.unit_id)
        .subquery()
    )


def year_counts(year: int, unit_ids: list[int] | set[int]) -> dict[int, int]:
    """Visits per unit in all rounds of a calendar year (what the yearly cap counts)."""
    if not unit_ids:
        return {}
    stmt = (
        sa.select(Visit.unit_id, sa.func.count(Visit.id))
        .join(Round, Round.id == Visit.round_id)
        .where(Round.year == year, Visit.unit_id.in_(unit_ids))
        .group_by(Visit.unit_id)
    )
    return {unit_id: n for unit_id, n in db.session.execute(stmt)}


def visit_nature(unit: Unit, rnd: Round) -> str:
    """The nature of a visit: 专项排查 when the round is one, else by the unit's kind
    (VISIT_NATURE_BY_KIND; 党政机关 are supervised, 督查), else 涉企行政检查."""
    if rnd.nature == "special_review":
        return "special_review"
    by_kind = current_app.config.get("VISIT_NATURE_BY_KIND", {})
    nature = kind_setting(by_kind, unit.kind, "enterprise_inspection")
    return nature if nature in ROUND_NATURES else "enterprise_inspection"


def _open_visit(rnd: Round, unit: Unit, scheduled_on: date | None, team: set[int]) -> Visit | None:
    """The planned visit of the unit in the round on that day with that team, if there is one."""
    candidates = db.session.scalars(
        sa.select(Visit)
        .where(
            Visit.round_id == rnd.id, Visit.unit_id == unit.id, Visit.scheduled_on == scheduled_on
        )
        .order_by(Visit.id)
    )
    for visit in candidates:
        if visit.notice_status is None and all(
            i.status == "planned" and {m.user_id for m in i.members} == team
            for i in visit.inspections
        ):
            return visit
    return None


def _visit_for(
    rnd: Round, unit: Unit, scheduled_on: date | None, team: set[int], lead_id: int | None
) -> Visit:
    visit = _open_visit(rnd, unit, scheduled_on, team)
    if visit is None:
        visit = Visit(
            round=rnd,
            unit=unit,
            scheduled_on=scheduled_on,
            lead_id=lead_id,
            nature=visit_nature(unit, rnd),
        )
        db.session.add(visit)
    return visit


def _regroup(inspection: Inspection, team: set[int], lead_id: int | None) -> None:
    """After a change of date or team, keep the inspection in a visit of that day and team."""
    old = inspection.visit
    others = [i for i in old.inspections if i is not inspection]
    if not others:  # the visit is this inspection alone: it moves with it
        old.scheduled_on, old.lead_id = inspection.scheduled_on, lead_id
        return
    if old.scheduled_on == inspection.scheduled_on and all(
        {m.user_id for m in i.members} == team for i in others
    ):
        old.lead_id = lead_id
        return
    inspection.visit = _visit_for(
        inspection.round, inspection.unit, inspection.scheduled_on, team, lead_id
    )


def _settle_visit(visit: Visit | None) -> None:
    """After its inspections changed: drop a visit left empty, else bring its team up to date."""
    if visit is not None and not visit.inspections:
        db.session.delete(visit)
    elif visit is not None:
        visit.sync_team()


def _in_round_counts(round_id: int) -> Counter:
    stmt = sa.select(Inspection.unit_id, Inspection.system_id).where(
        Inspection.round_id == round_id
    )
    return Counter((unit_id, system_id) for unit_id, system_id in db.session.execute(stmt))


def target_candidates(
    rnd: Round, filters: TargetFilter, *, limit: int = CANDIDATE_LIMIT
) -> tuple[list[Candidate], bool]:
    """Active units (or systems) matching the filters, with their yearly counts and caps.

    "Not inspected" means no inspection of that unit (or that system) in any round of the
    round's year. Returns (candidates, truncated).
    """
    counts = _year_counts_stmt(rnd.year)
    inspected = sa.select(Inspection.id).join(Round, Round.id == Inspection.round_id)
    inspected = inspected.where(Round.year == rnd.year)
    if filters.target == "system":
        stmt = (
            sa.select(System, Unit, counts.c.n)
            .join(Unit, Unit.id == System.unit_id)
            .where(System.active.is_(True))
            .order_by(Unit.code, System.code)
        )
        if filters.mlps_level:
            stmt = stmt.where(System.mlps_level == filters.mlps_level)
        if filters.cii is not None:
            stmt = stmt.where(System.is_cii.is_(filters.cii))
        if filters.not_inspected:
            stmt = stmt.where(~sa.exists(inspected.where(Inspection.system_id == System.id)))
        if filters.q:
            like = f"%{filters.q}%"
            stmt = stmt.where(
                sa.or_(System.name.ilike(like), System.code.ilike(like), Unit.name.ilike(like))
            )
    else:
        stmt = sa.select(sa.null(), Unit, counts.c.n).order_by(Unit.code)
        if filters.mlps_level:
            levels = sa.select(System.unit_id).where(
                System.mlps_level == filters.mlps_level, System.active.is_(True)
            )
            stmt = stmt.where(Unit.id.in_(levels))
        if filters.cii is not None:
            stmt = stmt.where(Unit.is_cii.is_(filters.cii))
        if filters.not_inspected:
            stmt = stmt.where(counts.c.n.is_(None))
        if filters.q:
            like = f"%{filters.q}%"
            stmt = stmt.where(sa.or_(Unit.name.ilike(like), Unit.code.ilike(like)))
    stmt = stmt.outerjoin(counts, counts.c.unit_id == Unit.id).where(Unit.active.is_(True))
    if filters.unit_kind:
        stmt = stmt.where(Unit.kind == filters.unit_kind)
    if filters.key_unit is not None:
        stmt = stmt.where(Unit.is_key_unit.is_(filters.key_unit))
    rows = db.session.execute(stmt.limit(limit + 1)).all()
    in_round = _in_round_counts(rnd.id)
    caps = current_app.config.get("INSPECTION_CAPS", {})
    found = []
    for system, unit, n in rows[:limit]:
        key = (unit.id, system.id if system else None)
        target = Target("system", system.id) if system else Target("unit", unit.id)
        found.append(
            Candidate(target, unit, system, n or 0, inspection_cap(unit, caps), in_round[key])
        )
    return found, len(rows) > limit


# --- rounds: commands -------------------------------------------------------------------------


def _round_snapshot(rnd: Round) -> dict[str, Any]:
    data = snapshot(
        rnd,
        ("year", "seq", "title", "theme", "nature", "start_date", "end_date", "status", "notes"),
    )
    data["departments"] = sorted(d.code for d in rnd.departments)
    return data


def _default_round(year: int, seq: int, departments: list[Department]) -> Round:
    title, theme, nature, start, end = DEFAULT_ROUNDS[seq]
    return Round(
        year=year,
        seq=seq,
        title=_("%(year)d, round %(seq)d: %(title)s", year=year, seq=seq, title=title),
        theme=theme,
        nature=nature,
        start_date=date(year, *start),
        end_date=date(year, *end),
        status="planned",
        departments=list(departments),
    )


def _require_editor(actor: User | None) -> None:
    """Raise NotAllowed unless the actor may plan rounds (the API and CLI rely on this too)."""
    permissions.require(actor, "rounds.edit")


def _check_year(year: int) -> None:
    if not YEARS[0] <= year <= YEARS[1]:
        raise ValidationFailed(
            _("The year must be between %(low)d and %(high)d.", low=YEARS[0], high=YEARS[1])
        )


def _create_rounds(year: int, seqs: list[int], *, actor: User, now: datetime | None) -> list[Round]:
    departments = all_departments()
    created = []
    for seq in seqs:
        rnd = _default_round(year, seq, departments)
        rnd.created_at = now or utcnow()
        db.session.add(rnd)
        created.append(rnd)
    try:
        db.session.flush()
    except IntegrityError:
        # Someone planned the same year a moment ago.
        db.session.rollback()
        raise ValidationFailed(
            _(
                "The rounds of %(year)d were just created by someone else. Reload the page.",
                year=year,
            )
        ) from None
    for rnd in created:
        audit.record(actor, "round.create", rnd, after=_round_snapshot(rnd))
    db.session.commit()
    return created


def plan_year(year: int, *, actor: User, now: datetime | None = None) -> list[Round]:
    """Create the six planned rounds of a year with default titles, themes, natures and dates.

    Raises NotAllowed unless the actor may edit rounds (as every command here does),
    ValidationFailed for a year out of range or one that already has rounds (then only the
    missing rounds may be added, with add_round). Commits.
    """
    _require_editor(actor)
    _check_year(year)
    taken = [seq for seq in range(1, ROUNDS_PER_YEAR + 1) if seq not in missing_seqs(year)]
    if taken:
        raise ValidationFailed(
            _(
                "%(year)d already has rounds %(seqs)s. Only the missing rounds can be added.",
                year=year,
                seqs=", ".join(str(s) for s in taken),
            )
        )
    return _create_rounds(year, list(range(1, ROUNDS_PER_YEAR + 1)), actor=actor, now=now)


def add_round(year: int, seq: int, *, actor: User, now: datetime | None = None) -> Round:
    """Add one missing round (sequence 1–6) of a year with its defaults.

    Raises ValidationFailed for a bad year or sequence, or when that round exists. Commits.
    """
    _require_editor(actor)
    _check_year(year)
    if not 1 <= seq <= ROUNDS_PER_YEAR:
        raise ValidationFailed(_("A year has rounds 1 to 6."))
    if seq not in missing_seqs(year):
        raise ValidationFailed(_("Round %(seq)d of %(year)d already exists.", seq=seq, year=year))
    return _create_rounds(year, [seq], actor=actor, now=now)[0]


def _load_round(round_id: int, *, lock: bool = False) -> Round:
    stmt = sa.select(Round).where(Round.id == round_id)
    if lock:
        stmt = stmt.with_for_update()
    rnd = db.session.scalar(stmt)
    if rnd is None:
        raise NotFound(_("The round does not exist."))
    return rnd


def ensure_round_open(rnd: Round) -> None:
    """Raise InvalidTransition when the round is closed: a closed round is a record, read-only."""
    if rnd.status == "closed":
        raise InvalidTransition(
            _(
                "Round %(seq)d of %(year)d is closed: it and its inspections can no longer be changed.",
                seq=rnd.seq,
                year=rnd.year,
            )
        )


def update_round(
    round_id: int,
    *,
    actor: User,
    title: str,
    theme: str,
    nature: str,
    start_date: date | None,
    end_date: date | None,
    department_ids: list[int],
    notes: str = "",
    now: datetime | None = None,
) -> Round:
    """Change a round's title, theme, nature, dates, departments and notes.

    Raises InvalidTransition for a closed round, ValidationFailed (with details per field) for bad
    input. Commits.
    """
    _require_editor(actor)
    rnd = _load_round(round_id, lock=True)
    ensure_round_open(rnd)
    title = (title or "").strip()
    errors: dict[str, str] = {}
    if not title:
        errors["title"] = _("Enter a title.")
    elif len(title) > 200:
        errors["title"] = _("The title may have at most 200 characters.")
    if theme not in THEMES:
        errors["theme"] = _("Choose a theme.")
    if nature not in ROUND_NATURES:
        errors["nature"] = _("Choose the nature of the inspection.")
    for name, day in (("start_date", start_date), ("end_date", end_date)):
        if day and day.year != rnd.year:  # a round of the year's plan lies in that year
            errors[name] = _("A round of %(year)d takes place in %(year)d.", year=rnd.year)
    if start_date and end_date and end_date < start_date:
        errors["end_date"] = _("The end date cannot be before the start date.")
    wanted = set(department_ids or [])
    departments = list(
        db.session.scalars(sa.select(Department).where(Department.id.in_(list(wanted))))
    )
    if len(departments) != len(wanted):
        errors["departments"] = _("Choose departments from the list.")
    elif not departments and db.session.scalar(sa.select(Department.id).limit(1)) is not None:
        # (with none in the directory yet, a round planned then stays editable)
        errors["departments"] = _("Choose the departments taking part in the round.")
    if errors:
        raise ValidationFailed(" ".join(errors.values()), details=errors)
    before = _round_snapshot(rnd)
    rnd.title, rnd.theme, rnd.nature = title, theme, nature
    rnd.start_date, rnd.end_date = start_date, end_date
    rnd.notes = (notes or "").strip()
    rnd.departments = sorted(departments, key=lambda d: d.code)
    audit.record(actor, "round.update", rnd, before=before, after=_round_snapshot(rnd))
    db.session.commit()
    return rnd


def change_round_status(
    round_id: int,
    to: str,
    *,
    actor: User,
    confirmed: bool = False,
    now: datetime | None = None,
) -> Round:
    """Move a round along ROUND_TRANSITIONS (planned → active → closed).

    Raises InvalidTransition for any other move, ValidationFailed when a round without dates is
    started, and ConfirmationRequired (details: {"unfinished": n}) when closing a round with
    inspections not yet submitted unless confirmed. Commits.
    """
    _require_editor(actor)
    with unit_of_work():  # a refusal releases the row lock while the user decides
        rnd = _load_round(round_id, lock=True)
        if to not in ROUND_TRANSITIONS.get(rnd.status, ()):
            raise InvalidTransition(
                _(
                    "A round that is %(status)s cannot become %(to)s.",
                    status=label(ROUND_STATUS_LABELS, rnd.status),
                    to=label(ROUND_STATUS_LABELS, to),
                )
            )
        if to == "active" and not (rnd.start_date and rnd.end_date):
            raise ValidationFailed(_("Set the round's start and end dates before starting it."))
        after: dict[str, Any] = {"status": to}
        if to == "closed":
            open_ = unfinished_count(rnd.id)
            if open_ and not confirmed:
                raise ConfirmationRequired(
                    ngettext(
                        "%(num)d inspection of this round is not yet submitted.",
                        "%(num)d inspections of this round are not yet submitted.",
                        open_,
                    ),
                    details={"unfinished": open_},
                )
            after.update(unfinished=open_, confirmed=bool(open_))
        before = {"status": rnd.status}
        rnd.status = to
        action = "round.start" if to == "active" else "round.close"
        audit.record(actor, action, rnd, before=before, after=after)
    return rnd


# --- targets and teams ------------------------------------------------------------------------


def regulator_warnings(units, departments) -> list[str]:
    """For each unit in an important sector whose registered regulator is not among the team's
    `departments`, a warning: 责任制办法第4条 has the sector's competent regulator join such an
    inspection. A warning, not a refusal: the plan is the office's to make."""
    warnings = []
    for unit in {u.id: u for u in units}.values():
        absent = missing_regulators(unit, departments)
        if absent:
            warnings.append(
                _(
                    "%(unit)s is in the %(sector)s sector, but its regulator %(names)s is not on "
                    "the team: an inspection of a unit in an important sector is made together "
                    "with its competent regulator.",
                    unit=unit.name,
                    sector=unit.sector,
                    names="、".join(d.name for d in absent),
                )
            )
    return warnings


def _check_team(team: list[TeamMember], lead_id: int | None) -> list[tuple[User, str]]:
    """The team's users with their certificate numbers, or ValidationFailed naming the problem."""
    chosen: dict[int, TeamMember] = {}
    for member in team:
        chosen.setdefault(member.user_id, member)
    if len(chosen) < MIN_TEAM:
        raise ValidationFailed(
            _(
                "A team needs at least two inspectors: the Administrative Penalty Law requires "
                "two enforcement officers on site."
            ),
            details={"team": "size"},
        )
    users = {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(list(chosen))))}
    refused = [
        users[uid].name if uid in users else f"#{uid}"
        for uid in chosen
        if uid not in users or users[uid].role != "inspector" or not users[uid].is_active
    ]
    if refused:
        raise ValidationFailed(
            _("Only active inspectors can be on a team: %(names)s.", names=", ".join(refused)),
            details={"team": "role"},
        )
    if lead_id is None:
        raise ValidationFailed(_("Choose the team lead."), details={"lead": "missing"})
    if lead_id not in chosen:
        raise ValidationFailed(
            _("The team lead must be a member of the team."), details={"lead": "not_member"}
        )
    result, missing, too_long = [], [], []
    for uid, member in chosen.items():
        user = users[uid]
        cert = member.certificate_no
        cert = (user.certificate_no if cert is None else cert).strip()
        if not cert:
            missing.append(user.name)
        elif len(cert) > 60:
            too_long.append(user.name)
        result.append((user, cert))
    if missing:
        raise ValidationFailed(
            _(
                "Enter the enforcement certificate number of %(names)s.",
                names=", ".join(missing),
            ),
            details={"certificates": missing},
        )
    if too_long:
        raise ValidationFailed(
            _(
                "The certificate number of %(names)s is too long (at most 60 characters).",
                names=", ".join(too_long),
            ),
            details={"certificates": too_long},
        )
    return result


def _check_date(rnd: Round, scheduled_on: date | None) -> list[str]:
    if scheduled_on is None:
        raise ValidationFailed(
            _("Choose the inspection date."), details={"scheduled_on": "missing"}
        )
    if rnd.start_date and rnd.end_date and not rnd.start_date <= scheduled_on <= rnd.end_date:
        return [
            _(
                "The date %(date)s is outside the round's dates (%(start)s to %(end)s).",
                date=scheduled_on.isoformat(),
                start=rnd.start_date.isoformat(),
                end=rnd.end_date.isoformat(),
            )
        ]
    if scheduled_on.year != rnd.year:
        return [
            _(
                "The date %(date)s is not in the round's year %(year)d.",
                date=scheduled_on.isoformat(),
                year=rnd.year,
            )
        ]
    return []


def _team_snapshot(inspection: Inspection) -> list[dict[str, Any]]:
    return [
        {"user_id": m.user_id, "department_id": m.department_id, "certificate_no": m.certificate_no}
        for m in sorted(inspection.members, key=lambda m: m.user_id)
    ]


def _plan_snapshot(inspection: Inspection) -> dict[str, Any]:
    return {
        "round_id": inspection.round_id,
        "unit_id": inspection.unit_id,
        "system_id": inspection.system_id,
        "template_id": inspection.template_id,
        "status": inspection.status,
        "scheduled_on": inspection.scheduled_on,
        "lead_id": inspection.lead_id,
        "team": _team_snapshot(inspection),
        "visit_id": inspection.visit_id,
        "nature": inspection.visit.nature if inspection.visit is not None else None,
    }


def _record_inspection(actor: User, action: str, inspection: Inspection, **kw) -> None:
    # Without unit_id: a unit liaison must not learn of an inspection before it is submitted.
    audit.record(actor, action, object_type="Inspection", object_id=inspection.id, **kw)


def _resolve_targets(
    rnd: Round, targets: list[Target], template: ChecklistTemplate
) -> list[tuple[Unit, System | None]]:
    """Load every target or raise ValidationFailed listing every bad one (nothing is created)."""
    unique = list(dict.fromkeys(targets))
    unit_ids = [t.id for t in unique if t.kind == "unit"]
    system_ids = [t.id for t in unique if t.kind == "system"]
    units = {u.id: u for u in db.session.scalars(sa.select(Unit).where(Unit.id.in_(unit_ids)))}
    systems = {
        s.id: s
        for s in db.session.scalars(
            sa.select(System).where(System.id.in_(system_ids)).options(joinedload(System.unit))
        )
    }
    existing_stmt = (
        sa.select(Inspection.unit_id, Inspection.system_id)
        .join(ChecklistTemplate, ChecklistTemplate.id == Inspection.template_id)
        .where(Inspection.round_id == rnd.id, ChecklistTemplate.key == template.key)
    )
    existing = {(unit_id, system_id) for unit_id, system_id in db.session.execute(existing_stmt)}
    problems: list[str] = []
    resolved: list[tuple[Unit, System | None]] = []
    for target in unique:
        if target.kind == "unit":
            unit, system = units.get(target.id), None
            name = unit.name if unit else str(target)
        else:
            system = systems.get(target.id)
            unit = system.unit if system else None
            name = f"{unit.name} · {system.name}" if system and unit else str(target)
        if unit is None:
            problems.append(_("%(name)s does not exist", name=name))
        elif target.kind != template.target:
            problems.append(
                _(
                    "the checklist %(title)s cannot be used for %(name)s",
                    title=template.title,
                    name=name,
                )
            )
        elif not unit.active or (system is not None and not system.active):
            problems.append(_("%(name)s is inactive", name=name))
        elif (unit.id, system.id if system else None) in existing:
            problems.append(_("%(name)s already has this checklist in this round", name=name))
        else:
            resolved.append((unit, system))
    if problems:
        raise ValidationFailed(
            _(
                "No inspection was created. Fix these targets: %(problems)s.",
                problems="; ".join(problems),
            ),
            details={"targets": problems},
        )
    return resolved


def _check_caps(
    rnd: Round,
    resolved: list[tuple[Unit, System | None]],
    scheduled_on: date | None,
    team: set[int],
) -> list[CapExcess]:
    year = rnd.year
    # One new visit per unit, unless the unit already has that visit planned (same day, team).
    new = Counter(
        unit.id
        for unit in {unit.id: unit for unit, _system in resolved}.values()
        if _open_visit(rnd, unit, scheduled_on, team) is None
    )
    if not new:
        return []
    # Lock the units (PostgreSQL) so two coordinators cannot both pass a unit's cap at once.
    locked = db.session.scalars(
        sa.select(Unit).where(Unit.id.in_(list(new))).order_by(Unit.id).with_for_update()
    ).all()
    existing = year_counts(year, list(new))
    caps = current_app.config.get("INSPECTION_CAPS", {})
    over = []
    for unit in locked:
        cap = inspection_cap(unit, caps)
        have = existing.get(unit.id, 0)
        if cap is not None and have + new[unit.id] > cap:
            over.append(CapExcess(unit.id, unit.name, have, new[unit.id], cap))
    return over


def assign_targets(
    round_id: int,
    targets: list[Target],
    *,
    actor: User,
    template_id: int | None,
    scheduled_on: date | None,
    team: list[TeamMember],
    lead_id: int | None,
    confirmed_over_cap: bool = False,
    now: datetime | None = None,
) -> Assignment:
    """Create one planned inspection per target with the same checklist version, date and team.

    All or nothing: raises InvalidTransition for a closed round; ValidationFailed for no targets,
    an unknown or mismatched checklist, a bad date, a team of fewer than two active inspectors,
    a lead not on the team, a missing certificate number, or any bad target (listing them all);
    ConfirmationRequired (details: {"over_cap": [CapExcess]}) when a unit would pass its yearly
    inspection cap and confirmed_over_cap is false. Returns the inspections and warnings (date
    outside the round). Commits once.
    """
    _require_editor(actor)
    with unit_of_work():
        rnd = _load_round(round_id, lock=True)
        ensure_round_open(rnd)
        if not targets:
            raise ValidationFailed(
                _("Select at least one unit or system."), details={"targets": "none"}
            )
        template = db.session.get(ChecklistTemplate, template_id) if template_id else None
        if template is None:
            raise ValidationFailed(
                _("Choose a checklist version."), details={"template_id": "missing"}
            )
        warnings = _check_date(rnd, scheduled_on)
        members = _check_team(team, lead_id)
        resolved = _resolve_targets(rnd, targets, template)
        team_ids = {user.id for user, _cert in members}
        over = _check_caps(rnd, resolved, scheduled_on, team_ids)
        if over and not confirmed_over_cap:
            raise ConfirmationRequired(
                ngettext(
                    "%(num)d unit would pass its yearly inspection cap. Confirm to plan the "
                    "inspections anyway.",
                    "%(num)d units would pass their yearly inspection cap. Confirm to plan the "
                    "inspections anyway.",
                    len(over),
                ),
                details={"over_cap": over},
            )
        created = []
        for unit, system in resolved:
            visit = _visit_for(rnd, unit, scheduled_on, team_ids, lead_id)
            inspection = Inspection(
                round=rnd,
                visit=visit,
                unit=unit,
                system=system,
                template=template,
                status="planned",
                scheduled_on=scheduled_on,
                lead_id=lead_id,
                members=[
                    InspectionMember(
                        user_id=user.id, department_id=user.department_id, certificate_no=cert
                    )
                    for user, cert in members
                ],
            )
            if now is not None:
                inspection.created_at = inspection.updated_at = now
            db.session.add(inspection)
            created.append(inspection)
        for visit in {id(i.visit): i.visit for i in created}.values():
            visit.sync_team()  # the visit's stored team (the record's and the notice's)
        db.session.flush()
        over_ids = {o.unit_id: o for o in over}
        for inspection in created:
            after = _plan_snapshot(inspection)
            if inspection.unit_id in over_ids:
                excess = over_ids[inspection.unit_id]
                after["over_cap_confirmed"] = {"cap": excess.cap, "total": excess.total}
            _record_inspection(actor, "inspection.assign", inspection, after=after)
        departments = [user.department for user, _cert in members]
        warnings += regulator_warnings([unit for unit, _system in resolved], departments)
    return Assignment(created, warnings)


def ensure_not_started(inspection: Inspection) -> None:
    """Raise InvalidTransition unless the inspection is planned and its round open."""
    ensure_round_open(inspection.round)
    if inspection.status != "planned":
        raise InvalidTransition(
            _(
                "This inspection is %(status)s: only an inspection that has not started can be "
                "changed or removed.",
                status=label(INSPECTION_STATUS_LABELS, inspection.status),
            )
        )


def _load_planned(inspection_id: int) -> Inspection:
    inspection = db.session.scalar(
        sa.select(Inspection).where(Inspection.id == inspection_id).with_for_update()
    )
    if inspection is None:
        raise NotFound(_("The inspection does not exist."))
    ensure_not_started(inspection)
    return inspection


def update_planned_inspection(
    inspection_id: int,
    *,
    actor: User,
    scheduled_on: date | None,
    team: list[TeamMember],
    lead_id: int | None,
    now: datetime | None = None,
) -> tuple[Inspection, list[str]]:
    """Change the date, team and lead of an inspection that has not started.

    Raises InvalidTransition when the inspection has started or its round is closed, and
    ValidationFailed as assign_targets does for the date and team. Returns the inspection and
    warnings. Commits.
    """
    _require_editor(actor)
    with unit_of_work():
        inspection = _load_planned(inspection_id)
        warnings = _check_date(inspection.round, scheduled_on)
        members = _check_team(team, lead_id)
        before = _plan_snapshot(inspection)
        wanted = {user.id: (user, cert) for user, cert in members}
        for member in list(inspection.members):
            if member.user_id not in wanted:
                inspection.members.remove(member)
        kept = {m.user_id: m for m in inspection.members}
        for uid, (user, cert) in wanted.items():
            member = kept.get(uid)
            if member is None:
                inspection.members.append(
                    InspectionMember(
                        user_id=uid, department_id=user.department_id, certificate_no=cert
                    )
                )
            else:
                member.certificate_no, member.department_id = cert, user.department_id
        inspection.scheduled_on = scheduled_on
        inspection.lead_id = lead_id
        inspection.updated_at = now or utcnow()
        old_visit = inspection.visit
        _regroup(inspection, set(wanted), lead_id)
        db.session.flush()
        for visit in {old_visit, inspection.visit}:
            _settle_visit(visit)
        db.session.flush()
        _record_inspection(
            actor,
            "inspection.plan_update",
            inspection,
            before=before,
            after=_plan_snapshot(inspection),
        )
        warnings += regulator_warnings([inspection.unit], [u.department for u, _c in members])
    return inspection, warnings


def remove_planned_inspection(
    inspection_id: int, *, actor: User, now: datetime | None = None
) -> None:
    """Delete an inspection that has not started (no answers, no files).

    Raises InvalidTransition when it has started, holds answers or files, or its round is closed.
    Commits.
    """
    _require_editor(actor)
    with unit_of_work():
        inspection = _load_planned(inspection_id)
        used = (
            db.session.scalar(
                sa.select(sa.func.count(Answer.id)).where(Answer.inspection_id == inspection.id)
            )
            or db.session.scalar(
                sa.select(sa.func.count(Attachment.id)).where(
                    Attachment.inspection_id == inspection.id
                )
            )
            or db.session.scalar(  # the unit's self-assessment of an announced visit
                sa.select(sa.func.count(SelfAnswer.id)).where(
                    SelfAnswer.inspection_id == inspection.id
                )
            )
        )
        if used:
            raise InvalidTransition(
                _("This inspection already holds answers or files and cannot be removed.")
            )
        _record_inspection(
            actor, "inspection.remove", inspection, before=_plan_snapshot(inspection)
        )
        visit = inspection.visit
        db.session.delete(inspection)
        db.session.flush()
        db.session.expire(visit, ["inspections"])
        _settle_visit(visit)
