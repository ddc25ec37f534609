"""Who may open which directory page: a matrix of roles x pages, own unit versus another unit."""

from __future__ import annotations

import pytest

# endpoint -> URL, with {own_unit}, {other_unit}, {own_system}, {other_system}, {dept}, {user} filled in.
PAGES = {
    "directory.units": "/directory/units",
    "directory.unit_show": "/directory/units/{own_unit}",
    "directory.unit_arrival_qr": "/directory/units/{own_unit}/arrival-code.svg",
    "directory.unit_new": "/directory/units/new",
    "directory.unit_edit": "/directory/units/{own_unit}/edit",
    "directory.my_unit": "/directory/my-unit",
    "directory.systems": "/directory/systems",
    "directory.system_show": "/directory/systems/{own_system}",
    "directory.system_new": "/directory/systems/new",
    "directory.system_edit": "/directory/systems/{own_system}/edit",
    "directory.departments": "/directory/departments",
    "directory.department_new": "/directory/departments/new",
    "directory.department_edit": "/directory/departments/{dept}/edit",
    "directory.users": "/directory/users",
    "directory.user_new": "/directory/users/new",
    "directory.user_edit": "/directory/users/{user}/edit",
    "directory.user_password": "/directory/users/{user}/password",
    "directory.user_sign_in": "/directory/users/{user}/sign-in",
    "directory.import_file": "/directory/units/import",
    "directory.import_template": "/directory/units/import/template",
}
READ_PAGES = {
    "directory.units",
    "directory.unit_show",
    "directory.unit_arrival_qr",
    "directory.systems",
    "directory.system_show",
    "directory.departments",
}
WRITE_PAGES = {
    "directory.unit_new",
    "directory.unit_edit",
    "directory.system_new",
    "directory.system_edit",
    "directory.department_new",
    "directory.department_edit",
    "directory.import_file",
}
USER_PAGES = {
    "directory.users",
    "directory.user_new",
    "directory.user_edit",
    "directory.user_password",
    "directory.user_sign_in",
}


@pytest.fixture
def world(app, make):
    with app.app_context():
        own = make.unit(name="本单位")
        other = make.unit(name="别的单位")
        ids = {
            "own_unit": own.id,
            "other_unit": other.id,
            "own_system": make.system(unit=own, name="本单位系统").id,
            "other_system": make.system(unit=other, name="别的单位系统").id,
            "dept": make.department().id,
            "user": make.user(role="viewer").id,
        }
    return ids


def url(endpoint: str, world: dict) -> str:
    return PAGES[endpoint].format(**world)


def test_the_matrix_covers_every_directory_page(app):
    endpoints = {
        r.endpoint for r in app.url_map.iter_rules() if r.endpoint.startswith("directory.")
    }
    assert endpoints == set(PAGES)


@pytest.mark.parametrize("endpoint", sorted(PAGES))
def test_inspectors_get_403_on_every_directory_page(login_as, world, endpoint):
    b = login_as("inspector")
    assert b.get(url(endpoint, world)).status_code == 403


@pytest.mark.parametrize(
    "endpoint",
    sorted(
        WRITE_PAGES
        | {
            "directory.user_new",
            "directory.user_edit",
            "directory.user_password",
            "directory.user_sign_in",
        }
    ),
)
def test_inspectors_get_403_when_posting_to_directory_forms(login_as, world, endpoint):
    assert (
        login_as("inspector").post(url(endpoint, world), {"code": "X", "name": "X"}).status_code
        == 403
    )


@pytest.mark.parametrize("endpoint", sorted(PAGES))
def test_anonymous_visitors_are_sent_to_the_login_page(client, world, endpoint):
    response = client.get(url(endpoint, world))
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


@pytest.mark.parametrize("endpoint", sorted(READ_PAGES))
def test_viewers_read_lists_and_details(login_as, world, endpoint):
    assert login_as("viewer").get(url(endpoint, world)).status_code == 200


@pytest.mark.parametrize(
    "endpoint", sorted(WRITE_PAGES | USER_PAGES | {"directory.import_template"})
)
def test_viewers_get_403_on_edit_create_import_and_accounts(login_as, world, endpoint):
    b = login_as("viewer")
    assert b.get(url(endpoint, world)).status_code == 403
    assert b.post(url(endpoint, world), {"code": "X"}).status_code in (403, 405)


def test_viewers_see_no_edit_buttons(login_as, world):
    html = login_as("viewer").get(url("directory.unit_show", world)).get_data(as_text=True)
    assert "/edit" not in html and "/directory/systems/new" not in html


@pytest.mark.parametrize(
    "endpoint", sorted(READ_PAGES | WRITE_PAGES | USER_PAGES | {"directory.import_template"})
)
def test_coordinators_open_every_page(login_as, world, endpoint):
    assert login_as("coordinator").get(url(endpoint, world)).status_code == 200


def test_unit_user_sees_own_unit_and_system(login_as, world):
    b = login_as("unit", unit_id=world["own_unit"])
    unit_page = b.get(f"/directory/units/{world['own_unit']}")
    assert unit_page.status_code == 200 and "本单位系统" in unit_page.get_data(as_text=True)
    assert b.get(f"/directory/systems/{world['own_system']}").status_code == 200


def test_unit_user_gets_404_on_another_units_unit_and_system(login_as, world):
    b = login_as("unit", unit_id=world["own_unit"])
    assert b.get(f"/directory/units/{world['other_unit']}").status_code == 404
    assert b.get(f"/directory/systems/{world['other_system']}").status_code == 404


def test_unit_user_gets_404_for_a_unit_that_does_not_exist_either(login_as, world):
    b = login_as("unit", unit_id=world["own_unit"])
    assert b.get("/directory/units/999999").status_code == 404


def test_unit_user_lists_only_their_own_unit_and_systems(login_as, world):
    b = login_as("unit", unit_id=world["own_unit"])
    units = b.get("/directory/units").get_data(as_text=True)
    assert "本单位" in units and "别的单位" not in units
    systems = b.get("/directory/systems").get_data(as_text=True)
    assert "本单位系统" in systems and "别的单位系统" not in systems


def test_my_unit_shows_the_unit_users_own_unit_read_only(login_as, world):
    b = login_as("unit", unit_id=world["own_unit"])
    response = b.get("/directory/my-unit")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "本单位系统" in html and "别的单位" not in html
    assert "/edit" not in html


@pytest.mark.parametrize(
    "endpoint", sorted(WRITE_PAGES | USER_PAGES | {"directory.import_template"})
)
def test_unit_users_cannot_edit_even_their_own_unit(login_as, world, endpoint):
    assert login_as("unit", unit_id=world["own_unit"]).get(url(endpoint, world)).status_code == 403


def test_my_unit_sends_office_users_to_the_unit_list(login_as, world):
    response = login_as("viewer").get("/directory/my-unit")
    assert response.status_code == 302 and response.headers["Location"].endswith("/directory/units")
