"""One defect, one finding: items linked by same_as yield one finding per visit (S4)."""

from inspect_app.extensions import db
from inspect_app.inspections import answering, services
from inspect_app.models import AuditEvent, Finding, Inspection, User

from ..inspections.conftest import change
from ..inspections.helpers import png_bytes

LOG = {"legal_basis": [{"law": "网络安全法", "article": "第23条", "article_pre2026": "第21条"}]}


def _visit_with_two_checklists(make, *, system_level=False, evidence="optional"):
    """A visit with a RESP-like unit checklist and an MLPS-like one (same unit, same team)
    whose log-retention items check the same duty (MLPS-LOG same_as RESP-LOG)."""
    unit = make.unit(kind="soe")
    resp = make.template(
        key="RESPT",
        items=[
            {"code": "RESP-LOG", "text": "日志是否留存六个月？", "severity": "high", **LOG},
            {"code": "RESP-OTHER", "text": "是否有制度？", **LOG},
        ],
    )
    mlps = make.template(
        key="MLPST",
        target="system" if system_level else "unit",
        items=[
            {
                "code": "MLPS-LOG",
                "text": "审计数据是否集中并留存六个月？",
                "same_as": "RESP-LOG",
                "evidence": evidence,
                **LOG,
            },
            {"code": "MLPS-OTHER", "text": "是否划分区域？", **LOG},
        ],
    )
    lead, member = make.user(role="inspector"), make.user(role="inspector")
    first = make.inspection(template=resp, unit=unit, members=[lead, member])
    system = make.system(unit=unit) if system_level else None
    second = make.inspection(
        template=mlps, unit=unit, system=system, members=[lead, member], visit=first.visit
    )
    db.session.commit()
    items = {i.code: i.id for t in (resp, mlps) for i in t.items}
    return first.id, second.id, lead.id, items


def _answer(inspection_id, lead, items, results):
    changes = []
    for code, result in results.items():
        fields = {"result": result}
        if result == "noncompliant":
            fields["finding_description"] = f"经查，{code} 不符合"
        changes.append(change(items[code], **fields))
    outcomes = answering.apply_changes(inspection_id, changes, actor=lead)
    assert all(o["status"] == "applied" for o in outcomes), outcomes


def _submit(inspection_id, lead):
    return services.submit_inspection(
        inspection_id, actor=lead, signatory_name="李四", signature_png=png_bytes()
    )


def test_two_checklists_sharing_a_duty_give_one_finding(ctx, make):
    first, second, lead_id, items = _visit_with_two_checklists(make)
    lead = db.session.get(User, lead_id)
    _answer(first, lead, items, {"RESP-LOG": "noncompliant", "RESP-OTHER": "compliant"})
    _submit(first, lead)
    _answer(second, lead, items, {"MLPS-LOG": "noncompliant", "MLPS-OTHER": "noncompliant"})
    _submit(second, lead)

    findings = db.session.query(Finding).order_by(Finding.id).all()
    assert [f.item.code for f in findings] == ["RESP-LOG", "MLPS-OTHER"]
    assert findings[0].inspection_id == first
    from inspect_app.rectification import duties

    links = duties.finding_links(findings[0])
    assert [(la.inspection_id, la.item_code) for la in links] == [(second, "MLPS-LOG")]


def test_the_linked_item_is_answered_once(ctx, make):
    first, second, lead_id, items = _visit_with_two_checklists(make)
    lead = db.session.get(User, lead_id)
    _answer(first, lead, items, {"RESP-LOG": "noncompliant", "RESP-OTHER": "compliant"})
    _submit(first, lead)
    # MLPS-LOG left unanswered: the answer in the first checklist stands for it.
    _answer(second, lead, items, {"MLPS-OTHER": "compliant"})
    context = services.fill_context(second, actor=lead)
    linked = context.linked[items["MLPS-LOG"]]
    assert [(la.item_code, la.result) for la in linked] == [("RESP-LOG", "noncompliant")]
    assert context.missing() == []
    _submit(second, lead)
    assert db.session.query(Finding).count() == 1


