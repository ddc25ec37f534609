"""Unit pages: list with search, filters and paging; detail; create and edit with validation."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from inspect_app.directory import services
from inspect_app.directory.creditcode import check_digit
from inspect_app.errors import ValidationFailed
from inspect_app.extensions import db
from inspect_app.models import AuditEvent, Unit


def credit(n: int) -> str:
    first = f"12990000MB{n:07d}"
    return first + check_digit(first)


def form_data(**kw) -> dict:
    data = {
        "code": "NEW01",
        "name": "新建单位",
        "kind": "party_gov",
        "parent_code": "",
        "credit_code": "",
        "active": "y",
    }
    data.update(kw)
    return data


def test_units_list_searches_name_code_and_credit_code(login_as, app, make):
    with app.app_context():
        make.unit(code="AAA1", name="市网信办")
        make.unit(code="BBB2", name="市公安局", credit_code=credit(5))
        make.unit(code="CCC3", name="示例医院")
    b = login_as("coordinator")
    assert "市网信办" in b.get("/directory/units?q=网信").get_data(as_text=True)
    html = b.get("/directory/units?q=bbb").get_data(as_text=True)
    assert "市公安局" in html and "市网信办" not in html
    html = b.get(f"/directory/units?q={credit(5)[:12]}").get_data(as_text=True)
    assert "市公安局" in html and "示例医院" not in html


def test_search_treats_percent_and_underscore_literally(login_as, app, make):
    with app.app_context():
        make.unit(code="X1", name="普通单位")
    html = login_as("coordinator").get("/directory/units?q=%25").get_data(as_text=True)
    assert "普通单位" not in html


def test_units_list_filters_by_kind_key_unit_cii_and_active(login_as, app, make):
    with app.app_context():
        make.unit(code="K1", name="重点国企", kind="soe", is_key_unit=True)
        make.unit(code="K2", name="关基事业单位", kind="public_institution", is_cii=True)
        make.unit(code="K3", name="停用单位", kind="soe", active=False)
    b = login_as("viewer")
    html = b.get("/directory/units?kind=soe").get_data(as_text=True)
    assert "重点国企" in html and "停用单位" in html and "关基事业单位" not in html
    html = b.get("/directory/units?key=yes").get_data(as_text=True)
    assert "重点国企" in html and "停用单位" not in html
    html = b.get("/directory/units?cii=yes").get_data(as_text=True)
    assert "关基事业单位" in html and "重点国企" not in html
    html = b.get("/directory/units?active=no").get_data(as_text=True)
    assert "停用单位" in html and "重点国企" not in html


def test_units_list_pages_by_the_configured_page_size(login_as, app, make):
    with app.app_context():
        for n in range(30):
            make.unit(code=f"P{n:03d}", name=f"分页单位{n:03d}")
    b = login_as("coordinator")
    first = b.get("/directory/units?q=分页").get_data(as_text=True)
    second = b.get("/directory/units?q=分页&page=2").get_data(as_text=True)
    assert first.count("分页单位") == 25 and second.count("分页单位") == 5
    assert "分页单位029" in second and "分页单位029" not in first
    assert "page=2" in first and "q=" in first  # the pager keeps the filters


def test_unit_detail_shows_its_systems(login_as, app, make):
    with app.app_context():
        unit = make.unit(name="有系统的单位")
        make.system(unit=unit, name="门户网站系统", mlps_level=2)
        unit_id = unit.id
    html = login_as("coordinator").get(f"/directory/units/{unit_id}").get_data(as_text=True)
    assert "门户网站系统" in html and "第二级" in html


def test_coordinator_creates_a_unit_and_the_change_is_audited(login_as, app, make):
    with app.app_context():
        make.unit(code="PARENT")
    b = login_as("coordinator")
    data = form_data(
        credit_code=credit(1).lower(), parent_code="PARENT", is_key_unit="y", inspection_cap="3"
    )
    response = b.post("/directory/units/new", data)
    assert response.status_code == 302
    with app.app_context():
        unit = db.session.scalar(sa.select(Unit).where(Unit.code == "NEW01"))
        assert unit.credit_code == credit(1)
        assert unit.parent.code == "PARENT" and unit.is_key_unit and unit.inspection_cap == 3
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "unit.create"))
        assert event.object_id == str(unit.id) and event.actor_id == b.user_id
        assert event.after["credit_code"] == credit(1)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("credit_code", "12990000MB0000001X", "校验位"),
        ("credit_code", "12990000MB000000IJ", "I、O、Z、S"),
        ("credit_code", "1299", "18"),
        ("parent_code", "NOWHERE", "NOWHERE"),
        ("contact_email", "nobody", "name@example.cn"),
        ("kind", "martian", ""),
        ("code", "", ""),
    ],
)
def test_bad_unit_input_rerenders_with_a_message_and_saves_nothing(
    login_as, app, field, value, message
):
    b = login_as("coordinator")
    response = b.post("/directory/units/new", form_data(**{field: value}))
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'class="field has-error"' in html
    assert message in html
    with app.app_context():
        assert db.session.scalar(sa.select(Unit).where(Unit.code == "NEW01")) is None
        assert (
            db.session.scalar(
                sa.select(sa.func.count(AuditEvent.id)).where(AuditEvent.action == "unit.create")
            )
            == 0
        )


def test_a_taken_code_or_credit_code_is_refused(login_as, app, make):
    with app.app_context():
        make.unit(code="NEW01", name="已有单位")
        make.unit(code="OTHER", name="持码单位", credit_code=credit(9))
    b = login_as("coordinator")
    assert b.post("/directory/units/new", form_data()).status_code == 400
    html = b.post("/directory/units/new", form_data(code="NEW02", credit_code=credit(9))).get_data(
        as_text=True
    )
    assert "持码单位" in html


@pytest.mark.parametrize("code", ["QA😀", "QA<script>", "单位一", "A B", "-A"])
def test_a_code_is_letters_digits_and_a_few_marks(login_as, app, code):
    """Codes are typed in imports, URLs and commands: 'QA😀' and 'QA<script>' were saved."""
    response = login_as("coordinator").post("/directory/units/new", form_data(code=code))
    assert response.status_code == 400
    assert "编号只能由字母、数字和 - _ . / 组成" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Unit.id)).where(Unit.code == code)) == 0


def test_a_code_taken_in_other_letters_case_is_refused(login_as, app, make):
    """u001 was saved beside U001, although an import updates a unit by its code."""
    with app.app_context():
        make.unit(code="U777", name="已有单位")
    response = login_as("coordinator").post("/directory/units/new", form_data(code="u777"))
    assert response.status_code == 400
    assert "U777" in response.get_data(as_text=True)


def test_editing_a_unit_audits_only_the_changed_fields(login_as, app, make):
    with app.app_context():
        unit = make.unit(code="ED1", name="旧名称", kind="soe", contact_name="王五")
        unit_id = unit.id
    b = login_as("coordinator")
    form = b.get(f"/directory/units/{unit_id}/edit").get_data(as_text=True)
    assert 'value="旧名称"' in form
    response = b.post(
        f"/directory/units/{unit_id}/edit",
        form_data(code="ED1", name="新名称", kind="soe", contact_name="王五"),
    )
    assert response.status_code == 302
    with app.app_context():
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "unit.update"))
        assert event.before == {"name": "旧名称"} and event.after == {"name": "新名称"}


def test_saving_an_unchanged_unit_writes_no_audit_event(login_as, app, make):
    with app.app_context():
        unit_id = make.unit(code="SAME", name="不变", kind="soe").id
    b = login_as("coordinator")
    b.post(f"/directory/units/{unit_id}/edit", form_data(code="SAME", name="不变", kind="soe"))
    with app.app_context():
        assert (
            db.session.scalar(
                sa.select(sa.func.count(AuditEvent.id)).where(AuditEvent.action == "unit.update")
            )
            == 0
        )


def test_a_unit_cannot_be_placed_under_its_own_subunit(rctx, make):
    actor = make.user(role="coordinator")
    top = make.unit(code="TOP")
    child = make.unit(code="CHILD", parent=top)
    make.unit(code="GRAND", parent=child)
    values = services.unit_snapshot(top) | {"parent_code": "GRAND"}
    with pytest.raises(ValidationFailed) as info:
        services.update_unit(top.id, values, actor=actor)
    assert "parent_code" in info.value.details


def test_an_english_user_gets_english_messages(login_as):
    b = login_as("coordinator", locale="en")
    html = b.post("/directory/units/new", form_data(credit_code="12990000MB0000001X")).get_data(
        as_text=True
    )
    assert "The check digit (last character) is wrong" in html


def test_a_bad_credit_code_is_reported_together_with_other_form_errors(login_as):
    b = login_as("coordinator")
    html = b.post(
        "/directory/units/new", form_data(kind="", credit_code="12990000MB0000001X")
    ).get_data(as_text=True)
    assert 'id="kind-error"' in html and 'id="credit_code-error"' in html


def test_an_empty_unit_form_says_at_the_top_that_fields_need_correcting(login_as):
    """The fields were marked, but the top of the page said nothing (as it does otherwise)."""
    response = login_as("coordinator").post("/directory/units/new", {})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "请更正标出的项目。" in html and 'class="field has-error"' in html
