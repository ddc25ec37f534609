"""Repeat findings: the same unit and item as an earlier round's finding within 12 months."""

from datetime import date, datetime

import pytest

from inspect_app.extensions import db
from inspect_app.inspections import answering, services
from inspect_app.models import Finding, Inspection

from ..inspections.conftest import change
from ..inspections.helpers import png_bytes

ITEMS = [
    {"code": "RP-01", "text": "是否有制度？", "severity": "medium", "deadline_days": 30},
    {"code": "RP-02", "text": "是否有日志？", "severity": "high", "deadline_days": 15},
]


def _inspect(make, template, unit, members, *, year, seq, today, results):
    rnd = make.round(year=year, seq=seq)
    inspection = make.inspection(template=template, unit=unit, round=rnd, members=members)
    changes = [
        change(
            template.items[n].id,
            result=result,
            finding_description="检查发现未落实" if result == "noncompliant" else "",
        )
        for n, result in enumerate(results)
    ]
    answering.apply_changes(inspection.id, changes, actor=members[0])
    services.submit_inspection(
        inspection.id,
        actor=members[0],
        signatory_name="王五",
        signature_png=png_bytes(),
        today=today,
        now=datetime.combine(today, datetime.min.time()),
    )
    return db.session.get(Inspection, inspection.id)


@pytest.fixture
def scene(ctx, make):
    template = make.template(key="RPT", items=ITEMS)
    unit = make.unit(code="U-REP")
    team = [make.user(role="inspector"), make.user(role="inspector")]
    return make, template, unit, team


def test_a_repeat_is_linked_counted_and_raised_one_level(scene):
    make, template, unit, team = scene
    _inspect(
        make,
        template,
        unit,
        team,
        year=2026,
        seq=1,
        today=date(2026, 2, 1),
        results=["noncompliant", "noncompliant"],
    )
    later = _inspect(
        make,
        template,
        unit,
        team,
        year=2026,
        seq=3,
        today=date(2026, 6, 1),
        results=["noncompliant", "noncompliant"],
    )
    third = _inspect(
        make,
        template,
        unit,
        team,
        year=2026,
        seq=5,
        today=date(2026, 10, 1),
        results=["noncompliant", "compliant"],
    )
    by_code = {f.item.code: f for f in later.findings}
    assert by_code["RP-01"].repeat_of is not None and by_code["RP-01"].repeat_count == 1
    assert (by_code["RP-01"].severity, by_code["RP-01"].raised_from) == ("high", "medium")
    assert (by_code["RP-02"].severity, by_code["RP-02"].raised_from) == ("high", None)
    [again] = third.findings
    assert again.repeat_count == 2 and again.repeat_of_id == by_code["RP-01"].id


def test_an_earlier_finding_older_than_the_window_is_no_repeat(scene):
    make, template, unit, team = scene
    _inspect(
        make,
        template,
        unit,
        team,
        year=2025,
        seq=1,
        today=date(2025, 2, 1),
        results=["noncompliant", "compliant"],
    )
    later = _inspect(
        make,
        template,
        unit,
        team,
        year=2026,
        seq=4,
        today=date(2026, 8, 1),
        results=["noncompliant", "compliant"],
    )
    [finding] = later.findings
    assert finding.repeat_of_id is None and finding.severity == "medium"


def test_raising_can_be_turned_off(scene, app):
    make, template, unit, team = scene
    app.config["REPEAT_RAISES_SEVERITY"] = False
    try:
        _inspect(
            make,
            template,
            unit,
            team,
            year=2026,
            seq=1,
            today=date(2026, 2, 1),
            results=["noncompliant", "compliant"],
        )
        later = _inspect(
            make,
            template,
            unit,
            team,
            year=2026,
            seq=2,
            today=date(2026, 4, 1),
            results=["noncompliant", "compliant"],
        )
    finally:
        app.config["REPEAT_RAISES_SEVERITY"] = True
    [finding] = later.findings
    assert finding.repeat_count == 1 and finding.severity == "medium"
    assert db.session.query(Finding).count() == 2