def test_a_noncompliant_linked_answer_needs_no_second_description_or_photo(ctx, make):
    first, second, lead_id, items = _visit_with_two_checklists(
        make, evidence="required_if_noncompliant"
    )
    lead = db.session.get(User, lead_id)
    _answer(first, lead, items, {"RESP-LOG": "noncompliant", "RESP-OTHER": "compliant"})
    _submit(first, lead)
    answering.apply_changes(
        second,
        [
            change(items["MLPS-LOG"], result="noncompliant"),
            change(items["MLPS-OTHER"], result="compliant"),
        ],
        actor=lead,
    )
    assert services.missing_for_submit(db.session.get(Inspection, second)) == []


def test_a_linked_answer_with_no_finding_yet_needs_its_description_and_photo(ctx, make):
    first, second, lead_id, items = _visit_with_two_checklists(
        make, evidence="required_if_noncompliant"
    )
    lead = db.session.get(User, lead_id)
    _answer(first, lead, items, {"RESP-LOG": "compliant", "RESP-OTHER": "compliant"})
    _submit(first, lead)
    answering.apply_changes(
        second,
        [
            change(items["MLPS-LOG"], result="noncompliant"),
            change(items["MLPS-OTHER"], result="compliant"),
        ],
        actor=lead,
    )
    missing = services.missing_for_submit(db.session.get(Inspection, second))
    assert [m.item_code for m in missing] == ["MLPS-LOG", "MLPS-LOG"]


def test_without_the_link_each_checklist_would_make_its_own_finding(ctx, make):
    first, second, lead_id, items = _visit_with_two_checklists(make)
    lead = db.session.get(User, lead_id)
    _answer(first, lead, items, {"RESP-LOG": "compliant", "RESP-OTHER": "compliant"})
    _submit(first, lead)
    _answer(second, lead, items, {"MLPS-LOG": "noncompliant", "MLPS-OTHER": "compliant"})
    _submit(second, lead)
    # The first checklist found no defect: the second one's answer makes the finding.
    assert [f.item.code for f in db.session.query(Finding)] == ["MLPS-LOG"]


def test_a_system_finding_does_not_cover_another_systems_defect(ctx, make):
    """The same MLPS item on two systems is two defects, even with a unit-level link."""
    first, second, lead_id, items = _visit_with_two_checklists(make, system_level=True)
    lead = db.session.get(User, lead_id)
    inspection = db.session.get(Inspection, second)
    other_system = make.system(unit=inspection.unit)
    third = make.inspection(
        template=inspection.template,
        unit=inspection.unit,
        system=other_system,
        members=[m.user for m in inspection.members],
        visit=inspection.visit,
    ).id
    db.session.commit()
    _answer(second, lead, items, {"MLPS-LOG": "noncompliant", "MLPS-OTHER": "compliant"})
    _submit(second, lead)
    _answer(third, lead, items, {"MLPS-LOG": "noncompliant", "MLPS-OTHER": "compliant"})
    _submit(third, lead)
    assert db.session.query(Finding).count() == 2
    # The unit-level checklist's answer is covered by the first system finding.
    _answer(first, lead, items, {"RESP-LOG": "noncompliant", "RESP-OTHER": "compliant"})
    _submit(first, lead)
    assert db.session.query(Finding).count() == 2


def test_reopening_the_first_checklist_moves_the_finding_to_the_second(ctx, make):
    first, second, lead_id, items = _visit_with_two_checklists(make)
    lead = db.session.get(User, lead_id)
    _answer(first, lead, items, {"RESP-LOG": "noncompliant", "RESP-OTHER": "compliant"})
    _submit(first, lead)
    _answer(second, lead, items, {"MLPS-LOG": "noncompliant", "MLPS-OTHER": "compliant"})
    _submit(second, lead)
    coordinator = make.user(role="coordinator")
    services.reopen_inspection(first, actor=coordinator, reason="更正")
    findings = db.session.query(Finding).all()
    assert [(f.inspection_id, f.item.code) for f in findings] == [(second, "MLPS-LOG")]
    assert findings[0].description == "经查，MLPS-LOG 不符合"
    assert db.session.query(AuditEvent).filter_by(action="finding.move").count() == 1


