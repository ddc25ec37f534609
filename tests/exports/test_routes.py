"""Downloads over HTTP: who gets which workbook, file names (RFC 5987), bad input as a 4xx."""

from __future__ import annotations

import io

from python_calamine import CalamineWorkbook

from inspect_app.extensions import db
from inspect_app.models import User

from ..conftest import Browser
from .conftest import YEAR


def _as(app, user_id: int) -> Browser:
    with app.app_context():
        username = db.session.get(User, user_id).username
    browser = Browser(app.test_client())
    browser.login(username)
    return browser


def _sheets(response) -> list[str]:
    body = response.get_data()
    response.close()  # closes the sent file
    return CalamineWorkbook.from_filelike(io.BytesIO(body)).sheet_names


def test_a_coordinator_starts_the_round_workbook_as_a_job_and_downloads_it(app, web_data):
    web = _as(app, web_data["users"]["office"])
    page = web.get(f"/exports/?year={YEAR}")
    assert page.status_code == 200 and "第3轮" in page.get_data(as_text=True)
    started = web.post("/exports/start", {"kind": "export.round", "year": YEAR, "seq": 3})
    assert started.status_code == 302 and "/jobs/" in started.headers["Location"]
    job_page = web.get(started.headers["Location"]).get_data(as_text=True)  # immediate in tests
    assert "行" in job_page
    again = web.post("/exports/start", {"kind": "export.round", "year": YEAR, "seq": 3})
    assert again.headers["Location"] != started.headers["Location"]  # done: a new job
    response = web.get(started.headers["Location"] + "/file")
    assert response.status_code == 200, response.get_data(as_text=True)[-800:]
    assert response.mimetype.endswith("spreadsheetml.sheet")
    disposition = response.headers["Content-Disposition"]
    assert "filename*=UTF-8''2026%E5%B9%B4%E7%AC%AC3%E8%BD%AE" in disposition
    assert _sheets(response)[:2] == ["说明", "汇总"]


def test_a_workbook_started_in_english_is_written_in_english(app, web_data):
    """The job said locale=en, but its parameters were checked with the default language and
    carried zh_Hans_CN: every sheet came out in Chinese."""
    web = _as(app, web_data["users"]["office"])
    web.get("/exports/?lang=en")  # the language sticks to the session
    for kind, params, first_sheet in (
        ("export.round", {"year": YEAR, "seq": 3}, "About"),
        ("export.year", {"year": YEAR}, "About"),
    ):
        started = web.post("/exports/start", {"kind": kind, **params})
        assert started.status_code == 302, started.get_data(as_text=True)[-400:]
        response = web.get(started.headers["Location"] + "/file")
        assert response.status_code == 200
        assert _sheets(response)[0] == first_sheet, kind


def test_an_unknown_round_is_a_400_naming_it(app, web_data):
    web = _as(app, web_data["users"]["office"])
    response = web.post("/exports/start", {"kind": "export.round", "year": 2031, "seq": 2})
    assert response.status_code == 400
    assert "2031年没有第2轮检查。" in response.get_data(as_text=True)
    response = web.post("/exports/start", {"kind": "export.nothing", "year": YEAR})
    assert response.status_code == 400


def test_a_unit_user_downloads_its_own_ledger_from_home(app, web_data):
    web = _as(app, web_data["users"]["liaison1"])
    home = web.get("/").get_data(as_text=True)
    link = f"/exports/units/{web_data['units']['u1']}/ledger.xlsx"
    assert link in home
    response = web.get(link)
    assert response.status_code == 200
    assert _sheets(response) == ["说明", "问题清单", "整改台账"]
    assert web.get(f"/exports/units/{web_data['units']['u2']}/ledger.xlsx").status_code == 404
    assert web.post("/exports/start", {"kind": "export.year", "year": YEAR}).status_code == 403


def test_the_record_page_links_its_workbook(app, web_data):
    web = _as(app, web_data["users"]["office"])
    inspection_id = web_data["inspections"]["i1"]
    page = web.get(f"/inspections/{inspection_id}/record").get_data(as_text=True)
    assert f"/exports/inspections/{inspection_id}.xlsx" in page
    response = web.get(f"/exports/inspections/{inspection_id}.xlsx")
    assert response.status_code == 200
    assert _sheets(response)[1] == "检查明细"


def test_a_workbook_download_is_never_compressed_even_when_the_browser_accepts_it(app, web_data):
    """Compression (Flask-Compress) is for text; a streamed workbook goes out as it is."""
    web = _as(app, web_data["users"]["office"])
    inspection_id = web_data["inspections"]["i1"]
    response = web.get(
        f"/exports/inspections/{inspection_id}.xlsx", headers={"Accept-Encoding": "br, gzip"}
    )
    assert response.status_code == 200 and "Content-Encoding" not in response.headers
    assert _sheets(response)[1] == "检查明细"


def test_a_workbook_sent_from_the_request_is_on_record_like_a_jobs_download(app, web_data):
    """An inspection's record and a unit's ledger are built in the request; who downloaded
    which is an audit event (export.download), as a job's file is (job.download). A refused
    download records nothing, and neither changes a dashboard figure."""
    import sqlalchemy as sa

    from inspect_app.audit.services import may_change_figures
    from inspect_app.models import AuditEvent

    def downloads() -> list[tuple]:
        with app.app_context():
            return db.session.execute(
                sa.select(
                    AuditEvent.actor_name,
                    AuditEvent.object_type,
                    AuditEvent.object_id,
                    AuditEvent.unit_id,
                    AuditEvent.after,
                )
                .where(AuditEvent.action == "export.download")
                .order_by(AuditEvent.id)
            ).all()

    office = _as(app, web_data["users"]["office"])
    inspection_id = web_data["inspections"]["i1"]
    office.get(f"/exports/inspections/{inspection_id}.xlsx").close()
    liaison = _as(app, web_data["users"]["liaison1"])
    unit_id = web_data["units"]["u1"]
    liaison.get(f"/exports/units/{unit_id}/ledger.xlsx?year={YEAR}").close()
    assert liaison.get(f"/exports/units/{web_data['units']['u2']}/ledger.xlsx").status_code == 404
    (first, second) = downloads()
    assert first[1:3] == ("Inspection", str(inspection_id))
    assert first[4]["kind"] == "export.inspection" and first[4]["file_name"].endswith(".xlsx")
    assert second[1:4] == ("Unit", str(unit_id), unit_id)  # the unit sees it in its own log
    assert second[4]["kind"] == "export.unit_ledger" and second[4]["year"] == YEAR
    assert not may_change_figures("export.download")
    # an inspection not yet on record (planned): the unit does not see it, nor its download
    with app.app_context():
        from inspect_app.models import Inspection

        planned = db.session.scalar(
            sa.select(Inspection.id).where(
                Inspection.unit_id == unit_id, Inspection.status == "planned"
            )
        )
    office.get(f"/exports/inspections/{planned}.xlsx").close()
    third = downloads()[2]
    assert third[1:4] == ("Inspection", str(planned), None)  # untagged: not in the unit's log
