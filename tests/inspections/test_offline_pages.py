"""What the pages give offline.js to keep for offline use (issue 12 §1)."""

from ..conftest import Browser


def test_filling_page_names_its_guidance_and_submit_page_for_offline_use(app, setup):
    b = Browser(app.test_client())
    b.login(setup["lead"])
    i = setup["inspection"]
    html = b.get(f"/inspections/{i}").get_data(as_text=True)
    assert (
        f'data-offline="/inspections/{i}/guidance?format=json /inspections/{i}/guidance '
        f'/inspections/{i}/submit"' in html
    )
    assert f'data-submission="{i}"' in html
    assert 'id="offline-i18n"' in html and "data-sw-version" in html


def test_my_inspections_offers_prepare_offline_for_editable_inspections_only(app, setup):
    b = Browser(app.test_client())
    b.login(setup["lead"])
    i = setup["inspection"]
    html = b.get("/inspections/").get_data(as_text=True)
    assert 'data-offline=""' in html  # the list keeps itself
    assert "准备离线" in html and 'id="prepare-i18n"' in html
    assert f'data-offline-id="{i}"' in html
    assert f'data-offline-urls="/inspections/{i} /inspections/{i}/guidance' in html


def test_submit_page_can_queue_a_submission_offline(app, setup):
    b = Browser(app.test_client())
    b.login(setup["lead"])
    i = setup["inspection"]
    html = b.get(f"/inspections/{i}/submit").get_data(as_text=True)
    assert f'data-offline-submit data-inspection="{i}"' in html
    assert "submit-offline.js" in html and 'id="submit-i18n"' in html
