"""Round pages: who may read and write, the plan/edit/transition flows and the 409 page."""

from datetime import date

import pytest
import sqlalchemy as sa

from inspect_app.extensions import db
from inspect_app.models import AuditEvent, Inspection, Round
from inspect_app.rounds import services
from inspect_app.rounds.services import Target, TeamMember


@pytest.fixture
def world(app, make, make_template):
    """A round of 2026 with one planned inspection, inspectors of two departments, templates."""
    with app.app_context():
        cac, police = make.department(name="网信"), make.department(name="公安")
        inspectors = [
            make.user(role="inspector", department=cac, certificate_no="网信执字01"),
            make.user(role="inspector", department=police, certificate_no="公网安执字02"),
        ]
        rnd = make.round(year=2026, seq=3, start_date=date(2026, 5, 6), end_date=date(2026, 5, 29))
        template = make_template("unit")
        units = [make.unit(kind="soe", code=f"PG{i}") for i in range(6)]
        result = services.assign_targets(
            rnd.id,
            [Target("unit", units[0].id)],
            actor=make.user(role="coordinator"),
            template_id=template.id,
            scheduled_on=date(2026, 5, 10),
            team=[TeamMember(u.id) for u in inspectors],
            lead_id=inspectors[0].id,
        )
        return {
            "round": rnd.id,
            "inspection": result.inspections[0].id,
            "template": template.id,
            "units": [u.id for u in units],
            "inspectors": [u.id for u in inspectors],
            "departments": [cac.id, police.id],
        }


def _pages(w):
    r, i = w["round"], w["inspection"]
    return {
        "index": "/rounds/?year=2026",
        "show": f"/rounds/{r}",
        "edit": f"/rounds/{r}/edit",
        "close": f"/rounds/{r}/close",
        "assign": f"/rounds/{r}/targets",
        "inspection_edit": f"/rounds/{r}/inspections/{i}/edit",
    }


def _writes(w):
    r, i = w["round"], w["inspection"]
    return [
        ("/rounds/plan", {"year": "2030"}),
        (f"/rounds/{r}/edit", {"title": "x", "theme": "key_units", "nature": "special_review"}),
        (f"/rounds/{r}/status", {"to": "active"}),
        (f"/rounds/{r}/targets", {"target": f"unit:{w['units'][1]}"}),
        (f"/rounds/{r}/inspections/{i}/edit", {"scheduled_on": "2026-05-11"}),
        (f"/rounds/{r}/inspections/{i}/remove", {}),
    ]


@pytest.mark.parametrize("role", ["coordinator", "admin"])
def test_office_can_open_every_round_page(login_as, world, role):
    browser = login_as(role)
    for name, url in _pages(world).items():
        response = browser.get(url)
        assert response.status_code == 200, name


def test_viewer_reads_round_pages_but_gets_403_on_every_write(login_as, world, app):
    viewer = login_as("viewer")
    pages = _pages(world)
    assert viewer.get(pages["index"]).status_code == 200
    html = viewer.get(pages["show"]).get_data(as_text=True)
    assert "网信执字01" in html and "/targets" not in html
    for name in ("edit", "close", "assign", "inspection_edit"):
        assert viewer.get(pages[name]).status_code == 403, name
    for url, data in _writes(world):
        assert viewer.post(url, data).status_code == 403, url
    with app.app_context():
        assert db.session.get(Inspection, world["inspection"]) is not None
        assert db.session.get(Round, world["round"]).status == "planned"


@pytest.mark.parametrize("role", ["unit", "inspector"])
def test_unit_users_and_inspectors_get_403_on_every_round_page(login_as, world, role):
    browser = login_as(role)
    for name, url in _pages(world).items():
        assert browser.get(url).status_code == 403, name
    for url, data in _writes(world):
        assert browser.post(url, data).status_code == 403, url


def test_anonymous_is_sent_to_login(client, world):
    response = client.get("/rounds/")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_plan_a_year_from_the_list_and_refuse_a_second_time(login_as, app):
    coordinator = login_as("coordinator")
    html = coordinator.get("/rounds/?year=2029").get_data(as_text=True)
    assert 'name="year" value="2029"' in html
    response = coordinator.post("/rounds/plan", {"year": "2029"}, follow_redirects=True)
    assert response.status_code == 200
    with app.app_context():
        seqs = db.session.scalars(sa.select(Round.seq).where(Round.year == 2029)).all()
    assert sorted(seqs) == [1, 2, 3, 4, 5, 6]
    html = coordinator.post("/rounds/plan", {"year": "2029"}, follow_redirects=True).get_data(
        as_text=True
    )
    assert "2029" in html and "flash-error" in html
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Round.id)).where(Round.year == 2029)) == 6


