"""Checklist rules that touch the database: validating against loaded versions, loading, deleting,
the version overview, previews for a unit or system, and diffs between versions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from ..audit import services as audit
from ..errors import Conflict, NotFound
from ..extensions import db
from ..models import ChecklistItem, ChecklistTemplate, Inspection, System, Unit, User
from . import basis, conditions, loader, schema
from .errors import ChecklistError, Problem

# --- validating and loading ---------------------------------------------------------------------


@dataclass
class LoadResult:
    source: str
    key: str
    version: str
    status: str  # "added" or "unchanged"
    items: int
    template_id: int | None = None


def parse_paths(
    paths: list[str] | tuple[str, ...],
) -> tuple[list[loader.ParsedFile], list[Problem]]:
    """Read and validate every file under paths (files or folders); no database access."""
    found, problems = loader.discover(paths)
    return [loader.parse_path(path, name) for path, name in found], problems


def _database_ready() -> bool:
    """Whether loaded versions can be compared (validate also works without a database)."""
    try:
        # The session's own connection: a second one would wait for this transaction's lock.
        return sa.inspect(db.session.connection()).has_table(ChecklistTemplate.__tablename__)
    except SQLAlchemyError:
        return False


def check_against_database(parsed: list[loader.ParsedFile]) -> list[Problem]:
    """Problems only visible next to other files and loaded versions.

    The same key and version twice in one batch, or a version already loaded whose content has
    changed while its version stayed the same (a new version is needed). Reads only.
    """
    problems: list[Problem] = []
    seen: dict[tuple[str, str], loader.ParsedFile] = {}
    check_db = _database_ready()
    for pf in parsed:
        t = pf.template
        if t is None:
            continue
        ident = (t.key, t.version)
        if ident in seen:
            problems.append(
                pf.problem_at(
                    ("version",),
                    _l(
                        "%(key)s version %(version)s is also defined in %(other)s",
                        key=t.key,
                        version=t.version,
                        other=seen[ident].source,
                    ),
                    _l("one file per version"),
                )
            )
            continue
        seen[ident] = pf
        if not check_db:
            continue
        existing = _find(t.key, t.version)
        if existing is not None and not _same_content(existing, pf):
            problems.append(
                pf.problem_at(
                    ("version",),
                    _l(
                        "%(key)s version %(version)s is already loaded with different content",
                        key=t.key,
                        version=t.version,
                    ),
                    _l(
                        "a new version for changed content, e.g. %(suggestion)s",
                        suggestion=_next_version(t.version),
                    ),
                )
            )
    problems.extend(check_links(parsed, with_database=check_db))
    return problems


def check_links(parsed: list[loader.ParsedFile], *, with_database: bool) -> list[Problem]:
    """S4 of the legal review: `same_as` links an item to the item of another checklist that
    checks the same duty. The target must exist in exactly one other checklist (among the files
    given and the newest loaded version of every other key) and be canonical itself (no
    `same_as` of its own): one direction, so no chains and no cycles."""
    # code -> [(checklist key, same_as)] of every item a link may point at.
    known: dict[str, list[tuple[str, str]]] = {}
    keys = {pf.template.key for pf in parsed if pf.template is not None}
    for pf in parsed:
        if pf.template is None:
            continue
        for _si, _section, item in pf.template.items():
            known.setdefault(item.code, []).append((pf.template.key, item.same_as or ""))
    if with_database:
        newest = (
            sa.select(ChecklistTemplate.key, sa.func.max(ChecklistTemplate.id).label("id"))
            .group_by(ChecklistTemplate.key)
            .subquery()
        )
        rows = db.session.execute(
            sa.select(ChecklistTemplate.key, ChecklistItem.code, ChecklistItem.same_as)
            .join(ChecklistItem, ChecklistItem.template_id == ChecklistTemplate.id)
            .join(newest, newest.c.id == ChecklistTemplate.id)
            .where(ChecklistTemplate.key.not_in(keys) if keys else sa.true())
        )
        for key, code, same_as in rows:
            known.setdefault(code, []).append((key, same_as or ""))
    problems: list[Problem] = []
    for pf in parsed:
        t = pf.template
        if t is None:
            continue
        for si, section in enumerate(t.sections):
            for ii, item in enumerate(section.items):
                if not item.same_as:
                    continue
                at = ("sections", si, "items", ii, "same_as")
                owners = [k for k, _s in known.get(item.same_as, [])]
                if not owners:
                    message = _l(
                        "same_as refers to %(code)s, which no checklist has", code=item.same_as
                    )
                elif t.key in owners:
                    message = _l(
                        "same_as refers to %(code)s in the same checklist", code=item.same_as
                    )
                elif len(owners) > 1:
                    message = _l(
                        "same_as refers to %(code)s, which several checklists have (%(keys)s)",
                        code=item.same_as,
                        keys=", ".join(sorted(owners)),
                    )
                elif known[item.same_as][0][1]:
                    message = _l(
                        "same_as refers to %(code)s, which itself is the same as %(other)s",
                        code=item.same_as,
                        other=known[item.same_as][0][1],
                    )
                else:
                    continue
                problems.append(
                    pf.problem_at(
                        at,
                        message,
                        _l("the code of an item in another checklist that has no same_as itself"),
                    )
                )
    return problems


def _find(key: str, version: str) -> ChecklistTemplate | None:
    return db.session.scalar(
        sa.select(ChecklistTemplate).where(
            ChecklistTemplate.key == key, ChecklistTemplate.version == version
        )
    )


def _same_content(existing: ChecklistTemplate, pf: loader.ParsedFile) -> bool:
    # Same bytes, or the same template written differently (comments, layout, YAML vs Excel).
    if existing.sha256 == pf.sha256:
        return True
    return schema.canonical_json(existing.definition or {}) == schema.canonical_json(
        pf.template.definition()
    )


def _next_version(version: str) -> str:
    head, _sep, tail = version.rpartition(".")
    if tail.isdigit():
        return f"{head}.{int(tail) + 1}" if head else str(int(tail) + 1)
    return f"{version}.1"


def validate_paths(paths) -> tuple[list[loader.ParsedFile], list[Problem]]:
    """Every problem with the files under paths, including clashes with loaded versions."""
    parsed, problems = parse_paths(paths)
    for pf in parsed:
        problems.extend(pf.problems)
    problems.extend(check_against_database(parsed))
    return parsed, problems


def load_parsed(parsed: list[loader.ParsedFile], *, actor: User | None = None) -> list[LoadResult]:
    """Add every new template version in one transaction; unchanged versions are left alone.

    Raises ChecklistError (nothing saved) when any file has a problem. Writes one audit event per
    added version. Commits.
    """
    problems = [p for pf in parsed for p in pf.problems]
    problems.extend(check_against_database(parsed))
    if problems:
        raise ChecklistError(problems)
    results: list[LoadResult] = []
    try:
        for pf in parsed:
            t = pf.template
            assert t is not None
            n_items = sum(len(s.items) for s in t.sections)
            existing = _find(t.key, t.version)
            if existing is not None:
                results.append(
                    LoadResult(pf.source, t.key, t.version, "unchanged", n_items, existing.id)
                )
                continue
            template = _build(t, sha256=pf.sha256, source=pf.source)
            db.session.add(template)
            db.session.flush()
            audit.record(
                actor,
                "checklist.load",
                template,
                after={
                    "key": t.key,
                    "version": t.version,
                    "sha256": pf.sha256,
                    "items": n_items,
                    "source": pf.source,
                },
            )
            results.append(LoadResult(pf.source, t.key, t.version, "added", n_items, template.id))
        db.session.commit()
    except IntegrityError as err:
        db.session.rollback()
        raise Conflict(
            _l("Another load added the same version at the same time; try again.")
        ) from err
    except Exception:
        db.session.rollback()
        raise
    return results


def load_paths(paths, *, actor: User | None = None) -> list[LoadResult]:
    """Load the files under paths (see load_parsed). Raises ChecklistError; commits."""
    parsed, problems = parse_paths(paths)
    if problems:
        file_problems = [p for pf in parsed for p in pf.problems]
        raise ChecklistError(problems + file_problems + check_against_database(parsed))
    return load_parsed(parsed, actor=actor)


def _build(t: schema.TemplateModel, *, sha256: str, source: str) -> ChecklistTemplate:
    template = ChecklistTemplate(
        key=t.key,
        version=t.version,
        title=t.title,
        title_en=t.title_en,
        target=t.target,
        description=t.description,
        sha256=sha256,
        source_path=source[-300:],
        definition=t.definition(),
    )
    for position, (si, section, item) in enumerate(t.items()):
        dumped = item.model_dump(mode="json")
        template.items.append(
            ChecklistItem(
                position=position,
                section_index=si,
                section_title=section.title,
                section_title_en=section.title_en,
                code=item.code,
                text=item.text,
                text_en=item.text_en,
                kind=item.kind,
                options=dumped["options"],
                guidance=item.guidance,
                legal_basis=[basis.without_none(b) for b in dumped["legal_basis"]],
                severity=item.severity,
                major_hazard=item.major_hazard,
                deadline_days=item.deadline_days,
                evidence=item.evidence,
                lead_department=item.lead_department,
                weight=item.weight,
                veto=item.veto,
                advisory=item.advisory,
                required_action=item.required_action,
                same_as=item.same_as or "",
                applies_if=item.applies_if,
                show_if=item.show_if,
            )
        )
    return template


# --- versions -----------------------------------------------------------------------------------


def get_template(template_id: int) -> ChecklistTemplate:
    """One loaded version. Raises NotFound."""
    template = db.session.get(ChecklistTemplate, template_id)
    if template is None:
        raise NotFound(_l("No such checklist version."))
    return template


def find_version(key: str, version: str | None = None) -> ChecklistTemplate | None:
    """A version of the template with this key; the latest loaded when version is None."""
    stmt = sa.select(ChecklistTemplate).where(ChecklistTemplate.key == key)
    if version is not None:
        stmt = stmt.where(ChecklistTemplate.version == version)
    return db.session.scalar(
        stmt.order_by(ChecklistTemplate.loaded_at.desc(), ChecklistTemplate.id.desc()).limit(1)
    )


def inspections_using(template_id: int) -> int:
    return (
        db.session.scalar(
            sa.select(sa.func.count(Inspection.id)).where(Inspection.template_id == template_id)
        )
        or 0
    )


@dataclass
class VersionRow:
    template: ChecklistTemplate
    item_count: int
    inspection_count: int


@dataclass
class TemplateGroup:
    key: str
    versions: list[VersionRow] = field(default_factory=list)  # newest first

    @property
    def latest(self) -> VersionRow:
        return self.versions[0]


def overview() -> list[TemplateGroup]:
    """Every template key with its versions (newest first), item and inspection counts."""
    items = (
        sa.select(ChecklistItem.template_id, sa.func.count(ChecklistItem.id).label("n"))
        .group_by(ChecklistItem.template_id)
        .subquery()
    )
    uses = (
        sa.select(Inspection.template_id, sa.func.count(Inspection.id).label("n"))
        .group_by(Inspection.template_id)
        .subquery()
    )
    rows = db.session.execute(
        sa.select(ChecklistTemplate, sa.func.coalesce(items.c.n, 0), sa.func.coalesce(uses.c.n, 0))
        .outerjoin(items, items.c.template_id == ChecklistTemplate.id)
        .outerjoin(uses, uses.c.template_id == ChecklistTemplate.id)
        .order_by(
            ChecklistTemplate.key, ChecklistTemplate.loaded_at.desc(), ChecklistTemplate.id.desc()
        )
    ).all()
    groups: dict[str, TemplateGroup] = {}
    for template, n_items, n_uses in rows:
        groups.setdefault(template.key, TemplateGroup(template.key)).versions.append(
            VersionRow(template, n_items, n_uses)
        )
    return list(groups.values())


def delete_version(template_id: int, *, actor: User) -> None:
    """Remove a loaded version that no inspection uses (a mistaken load).

    Raises NotFound, or Conflict when an inspection uses the version. Commits.
    """
    template = get_template(template_id)
    if inspections_using(template.id):
        raise Conflict(
            _l("This version is used by an inspection and cannot be changed or deleted.")
        )
    before = {"key": template.key, "version": template.version, "sha256": template.sha256}
    audit.record(actor, "checklist.delete", template, before=before)
    db.session.delete(template)
    db.session.commit()


# --- preview ------------------------------------------------------------------------------------


@dataclass
class PreviewItem:
    item: ChecklistItem
    applies: bool | None  # None when no unit or system was chosen
    applies_text: str
    show_text: str
    legal_basis: list[dict[str, Any]] = field(default_factory=list)  # as it reads for the level


@dataclass
class PreviewSection:
    title: str
    title_en: str
    items: list[PreviewItem] = field(default_factory=list)

    @property
    def shown(self) -> int:
        return sum(1 for p in self.items if p.applies is not False)


def preview(
    template: ChecklistTemplate,
    *,
    unit: Unit | None = None,
    system: System | None = None,
    level: int | None = None,
    value_label=None,
) -> list[PreviewSection]:
    """The template's sections as a tablet shows them for a unit (or system) chosen, or for any
    system of an MLPS level.

    Items whose applies_if fails are marked not applicable (for a level alone: whose MLPS-level
    test fails); show_if items are marked conditional. GB/T 22239 clauses are those of the
    system's (or the chosen) level.
    """
    chosen = unit is not None or system is not None
    if system is not None:
        level = system.mlps_level
    sections: dict[int, PreviewSection] = {}
    for item in template.items:
        section = sections.setdefault(
            item.section_index, PreviewSection(item.section_title, item.section_title_en)
        )
        if chosen:
            applies = conditions.applies(item.applies_if, unit=unit, system=system)
        elif level is not None:
            applies = level in basis.levels_allowed(item.applies_if, (1, 2, 3, 4, 5))
        else:
            applies = None
        section.items.append(
            PreviewItem(
                item,
                applies,
                conditions.describe(item.applies_if, value_label),
                conditions.describe(item.show_if, value_label),
                basis.resolve(item.legal_basis, level),
            )
        )
    return [sections[k] for k in sorted(sections)]


def candidates(target: str) -> list[Unit] | list[System]:
    """Units (or systems) to preview a template for, by name."""
    if target == "system":
        return db.session.scalars(
            sa.select(System).where(System.active.is_(True)).order_by(System.code)
        ).all()
    return db.session.scalars(
        sa.select(Unit).where(Unit.active.is_(True)).order_by(Unit.code)
    ).all()


# --- diff ---------------------------------------------------------------------------------------

TEMPLATE_FIELDS = ("title", "title_en", "target", "description")
ITEM_FIELDS = (
    "section",
    "text",
    "text_en",
    "kind",
    "options",
    "guidance",
    "legal_basis",
    "severity",
    "major_hazard",
    "deadline_days",
    "evidence",
    "lead_department",
    "weight",
    "veto",
    "advisory",
    "required_action",
    "same_as",
    "applies_if",
    "show_if",
)


@dataclass
class FieldChange:
    field: str
    old: Any
    new: Any


@dataclass
class ItemChange:
    code: str
    item: dict[str, Any]
    changes: list[FieldChange]


@dataclass
class Diff:
    template_changes: list[FieldChange]
    added: list[dict[str, Any]]
    removed: list[dict[str, Any]]
    changed: list[ItemChange]

    @property
    def empty(self) -> bool:
        return not (self.template_changes or self.added or self.removed or self.changed)


def _flat_items(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for section in definition.get("sections", []):
        for item in section.get("items", []):
            out[item["code"]] = {**item, "section": section.get("title", "")}
    return out


def diff(old: dict[str, Any], new: dict[str, Any]) -> Diff:
    """Items added, removed and changed field by field between two definitions (old -> new)."""
    old, new = old or {}, new or {}
    template_changes = [
        FieldChange(f, old.get(f), new.get(f)) for f in TEMPLATE_FIELDS if old.get(f) != new.get(f)
    ]
    items_old, items_new = _flat_items(old), _flat_items(new)
    changed = []
    for code, item in items_new.items():
        if code in items_old:
            before = items_old[code]
            changes = [
                FieldChange(f, before.get(f), item.get(f))
                for f in ITEM_FIELDS
                if before.get(f) != item.get(f)
            ]
            if changes:
                changed.append(ItemChange(code, item, changes))
    return Diff(
        template_changes,
        added=[item for code, item in items_new.items() if code not in items_old],
        removed=[item for code, item in items_old.items() if code not in items_new],
        changed=changed,
    )


def versions_of(key: str) -> list[ChecklistTemplate]:
    return db.session.scalars(
        sa.select(ChecklistTemplate)
        .where(ChecklistTemplate.key == key)
        .order_by(ChecklistTemplate.loaded_at.desc(), ChecklistTemplate.id.desc())
    ).all()


def previous_version(template: ChecklistTemplate) -> ChecklistTemplate | None:
    """The version of the same key loaded just before this one."""
    return db.session.scalar(
        sa.select(ChecklistTemplate)
        .where(
            ChecklistTemplate.key == template.key,
            sa.or_(
                ChecklistTemplate.loaded_at < template.loaded_at,
                sa.and_(
                    ChecklistTemplate.loaded_at == template.loaded_at,
                    ChecklistTemplate.id < template.id,
                ),
            ),
        )
        .order_by(ChecklistTemplate.loaded_at.desc(), ChecklistTemplate.id.desc())
        .limit(1)
    )


# --- uploads from the coordinator pages ---------------------------------------------------------


def upload_name(filename: str | None) -> str:
    """The name an uploaded file is reported under: its base name, never a client path."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    return name[:200] or "upload"


def check_upload(raw: bytes, filename: str) -> loader.ParsedFile:
    """Validate an uploaded .xlsx or .yaml file, including clashes with loaded versions. Reads only."""
    pf = loader.parse_bytes(raw, upload_name(filename))
    pf.problems.extend(check_against_database([pf]))
    return pf


def load_upload(raw: bytes, filename: str, *, actor: User) -> LoadResult:
    """Validate and load an uploaded file as a new version. Raises ChecklistError; commits."""
    return load_parsed([loader.parse_bytes(raw, upload_name(filename))], actor=actor)[0]
