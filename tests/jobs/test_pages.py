"""The job pages: start, follow (a reload shows the row's numbers), download, refuse others."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import quote

import sqlalchemy as sa

from inspect_app.extensions import db
from inspect_app.jobs import services
from inspect_app.models import Job, utcnow

from .kinds import COUNT, FAIL_MESSAGE, expected_bytes, file_name


def _job(app, owner_id: int, **kw) -> str:
    """A job row in whatever state a test needs; returns its id."""
    params = kw.pop("params", {"rows": 288000})
    with app.app_context():
        job = Job(
            kind=COUNT,
            owner_id=owner_id,
            params=params,
            params_key=services.params_key(COUNT, params),
            locale="zh_Hans_CN",
            **kw,
        )
        db.session.add(job)
        db.session.commit()
        return job.id


def _running(app, owner_id: int, done=12000, total=288000) -> str:
    now = utcnow()
    return _job(
        app, owner_id, status="running", done=done, total=total, started_at=now, heartbeat_at=now
    )


def _get(browser, url):
    """GET and close (a file response holds its file open until closed)."""
    response = browser.get(url)
    response.get_data()
    response.close()
    return response


def _start(browser, rows="25", **params):
    return browser.post("/jobs/start", {"kind": COUNT, "rows": rows, **params})


def test_coordinator_starts_a_job_and_downloads_its_file(login_as):
    coordinator = login_as("coordinator")
    response = _start(coordinator)
    assert response.status_code == 302
    page_url = response.headers["Location"]
    assert re.fullmatch(r"/jobs/[0-9a-f-]{36}", page_url)

    html = coordinator.get(page_url).get_data(as_text=True)
    assert "已完成" in html and "已写 25 / 25 行" in html
    assert 'http-equiv="refresh"' not in html and "jobs.js" not in html  # nothing to follow
    download = f"{page_url}/file"
    assert f'href="{download}"' in html

    response = _get(coordinator, download)
    assert response.status_code == 200
    assert response.data == expected_bytes(25)
    assert response.mimetype == "text/csv"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"filename*=UTF-8''{quote(file_name(25))}" in disposition  # RFC 5987
    assert response.headers["Cache-Control"] == "private, no-store"


def test_the_page_of_a_running_job_shows_the_rows_numbers_on_every_reload(app, login_as):
    coordinator = login_as("coordinator")
    job_id = _running(app, coordinator.user_id)
    for _ in range(2):  # a reload reads the row again: nothing lives in the page
        html = coordinator.get(f"/jobs/{job_id}").get_data(as_text=True)
        assert "已写 12,000 / 288,000 行" in html
        assert '<progress max="288000" value="12000"' in html
        assert f'data-job-poll="/jobs/{job_id}/status"' in html
        assert "js/jobs.js" in html  # the poller, as a module: no inline script
        assert '<noscript><meta http-equiv="refresh" content="5"></noscript>' in html
    status = coordinator.get(f"/jobs/{job_id}/status").get_json()
    assert status == {
        "id": job_id,
        "status": "running",
        "status_label": "进行中",
        "done": 12000,
        "total": 288000,
        "percent": 4,
        "text": "已写 12,000 / 288,000 行",
        "error": None,
        "download_url": None,
    }
    with app.app_context():  # the consumer writes progress; the next poll sees it
        db.session.execute(sa.update(Job).where(Job.id == job_id).values(done=144000))
        db.session.commit()
    assert (
        coordinator.get(f"/jobs/{job_id}/status").get_json()["text"] == "已写 144,000 / 288,000 行"
    )


def test_the_job_page_speaks_english_to_an_english_reader(app, login_as):
    coordinator = login_as("coordinator", locale="en")
    job_id = _running(app, coordinator.user_id)
    html = coordinator.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "12,000 / 288,000 rows written" in html and "Running" in html


def test_a_job_nobody_has_taken_for_long_says_the_job_runner_may_be_down(app, login_as):
    coordinator = login_as("coordinator")
    long_ago = utcnow() - timedelta(hours=1)
    job_id = _job(app, coordinator.user_id, status="queued", created_at=long_ago)
    html = coordinator.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "flask jobs worker" in html


def test_other_users_get_404_for_a_job_and_its_file_and_admins_may_look(app, login_as):
    coordinator = login_as("coordinator")
    page_url = _start(coordinator).headers["Location"]
    for role in ("coordinator", "viewer", "inspector", "unit"):
        other = login_as(role)
        for url in (page_url, f"{page_url}/status", f"{page_url}/file"):
            assert _get(other, url).status_code == 404, (role, url)
        assert other.post(f"{page_url}/again").status_code == 404
    admin = login_as("admin")
    assert admin.get(page_url).status_code == 200
    assert _get(admin, f"{page_url}/file").status_code == 200
    assert coordinator.get("/jobs/not-a-job").status_code == 404
    assert coordinator.get("/jobs/" + "x" * 300).status_code == 404


def test_anonymous_clients_are_sent_to_log_in(app, client, login_as):
    page_url = _start(login_as("coordinator")).headers["Location"]
    for url in ("/jobs/", page_url, f"{page_url}/status", f"{page_url}/file"):
        response = client.get(url)
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_an_expired_file_is_refused_and_the_job_can_be_started_again(app, login_as):
    coordinator = login_as("coordinator")
    page_url = _start(coordinator).headers["Location"]
    job_id = page_url.rsplit("/", 1)[1]
    with app.app_context():
        db.session.execute(
            sa.update(Job)
            .where(Job.id == job_id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()
    response = coordinator.get(f"{page_url}/file")
    assert response.status_code == 410
    assert "文件已过期删除" in response.get_data(as_text=True)

    with app.app_context():
        services.cleanup()
    html = coordinator.get(page_url).get_data(as_text=True)
    assert "已过期" in html and "重新开始" in html
    assert coordinator.get(f"{page_url}/file").status_code == 410
    again = coordinator.post(f"{page_url}/again")
    assert again.status_code == 302 and again.headers["Location"] != page_url
    assert _get(coordinator, again.headers["Location"] + "/file").data == expected_bytes(25)


def test_a_failed_job_shows_the_builders_message(login_as):
    coordinator = login_as("coordinator")
    page_url = _start(coordinator, rows="10", fail="1").headers["Location"]
    html = coordinator.get(page_url).get_data(as_text=True)
    assert "失败" in html and FAIL_MESSAGE.format(n=6) in html
    assert coordinator.get(f"{page_url}/file").status_code == 409


def test_starting_a_job_that_is_under_way_leads_to_it(app, login_as):
    coordinator = login_as("coordinator")
    job_id = _running(app, coordinator.user_id, total=25)
    with app.app_context():  # the same parameters as the form sends below
        db.session.execute(
            sa.update(Job)
            .where(Job.id == job_id)
            .values(params={"rows": 25}, params_key=services.params_key(COUNT, {"rows": 25}))
        )
        db.session.commit()
    response = _start(coordinator, rows="25")
    assert response.headers["Location"] == f"/jobs/{job_id}"
    assert "已在进行" in coordinator.get(f"/jobs/{job_id}").get_data(as_text=True)


def test_bad_starts_are_refused_with_a_message(login_as):
    coordinator = login_as("coordinator")
    response = coordinator.post("/jobs/start", {"kind": "no.such.kind"})
    assert response.status_code == 400 and "没有这种任务" in response.get_data(as_text=True)
    response = _start(coordinator, rows="lots")
    assert response.status_code == 400
    assert login_as("unit").post("/jobs/start", {"kind": COUNT, "rows": "3"}).status_code == 403
    assert coordinator.client.post("/jobs/start", data={"kind": COUNT}).status_code == 400  # CSRF


def test_my_exports_lists_only_my_own_jobs(app, login_as):
    coordinator, other = login_as("coordinator"), login_as("coordinator")
    _start(coordinator, rows="3")
    _running(app, other.user_id)
    html = coordinator.get("/jobs/").get_data(as_text=True)
    assert "测试导出（3 行）" in html and file_name(3) in html
    assert "288000" not in html and "288,000" not in html
    assert "288,000" in other.get("/jobs/").get_data(as_text=True)
    html = login_as("viewer").get("/jobs/").get_data(as_text=True)
    assert "我的导出" in html and "你还没有要过导出文件" in html