def test_missing_rounds_are_offered_and_added_one_by_one(login_as, app, make):
    with app.app_context():
        make.round(year=2032, seq=1)
    coordinator = login_as("coordinator")
    html = coordinator.get("/rounds/?year=2032").get_data(as_text=True)
    assert 'name="seq" value="2"' in html and 'name="seq" value="1"' not in html
    coordinator.post("/rounds/plan", {"year": "2032", "seq": "2"})
    with app.app_context():
        assert sorted(db.session.scalars(sa.select(Round.seq).where(Round.year == 2032))) == [
            1,
            2,
        ]


def test_edit_a_round_with_departments_and_refuse_end_before_start(login_as, world, app):
    coordinator = login_as("coordinator")
    url = f"/rounds/{world['round']}/edit"
    data = {
        "title": "第三轮：重要系统",
        "theme": "key_systems",
        "nature": "enterprise_inspection",
        "start_date": "2026-05-06",
        "end_date": "2026-05-01",
        "departments": [str(d) for d in world["departments"]],
        "notes": "",
    }
    response = coordinator.post(url, data)
    assert response.status_code == 400
    assert 'aria-invalid="true"' in response.get_data(as_text=True)
    data["end_date"] = "2026-05-30"
    assert coordinator.post(url, data).status_code == 302
    html = coordinator.get(url).get_data(as_text=True)
    for department_id in world["departments"]:
        assert f'value="{department_id}" checked' in html
    with app.app_context():
        rnd = db.session.get(Round, world["round"])
        assert rnd.title == "第三轮：重要系统" and rnd.end_date == date(2026, 5, 30)
        assert sorted(d.id for d in rnd.departments) == sorted(world["departments"])


def test_illegal_transition_is_a_409_page(login_as, world, app):
    coordinator = login_as("coordinator")
    response = coordinator.post(f"/rounds/{world['round']}/status", {"to": "closed"})
    assert response.status_code == 409
    assert "409" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Round, world["round"]).status == "planned"


def test_closing_asks_for_confirmation_with_the_count_then_closes(login_as, world, app):
    coordinator = login_as("coordinator")
    status_url = f"/rounds/{world['round']}/status"
    assert coordinator.post(status_url, {"to": "active"}).status_code == 302
    response = coordinator.post(status_url, {"to": "closed"})
    assert response.headers["Location"].endswith(f"/rounds/{world['round']}/close")
    html = coordinator.get(f"/rounds/{world['round']}/close?lang=en").get_data(as_text=True)
    assert "1 inspection of this round is not yet submitted" in html
    assert 'name="confirm"' in html
    with app.app_context():
        assert db.session.get(Round, world["round"]).status == "active"
    assert coordinator.post(status_url, {"to": "closed", "confirm": "1"}).status_code == 302
    with app.app_context():
        assert db.session.get(Round, world["round"]).status == "closed"
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "round.close"))
        assert event.after["unfinished"] == 1 and event.after["confirmed"] is True
    # A closed round is a record: its pages for change answer 409.
    assert coordinator.get(f"/rounds/{world['round']}/edit").status_code == 409
    assert coordinator.get(f"/rounds/{world['round']}/targets").status_code == 409


def _assign_form(world, targets, **extra):
    a, b = world["inspectors"]
    data = {
        "target": [f"unit:{u}" for u in targets],
        "template_id": str(world["template"]),
        "scheduled_on": "2026-05-12",
        "member": [str(a), str(b)],
        "lead": str(a),
        f"cert-{a}": "网信执字01",
        f"cert-{b}": "公网安执字02",
    }
    data.update(extra)
    return data


