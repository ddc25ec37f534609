"""A coordinator starts an export, reloads its page, watches the bar finish and downloads the
file, with a real job consumer (`flask jobs worker` in a subprocess) behind the live server.

The export pages that offer the start button come with the exports; this test posts the same
form they will (kind + parameters) and follows the page from there."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from ..jobs.kinds import COUNT, expected_bytes, file_name, register_test_kinds
from ..jobs.worker_app import start_worker, stop_worker
from .test_smoke import _login

ROWS = 20000
SHOTS = os.environ.get("JOBS_SCREENSHOTS")  # a folder: keep screenshots of the pages there


@pytest.fixture
def real_queue(live_app, tmp_path):
    """The live server enqueues into a SQLite queue file that a consumer process works off."""
    from inspect_app.jobs.queue import Runtime

    register_test_kinds()
    keys = ("JOBS_IMMEDIATE", "JOBS_SQLITE_FILE", "JOBS_PROGRESS_INTERVAL")
    saved, saved_runtime = {k: live_app.config[k] for k in keys}, live_app.extensions["jobs"]
    live_app.config.update(
        JOBS_IMMEDIATE=False,
        JOBS_SQLITE_FILE=str(tmp_path / "jobs.sqlite"),
        JOBS_PROGRESS_INTERVAL=0.1,
    )
    live_app.extensions["jobs"] = Runtime(live_app)
    worker = start_worker(live_app.config, tmp_path / "worker.log")
    yield
    stop_worker(worker)
    live_app.config.update(saved)
    live_app.extensions["jobs"] = saved_runtime
    print((tmp_path / "worker.log").read_text(errors="replace")[-3000:])


def _bar(page) -> tuple[float, float]:
    script = "() => { const b = document.querySelector('progress'); return [b.value, b.max]; }"
    return tuple(page.evaluate(script))


def test_coordinator_starts_an_export_reloads_watches_the_bar_finish_and_downloads(
    tablet, real_queue
):
    _login(tablet, "coordinator")
    tablet.goto("/jobs/")
    token = tablet.locator('meta[name="csrf-token"]').get_attribute("content")
    started = tablet.request.post(
        "/jobs/start",
        form={"csrf_token": token, "kind": COUNT, "rows": str(ROWS), "delay": "0.5"},
        max_redirects=0,
    )
    assert started.status == 302
    job_url = started.headers["location"]
    tablet.goto(job_url)

    # The bar moves while the consumer writes rows (polled, no reload).
    tablet.wait_for_function(
        "() => { const b = document.querySelector('progress');"
        " return b && b.max > 1 && b.value > 0 && b.value < b.max; }",
        timeout=30000,
    )
    value, total = _bar(tablet)
    assert total == ROWS
    text = tablet.locator("[data-job-text]").inner_text()
    assert re.fullmatch(r"已写 [\d,]+ / 20,000 行", text)

    tablet.reload()  # the numbers come from the job's row: a reload keeps them
    reloaded, _total = _bar(tablet)
    if SHOTS:
        tablet.screenshot(path=f"{SHOTS}/job-running.png", full_page=True)
    assert reloaded >= value > 0

    # When the job is done the page reloads itself and offers the file.
    link = tablet.get_by_role("link", name=re.compile("下载"))
    link.wait_for(timeout=60000)
    assert _bar(tablet) == (ROWS, ROWS)
    assert "已写 20,000 / 20,000 行" in tablet.locator("[data-job-text]").inner_text()
    if SHOTS:
        tablet.screenshot(path=f"{SHOTS}/job-done.png", full_page=True)
    with tablet.expect_download() as info:
        link.click()
    download = info.value
    assert download.suggested_filename == file_name(ROWS)
    assert Path(download.path()).read_bytes() == expected_bytes(ROWS)

    tablet.goto("/jobs/")
    assert tablet.get_by_role("link", name=file_name(ROWS)).is_visible()


def test_coordinator_makes_the_year_workbook_reloads_and_downloads_it(tablet, real_queue):
    """Issue 9, done when: a coordinator starts a year export in the browser, reloads the page,
    watches the bar finish and downloads the file — the real year workbook of the demo data."""
    import io

    from openpyxl import load_workbook

    from inspect_app.clock import local_today

    _login(tablet, "coordinator")
    tablet.goto("/exports/")
    year = local_today().year
    tablet.get_by_role("button", name=re.compile(f"{year}")).first.click()
    tablet.wait_for_url(re.compile(r"/jobs/[0-9a-f-]+$"))
    tablet.reload()
    assert tablet.locator("progress").count() == 1
    link = tablet.get_by_role("link", name=re.compile("下载"))
    link.wait_for(timeout=120000)
    value, total = _bar(tablet)
    assert value == total > 0
    with tablet.expect_download() as info:
        link.click()
    download = info.value
    assert (
        download.suggested_filename.endswith(".xlsx") and str(year) in download.suggested_filename
    )
    book = load_workbook(io.BytesIO(Path(download.path()).read_bytes()), read_only=True)
    assert "整改台账" in book.sheetnames and "年度汇总" in book.sheetnames
