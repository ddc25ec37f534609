"""The answer tallies submission stores on an inspection (compliant, non-compliant), which the
compliance rate sums: written at submission, cleared on reopening, written again at the next
submission, and always equal to the answers counted straight from the rows."""

from inspect_app.extensions import db
from inspect_app.inspections import answering, services
from inspect_app.models import Answer, Inspection, Round
from inspect_app.reports import figures
from inspect_app.reports.figures import Scope

from ..inspections.conftest import change
from ..inspections.helpers import png_bytes
from ..inspections.test_submit import _answer_all, _user


def _counted(inspection_id: int) -> tuple[int, int]:
    answers = db.session.query(Answer).filter_by(inspection_id=inspection_id).all()
    return (
        sum(a.result == "compliant" for a in answers),
        sum(a.result == "noncompliant" for a in answers),
    )


def _stored(inspection_id: int) -> tuple[int | None, int | None]:
    inspection = db.session.get(Inspection, inspection_id)
    db.session.refresh(inspection)
    return inspection.compliant_answers, inspection.noncompliant_answers


def _year_compliance(inspection_id: int) -> tuple[int, int]:
    year = db.session.get(Inspection, inspection_id).round.year
    got = figures.compliance(Scope(year))
    return got.compliant, got.noncompliant


def _submit(inspection_id: int, lead):
    services.submit_inspection(
        inspection_id, actor=lead, signatory_name="张三", signature_png=png_bytes()
    )


def test_submission_stores_the_tally_reopening_clears_it_and_resubmission_rewrites_it(
    ctx, setup, make
):
    inspection_id = setup["inspection"]
    lead, coordinator = _user(setup["lead"]), make.user(role="coordinator")
    _answer_all(setup, lead, **{"T-02": "noncompliant"})
    assert _stored(inspection_id) == (None, None)
    assert _year_compliance(inspection_id) == (0, 0)  # not done: not counted

    _submit(inspection_id, lead)
    assert _stored(inspection_id) == _counted(inspection_id) == (3, 1)
    assert _year_compliance(inspection_id) == (3, 1)

    services.reopen_inspection(inspection_id, actor=coordinator, reason="T-03 结论有误")
    assert _stored(inspection_id) == (None, None)
    assert _year_compliance(inspection_id) == (0, 0)

    outcomes = answering.apply_changes(
        inspection_id,
        [
            change(
                setup["items"]["T-03"],
                base_version=1,
                result="noncompliant",
                finding_description="T-03 问题",
            )
        ],
        actor=lead,
    )
    assert [o["status"] for o in outcomes] == ["applied"], outcomes
    _submit(inspection_id, lead)
    assert _stored(inspection_id) == _counted(inspection_id) == (2, 2)
    assert _year_compliance(inspection_id) == (2, 2)


def test_the_rate_counts_stored_tallies_and_the_answers_of_rows_without_one(ctx, setup, make):
    """Inspections made done otherwise (an import, the demo, a test's factory) have no tally:
    their answers are counted, and the sum is the same either way."""
    inspection_id = setup["inspection"]
    lead = _user(setup["lead"])
    _answer_all(setup, lead, **{"T-02": "noncompliant", "T-03": "noncompliant"})
    _submit(inspection_id, lead)
    year = db.session.get(Inspection, inspection_id).round.year
    other = make.inspection(
        round=db.session.query(Round).filter_by(year=year).first(), status="closed"
    )
    items = db.session.get(Inspection, inspection_id).template.items
    for item, result in zip(items, ("compliant", "noncompliant", "not_applicable"), strict=False):
        db.session.add(Answer(inspection_id=other.id, item_id=item.id, result=result, version=1))
    db.session.commit()
    assert _stored(other.id) == (None, None)
    got = figures.compliance(Scope(year))
    assert (got.compliant, got.noncompliant) == tuple(
        a + b for a, b in zip(_counted(inspection_id), _counted(other.id), strict=True)
    )