def test_bulk_assignment_of_five_units_from_the_page(login_as, world, app):
    coordinator = login_as("coordinator")
    url = f"/rounds/{world['round']}/targets?kind=soe"
    html = coordinator.get(url).get_data(as_text=True)
    for unit_id in world["units"][1:]:
        assert f'value="unit:{unit_id}"' in html
    response = coordinator.post(url, _assign_form(world, world["units"][1:]))
    assert response.status_code == 302
    with app.app_context():
        made = db.session.scalars(
            sa.select(Inspection).where(Inspection.round_id == world["round"])
        ).all()
        assert len(made) == 6
        assert all(len({m.department_id for m in i.members}) == 2 for i in made)
    html = coordinator.get(f"/rounds/{world['round']}").get_data(as_text=True)
    assert html.count("公网安执字02") == 6


def test_assignment_page_refuses_a_team_of_one_and_keeps_the_entry(login_as, world, app):
    coordinator = login_as("coordinator")
    a = world["inspectors"][0]
    data = _assign_form(world, world["units"][1:3], member=[str(a)])
    response = coordinator.post(f"/rounds/{world['round']}/targets?lang=en", data)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "at least two inspectors" in html
    assert f'value="unit:{world["units"][1]}" checked' in html
    assert 'value="2026-05-12"' in html
    with app.app_context():
        assert (
            db.session.scalar(
                sa.select(sa.func.count(Inspection.id)).where(Inspection.round_id == world["round"])
            )
            == 1
        )


def test_cap_warning_on_the_page_blocks_until_confirmed(login_as, world, app):
    with app.app_context():
        from inspect_app.models import Unit

        db.session.get(Unit, world["units"][1]).inspection_cap = 0
        db.session.commit()
    coordinator = login_as("coordinator")
    url = f"/rounds/{world['round']}/targets?lang=en"
    data = _assign_form(world, world["units"][1:3])
    html = coordinator.post(url, data).get_data(as_text=True)
    assert "Yearly inspection cap" in html and 'name="confirm_cap"' in html
    assert "0 inspections this year + 1 new = 1, cap 0" in html

    def count():
        with app.app_context():
            return db.session.scalar(
                sa.select(sa.func.count(Inspection.id)).where(Inspection.round_id == world["round"])
            )

    assert count() == 1
    assert coordinator.post(url, {**data, "confirm_cap": "1"}).status_code == 302
    assert count() == 3


def test_filters_on_the_page_include_not_inspected_this_year(login_as, world):
    coordinator = login_as("coordinator")
    url = f"/rounds/{world['round']}/targets?kind=soe&q=PG&fresh=1"
    html = coordinator.get(url).get_data(as_text=True)
    assert f'value="unit:{world["units"][0]}"' not in html
    assert f'value="unit:{world["units"][1]}"' in html


def test_change_and_remove_a_planned_inspection_from_the_page(login_as, world, app):
    coordinator = login_as("coordinator")
    r, i = world["round"], world["inspection"]
    a, b = world["inspectors"]
    html = coordinator.get(f"/rounds/{r}/inspections/{i}/edit").get_data(as_text=True)
    assert 'value="网信执字01"' in html
    data = {
        "scheduled_on": "2026-06-30",
        "member": [str(a), str(b)],
        "lead": str(b),
        f"cert-{a}": "网信执字01",
        f"cert-{b}": "公网安执字09",
    }
    response = coordinator.post(f"/rounds/{r}/inspections/{i}/edit", data, follow_redirects=True)
    assert "2026-06-30" in response.get_data(as_text=True)  # warned: outside the round
    with app.app_context():
        inspection = db.session.get(Inspection, i)
        assert inspection.lead_id == b
        assert {m.certificate_no for m in inspection.members} == {"网信执字01", "公网安执字09"}
    assert coordinator.post(f"/rounds/{r}/inspections/{i}/remove").status_code == 302
    with app.app_context():
        assert db.session.get(Inspection, i) is None


def test_a_started_inspection_cannot_be_changed_from_the_page(login_as, world, app):
    with app.app_context():
        db.session.get(Inspection, world["inspection"]).status = "in_progress"
        db.session.commit()
    coordinator = login_as("coordinator")
    r, i = world["round"], world["inspection"]
    assert coordinator.get(f"/rounds/{r}/inspections/{i}/edit").status_code == 409
    assert coordinator.post(f"/rounds/{r}/inspections/{i}/remove").status_code == 409
    assert coordinator.get(f"/rounds/{r + 1000}/inspections/{i}/edit").status_code == 404


