"""Excel workbooks (one module per workbook) on the shared toolkit inspect_app/xlsx.py.

Every builder has the shape the job queue runs:

    build(params: dict, progress: Callable[[int, int], None]) -> (path, download name, mime)

It checks params with its validator, writes from one snapshot of the database in the asked
language into a new file of EXPORT_DIR, calls progress(rows written, total rows) every ~2,000
rows, and returns the file's path; the caller delivers and deletes it. Validators take
(params, actor=None) and return the checked params (JSON); they raise ValidationFailed for bad
values (an unknown round is named), NotFound / NotAllowed for what the actor may not export.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from .inspection_record import build_inspection, validate_inspection
from .round_workbook import build_round, validate_round
from .unit_ledger import build_unit_ledger, validate_unit_ledger
from .year_workbook import build_year, validate_year

# kind -> (builder, validator, title): what jobs.register needs.
KINDS = {
    "export.round": (build_round, validate_round, _l("Round workbook")),
    "export.year": (build_year, validate_year, _l("Year workbook")),
    "export.inspection": (build_inspection, validate_inspection, _l("Inspection record workbook")),
    "export.unit_ledger": (
        build_unit_ledger,
        validate_unit_ledger,
        _l("Unit rectification ledger"),
    ),
}


def register_jobs() -> None:
    """Make every workbook a kind of background job (jobs.register is idempotent)."""
    from .. import jobs

    for kind, (builder, validator, title) in KINDS.items():
        jobs.register(
            kind, builder=builder, permission=PERMISSIONS[kind], title=title, validate=validator
        )


# kind -> the action of auth/permissions.py a starter needs (the validators also check the
# object: a unit user gets only its own ledger, an inspection only when visible).
PERMISSIONS = {
    "export.round": "exports.download",
    "export.year": "exports.download",
    "export.inspection": "inspection.view",
    "export.unit_ledger": "rectification.view",
}