def test_filling_page_shows_the_answer_given_in_the_other_checklist(app, make, web):
    with app.app_context():
        first, second, lead_id, items = _visit_with_two_checklists(make)
        lead = db.session.get(User, lead_id)
        _answer(first, lead, items, {"RESP-LOG": "noncompliant", "RESP-OTHER": "compliant"})
        username = lead.username
    web.login(username)
    page = web.get(f"/inspections/{second}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    at = html.index(f"id=i{items['MLPS-LOG']}")
    fieldset = html[at : html.index("</fieldset>", at)]
    assert "同一义务已在《测试清单RESPT》RESP-LOG中作答" in fieldset
    assert "不符合" in fieldset


def test_the_api_gives_each_item_its_required_action_and_link(app, make, web):
    with app.app_context():
        first, second, lead_id, items = _visit_with_two_checklists(make)
        username = db.session.get(User, lead_id).username
    web.login(username)
    body = web.get(f"/api/v1/inspections/{second}").get_json()
    by_code = {i["code"]: i for i in body["items"]}
    assert by_code["MLPS-LOG"]["same_as"] == "RESP-LOG"
    assert by_code["MLPS-OTHER"]["same_as"] is None
    assert by_code["MLPS-OTHER"]["required_action"] == ""


def test_the_record_lists_a_shared_defect_once_and_refers_to_the_shared_answer(app, make, web):
    with app.app_context():
        first, second, lead_id, items = _visit_with_two_checklists(make)
        lead = db.session.get(User, lead_id)
        _answer(first, lead, items, {"RESP-LOG": "noncompliant", "RESP-OTHER": "compliant"})
        _submit(first, lead)
        _answer(second, lead, items, {"MLPS-OTHER": "noncompliant"})
        _submit(second, lead)
        username = lead.username
    web.login(username)
    html = web.get(f"/inspections/{second}/record").get_data(as_text=True)
    assert "见RESP-LOG：不符合" in html
    problems = html[html.index('class="noncompliant-list"') :]
    problems = problems[: problems.index("</ol>")]
    assert problems.count("<li>") == 2
    assert "RESP-LOG" in problems and "MLPS-OTHER" in problems and "MLPS-LOG" not in problems


def test_the_submit_page_says_a_shared_problem_makes_one_finding(app, make, web):
    with app.app_context():
        first, second, lead_id, items = _visit_with_two_checklists(make)
        lead = db.session.get(User, lead_id)
        _answer(first, lead, items, {"RESP-LOG": "noncompliant", "RESP-OTHER": "compliant"})
        _submit(first, lead)
        _answer(second, lead, items, {"MLPS-LOG": "noncompliant", "MLPS-OTHER": "compliant"})
        username = lead.username
    web.login(username)
    html = web.get(f"/inspections/{second}/submit").get_data(as_text=True)
    assert "与RESP-LOG为同一问题，只形成一个问题" in html


def test_a_defect_found_last_round_by_the_linked_item_is_a_repeat(ctx, make):
    first, second, lead_id, items = _visit_with_two_checklists(make)
    lead = db.session.get(User, lead_id)
    # Last round: the RESP checklist alone found the logs defect.
    earlier, later = db.session.get(Inspection, first), db.session.get(Inspection, second)
    earlier.round = make.round(seq=1)
    earlier.visit.round = earlier.round
    later.visit = make.visit(unit=later.unit, round=later.round)  # another visit, a later round
    db.session.commit()
    _answer(first, lead, items, {"RESP-LOG": "noncompliant", "RESP-OTHER": "compliant"})
    _submit(first, lead)
    # This round: the MLPS checklist finds it again through its linked item.
    _answer(second, lead, items, {"MLPS-LOG": "noncompliant", "MLPS-OTHER": "compliant"})
    _submit(second, lead)
    old, new = db.session.query(Finding).order_by(Finding.id).all()
    assert (new.item.code, new.repeat_of_id, new.repeat_count) == ("MLPS-LOG", old.id, 1)