def test_round_pages_have_no_inline_script_or_style(login_as, world):
    coordinator = login_as("coordinator")
    for url in _pages(world).values():
        html = coordinator.get(url).get_data(as_text=True)
        assert "style=" not in html and "<script>" not in html, url


def test_pages_speak_chinese_with_the_official_terms(login_as, world):
    coordinator = login_as("coordinator")
    html = coordinator.get(f"/rounds/{world['round']}/targets?lang=zh").get_data(as_text=True)
    for term in ("检查组", "组长", "执法证号", "检查清单版本", "本年度尚未检查"):
        assert term in html, term
    html = coordinator.get(f"/rounds/{world['round']}").get_data(as_text=True)
    for term in ("检查主题", "检查性质", "被检查单位", "涉企行政检查"):
        assert term in html, term
    assert "检查轮次" in coordinator.get("/rounds/?year=2026").get_data(as_text=True)


def test_an_active_round_past_its_end_date_is_flagged_on_the_list_and_its_page(
    app, world, login_as
):
    with app.app_context():
        rnd = db.session.get(Round, world["round"])
        rnd.status = "active"
        inspection = db.session.get(Inspection, world["inspection"])
        inspection.scheduled_on = date(2026, 6, 2)  # after the round's end (5-29)
        db.session.commit()
    coordinator = login_as("coordinator")
    listing = coordinator.get("/rounds/?year=2026").get_data(as_text=True)
    page = coordinator.get(f"/rounds/{world['round']}").get_data(as_text=True)
    for html in (listing, page):
        assert 'class="badge past-end"' in html and "2026-05-29" in html
    assert "晚于本轮结束日期" in page
    with app.app_context():
        db.session.get(Round, world["round"]).status = "closed"
        db.session.commit()
    listing = coordinator.get("/rounds/?year=2026").get_data(as_text=True)
    assert "仍在进行" not in listing  # a closed round is not flagged


def test_a_round_within_its_dates_is_not_flagged(app, make):
    today = date(2026, 5, 10)
    rnd = Round(year=2026, seq=1, title="t", status="active", end_date=date(2026, 5, 29))
    assert not rnd.is_past_end(today) and rnd.is_past_end(date(2026, 5, 30))
    rnd.end_date = None
    assert not rnd.is_past_end(date(2030, 1, 1))


def test_the_visit_page_and_the_plan_warn_when_the_sector_regulator_is_not_on_the_team(
    login_as, world, app, make
):
    with app.app_context():
        make.department(code="NEA", name="能源监管办", kind="regulator", sector="电力")
        unit = db.session.get(Inspection, world["inspection"]).unit
        unit.sector = "电力"
        db.session.commit()
        visit_id = db.session.get(Inspection, world["inspection"]).visit_id
    coordinator = login_as("coordinator")
    html = coordinator.get(f"/rounds/visits/{visit_id}").get_data(as_text=True)
    assert 'class="flash flash-warning"' in html and "能源监管办" in html
    response = coordinator.post(
        f"/rounds/{world['round']}/inspections/{world['inspection']}/edit",
        {
            "scheduled_on": "2026-05-12",
            "member": [str(i) for i in world["inspectors"]],
            "lead": str(world["inspectors"][0]),
            **{
                f"cert-{i}": c
                for i, c in zip(world["inspectors"], ("网信执字01", "公网安执字02"), strict=True)
            },
        },
        follow_redirects=True,
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f"/rounds/{world['round']}/inspections/{world['inspection']}/edit" in html  # the round
    assert "flash-warning" in html and "能源监管办" in html  # flashed after saving
    with app.app_context():
        assert db.session.get(Inspection, world["inspection"]).scheduled_on == date(2026, 5, 12)


def test_a_tampered_choice_is_refused_in_the_users_language(login_as, world):
    """ "'999' is not a valid choice for this field." came in English on a Chinese page: WTForms'
    own Chinese catalog lacks that message."""
    data = {
        "title": "第三轮",
        "theme": "key_systems",
        "nature": "enterprise_inspection",
        "departments": ["999"],
    }
    response = login_as("coordinator").post(f"/rounds/{world['round']}/edit", data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "&#39;999&#39; 不是此字段的有效选项。" in html and "not a valid choice" not in html
