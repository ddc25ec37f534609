"""A field day offline (issue 12 §1): a filling page opened once survives an offline reload,
pages not kept show the app's own offline page, 准备离线 stores every editable inspection,
changes waiting show on every page with Sync now, a submission made offline is sent once when
the network is back, and a new service-worker version loses nothing."""

from __future__ import annotations

import time

import sqlalchemy as sa

from inspect_app.extensions import db
from inspect_app.models import (
    Answer,
    Attachment,
    AuditEvent,
    Finding,
    Inspection,
    Round,
    Unit,
    User,
)

from ..factories import Factory
from ..inspections.test_fill_page import shipped_items
from .conftest import IPAD
from .test_offline import _photo
from .test_smoke import _login

# Distinct units, so each test has its own inspections whatever the order.
UNITS = {
    "first": "U013",
    "prepare": ("U012", "U011"),
    "submit": "U010",
    "update": "U009",
    "switch": "U008",
    "claimed": "U007",
    "conflict": "U006",
    "conflict_kept": "U005",
}

OUTBOX = """async () => {
  const db = await new Promise((ok, ko) => {
    const r = indexedDB.open("inspect-outbox");
    r.onsuccess = () => ok(r.result);
    r.onerror = () => ko(r.error);
  });
  const count = async (name) => {
    if (!db.objectStoreNames.contains(name)) return [];
    return new Promise((ok) => {
      const r = db.transaction(name).objectStore(name).getAll();
      r.onsuccess = () => ok(r.result);
    });
  };
  const changes = await count("changes");
  const noted = new Set(changes.filter((c) => c.fields.note).map((c) => c.item_id));
  const out = {changes: changes.length, noted: noted.size, photos: (await count("photos")).length,
               submissions: (await count("submissions")).length};
  db.close();
  return out;
}"""


def _inspection(live_app, code: str, n: int) -> int:
    """An n-item inspection of unit `code` led by inspector1, with inspector2 in the team."""
    with live_app.app_context():
        make = Factory()
        items = shipped_items(n)
        for item in items:
            item["evidence"] = "optional"
        template = make.template(key=f"OFF{code}", items=items, title=f"{n} 项离线清单")
        users = [
            db.session.scalar(sa.select(User).where(User.username == name))
            for name in ("inspector1", "inspector2")
        ]
        rnd = db.session.scalar(sa.select(Round).order_by(Round.year.desc(), Round.seq.desc()))
        unit = db.session.scalar(sa.select(Unit).where(Unit.code == code))
        inspection = make.inspection(template=template, unit=unit, round=rnd, members=users)
        inspection_id = inspection.id
        db.session.remove()
    return inspection_id


def _fresh_context(browser, live_server, username: str):
    """A tablet logged in as `username` on which no page has been opened yet: the login happens
    in another context, whose cookies are carried over (no service worker, no cache)."""
    login = browser.new_context(**IPAD, base_url=live_server, locale="zh-CN")
    page = login.new_page()
    _login(page, username)
    state = login.storage_state()
    login.close()
    return browser.new_context(
        **IPAD,
        base_url=live_server,
        locale="zh-CN",
        service_workers="allow",
        storage_state=state,
    )


def _until(page, script: str, arg=None, timeout: float = 20) -> None:
    """Poll an async page function until it resolves truthy (wait_for_function does not wait
    for promises)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(script, arg):
        assert time.monotonic() < deadline, f"timed out: {script}"
        time.sleep(0.2)


def _wait_cached(page, url: str) -> None:
    _until(
        page,
        "async (url) => !!(await navigator.serviceWorker.getRegistration())?.active"
        " && !!(await caches.match(url))",
        url,
    )


def _wait_state(page, kind: str) -> None:
    page.wait_for_function(
        "(kind) => document.querySelector('[data-save-state]')?.dataset.kind === kind",
        arg=kind,
        timeout=30000,
    )


def _wait_saved(page) -> None:
    _wait_state(page, "saved")


def test_a_first_page_claimed_by_the_worker_before_its_scripts_ran_is_still_kept(
    browser, live_server, live_app
):
    """The worker may install and claim the page before offline.js has run (a slow script on a
    busy tablet): the page did not come through the worker, so it must still be stored."""
    inspection_id = _inspection(live_app, UNITS["claimed"], 3)
    url = f"/inspections/{inspection_id}"
    context = _fresh_context(browser, live_server, "inspector2")
    page = context.new_page()
    released = []

    def slow_offline_js(route):
        if not released:
            # Held until the worker controls the page.
            _until(page, "() => !!navigator.serviceWorker.controller")
            released.append(True)
        route.continue_()

    try:
        page.route("**/static/js/offline.js", slow_offline_js)
        page.goto(url)
        page.wait_for_selector("#fill-form")
        _until(page, "() => !!navigator.serviceWorker.controller")
        _wait_cached(page, url)
    finally:
        context.close()


def test_first_visit_survives_an_offline_reload_and_forty_answers_sync(
    browser, live_server, live_app
):
    inspection_id = _inspection(live_app, UNITS["first"], 40)
    url = f"/inspections/{inspection_id}"
    context = _fresh_context(browser, live_server, "inspector2")
    page = context.new_page()
    try:
        page.goto(url)  # the first page of this tablet: not yet controlled by the worker
        page.wait_for_selector("#fill-form")
        _wait_cached(page, url)
        _wait_cached(page, "/inspections/")  # "我的检查" is kept too, though not opened yet
        context.set_offline(True)
        items = page.locator("fieldset.q")
        assert items.count() == 40
        for n in range(40):
            item = items.nth(n)
            item.get_by_text("符合", exact=True).click()
            item.locator("textarea[name^=n]").fill(f"离线备注 {n + 1}")
        items.nth(5).locator("input[type=file]").set_input_files(
            files=[{"name": "photo.jpg", "mimeType": "image/jpeg", "buffer": _photo()}]
        )
        page.wait_for_selector("fieldset.q >> nth=5 >> [data-pending] img")
        _until(page, f"() => ({OUTBOX})().then((o) => o.noted === 40 && o.photos === 1)")
        # Changes waiting show above the page, with Sync now.
        bar = page.locator("[data-pending-bar]")
        bar.wait_for()
        assert "条待同步" in bar.inner_text()

        page.reload()  # offline: the page comes from the cache, the answers from the outbox
        _wait_state(page, "offline")
        items = page.locator("fieldset.q")
        for n in range(40):
            assert items.nth(n).locator("input[value=c]").is_checked()
            assert items.nth(n).locator("textarea[name^=n]").input_value() == f"离线备注 {n + 1}"
        page.wait_for_selector("fieldset.q >> nth=5 >> [data-pending] img")

        context.set_offline(False)
        page.evaluate("() => window.dispatchEvent(new Event('online'))")
        _wait_saved(page)
        page.wait_for_selector("fieldset.q >> nth=5 >> [data-att] img", timeout=20000)
        _until(page, f"() => ({OUTBOX})().then((o) => o.changes === 0 && o.photos === 0)")
        page.wait_for_selector("[data-pending-bar]", state="hidden")
        _server_has_forty_answers_and_a_photo(live_app, inspection_id)

        # The kept copy is refreshed once all is saved: offline again, a reload shows the
        # answers as the server has them (nothing waits in the outbox any more).
        _until(
            page,
            """async (url) => {
              const r = await caches.match(url);
              return r && (await r.text()).includes("离线备注 40");
            }""",
            url,
        )
        context.set_offline(True)
        page.reload()
        assert page.locator("fieldset.q").nth(39).locator("input[value=c]").is_checked()

        # A page that was never stored: the app's own offline page, not a browser error.
        page.goto("/audit/")
        assert page.locator("h1").inner_text() == "您已离线"
        page.get_by_role("link", name="我的检查").last.click()
        page.wait_for_selector("h1:has-text('我的检查')")
    finally:
        context.close()


def _server_has_forty_answers_and_a_photo(live_app, inspection_id: int) -> None:
    with live_app.app_context():
        answers = db.session.scalars(
            sa.select(Answer).where(Answer.inspection_id == inspection_id)
        ).all()
        assert len(answers) == 40
        assert {a.result for a in answers} == {"compliant"}
        assert sorted(a.note for a in answers) == sorted(f"离线备注 {n + 1}" for n in range(40))
        photos = db.session.scalars(
            sa.select(Attachment).where(
                Attachment.inspection_id == inspection_id, Attachment.kind == "photo"
            )
        ).all()
        assert len(photos) == 1 and photos[0].answer_id is not None
        db.session.remove()


def _sign_and_submit(page) -> None:
    page.get_by_label("被检查单位代表姓名（正楷）").fill("赵代表")
    box = page.locator("canvas.signature").bounding_box()
    page.mouse.move(box["x"] + 30, box["y"] + 100)
    page.mouse.down()
    for x in range(40, 300, 20):
        page.mouse.move(box["x"] + x, box["y"] + 60 + (x % 60))
    page.mouse.up()
    page.get_by_label("本人作为检查组组长，确认以上检查结果和问题。").check()
    page.locator("form[data-offline-submit] button[type=submit]").click()


def test_submission_offline_waits_for_the_answers_is_refused_then_sent_once(
    browser, live_server, live_app
):
    inspection_id = _inspection(live_app, UNITS["submit"], 5)
    url = f"/inspections/{inspection_id}"
    context = _fresh_context(browser, live_server, "inspector1")  # the lead
    page = context.new_page()
    try:
        page.goto(url)
        page.wait_for_selector("#fill-form")
        _wait_cached(page, f"{url}/submit")
        context.set_offline(True)
        items = page.locator("fieldset.q")
        items.nth(0).get_by_text("不符合", exact=True).click()
        page.wait_for_selector("fieldset.q >> nth=0 >> .nc")
        for n in range(1, 4):  # the fifth item stays unanswered
            items.nth(n).get_by_text("符合", exact=True).click()
        _until(page, f"() => ({OUTBOX})().then((o) => o.changes >= 4)")

        page.locator(f"a[href$='{url}/submit']").click()  # offline: the kept submit page
        page.wait_for_url(f"**{url}/submit")
        _sign_and_submit(page)
        page.wait_for_url(f"**{url}")
        banner = page.locator(f"[data-submission='{inspection_id}']")
        page.wait_for_selector(f"[data-submission='{inspection_id}'] .flash")
        assert "待上传提交" in banner.inner_text()
        assert "条待同步" in page.locator("[data-pending-bar]").inner_text()

        # Back online: the answers go first, then the submission, which the server refuses;
        # the tablet says what is missing and links to the item.
        context.set_offline(False)
        page.evaluate("() => window.dispatchEvent(new Event('online'))")
        page.wait_for_selector(f"[data-submission='{inspection_id}'] .flash-error", timeout=30000)
        assert "提交被拒绝" in banner.inner_text()
        missing = banner.locator("a")
        assert missing.count() == 1
        assert missing.get_attribute("href").endswith(
            "#" + page.locator("fieldset.q").nth(4).get_attribute("id")
        )

        # Offline again: answer what was missing, submit again; online: submitted once.
        context.set_offline(True)
        missing.click()
        items.nth(4).get_by_text("符合", exact=True).click()
        _until(page, f"() => ({OUTBOX})().then((o) => o.changes >= 1)")
        page.locator(f"a[href$='{url}/submit']").click()
        page.wait_for_url(f"**{url}/submit")
        _sign_and_submit(page)
        page.wait_for_url(f"**{url}")
        page.wait_for_selector(f"[data-submission='{inspection_id}'] .flash-warning")
        page.reload()  # still offline: the submission waits on the device
        page.wait_for_selector(f"[data-submission='{inspection_id}'] .flash-warning")
        context.set_offline(False)
        page.evaluate("() => window.dispatchEvent(new Event('online'))")
        page.wait_for_url(f"**{url}/record", timeout=30000)
        _until(page, f"() => ({OUTBOX})().then((o) => !o.changes && !o.photos && !o.submissions)")
    finally:
        context.close()
    with live_app.app_context():
        inspection = db.session.get(Inspection, inspection_id)
        assert inspection.status == "submitted" and inspection.signatory_name == "赵代表"
        assert db.session.query(Finding).filter_by(inspection_id=inspection_id).count() == 1
        submits = db.session.scalars(
            sa.select(AuditEvent).where(
                AuditEvent.action == "inspection.submit",
                AuditEvent.object_id == str(inspection_id),
            )
        ).all()
        assert len(submits) == 1
        db.session.remove()


def test_an_answer_met_by_a_conflict_offline_is_kept_and_holds_back_the_submission(
    browser, live_server, live_app
):
    """The inspector's offline answer met a colleague's change: the page dropped it from the
    device, said "all changes saved", and that sent the submission made offline, without the
    problem found (no finding, no rectification item)."""
    inspection_id = _inspection(live_app, UNITS["conflict"], 2)
    url = f"/inspections/{inspection_id}"
    context = _fresh_context(browser, live_server, "inspector1")  # the lead
    other = _fresh_context(browser, live_server, "inspector2")
    page, colleague = context.new_page(), other.new_page()
    try:
        page.goto(url)
        page.wait_for_selector("#fill-form")
        _wait_cached(page, f"{url}/submit")
        items = page.locator("fieldset.q")
        for n in range(2):
            items.nth(n).get_by_text("符合", exact=True).click()
        _wait_saved(page)
        context.set_offline(True)
        items.nth(0).get_by_text("不符合", exact=True).click()
        page.wait_for_selector("fieldset.q >> nth=0 >> .nc")
        _until(page, f"() => ({OUTBOX})().then((o) => o.changes >= 1)")
        colleague.goto(url)  # meanwhile, online, a note on the same item
        colleague.locator("fieldset.q").nth(0).locator("textarea[name^='n']").fill("同事的备注")
        _wait_saved(colleague)
        page.locator(f"a[href$='{url}/submit']").click()
        page.wait_for_url(f"**{url}/submit")
        _sign_and_submit(page)
        page.wait_for_url(f"**{url}")
        page.wait_for_selector(f"[data-submission='{inspection_id}'] .flash")

        context.set_offline(False)
        page.evaluate("() => window.dispatchEvent(new Event('online'))")
        mine = page.locator("fieldset.q >> nth=0 >> .mine")
        mine.wait_for(timeout=30000)
        page.wait_for_timeout(4000)  # a "saved" state sent the submission 3 s after it
        assert page.url.endswith(url)
        assert page.locator("[data-save-state]").get_attribute("data-kind") == "failed"
        assert "被他人修改" in page.locator("[data-save-state]").inner_text()
        page.reload()  # kept on the device, still offered
        mine.wait_for(timeout=30000)
        with live_app.app_context():
            assert db.session.get(Inspection, inspection_id).status == "in_progress"
            db.session.remove()

        mine.get_by_role("button", name="采用我的答案").click()
        page.wait_for_url(f"**{url}/record", timeout=30000)  # then the submission goes
    finally:
        context.close()
        other.close()
    with live_app.app_context():
        inspection = db.session.get(Inspection, inspection_id)
        assert inspection.status == "submitted"
        first = db.session.scalars(
            sa.select(Answer).where(Answer.inspection_id == inspection_id).order_by(Answer.item_id)
        ).first()
        assert (first.result, first.note) == ("noncompliant", "同事的备注")
        assert db.session.query(Finding).filter_by(inspection_id=inspection_id).count() == 1
        db.session.remove()


def test_keeping_the_current_answer_ends_a_conflict_and_says_saved(browser, live_server, live_app):
    inspection_id = _inspection(live_app, UNITS["conflict_kept"], 1)
    url = f"/inspections/{inspection_id}"
    context = _fresh_context(browser, live_server, "inspector1")
    other = _fresh_context(browser, live_server, "inspector2")
    page, colleague = context.new_page(), other.new_page()
    try:
        page.goto(url)
        colleague.goto(url)
        colleague.locator("fieldset.q").nth(0).get_by_text("不适用", exact=True).click()
        _wait_saved(colleague)
        page.locator("fieldset.q").nth(0).get_by_text("符合", exact=True).click()
        mine = page.locator("fieldset.q >> nth=0 >> .mine")
        mine.wait_for(timeout=30000)
        _wait_state(page, "failed")
        mine.get_by_role("button", name="保留现有答案").click()
        _wait_saved(page)
        _until(page, f"() => ({OUTBOX})().then((o) => !o.changes)")
        page.reload()
        page.wait_for_selector("#fill-form")
        assert page.locator(".mine").count() == 0
    finally:
        context.close()
        other.close()
    with live_app.app_context():
        [answer] = db.session.scalars(
            sa.select(Answer).where(Answer.inspection_id == inspection_id)
        )
        assert answer.result == "not_applicable"
        db.session.remove()


def test_prepare_offline_then_fill_two_inspections_from_my_list_and_sync_now(
    browser, live_server, live_app
):
    first, second = (_inspection(live_app, code, 5) for code in UNITS["prepare"])
    context = _fresh_context(browser, live_server, "inspector2")
    page = context.new_page()
    try:
        page.goto("/inspections/")
        page.get_by_role("button", name="准备离线").click()
        state = page.locator("[data-prepare-state]")
        page.wait_for_function(
            "() => document.querySelector('[data-prepare-state]').textContent.includes('已在本设备上存储')",
            timeout=150000,  # every editable inspection of inspector2: a dozen, 4 pages each
        )
        for inspection_id in (first, second):
            mark = page.locator(f"[data-offline-id='{inspection_id}'] [data-offline-state]")
            mark.and_(page.locator(":not([hidden])")).wait_for()
            assert mark.inner_text().startswith("可离线 · 存储于")
        assert "项检查" in state.inner_text()

        context.set_offline(True)
        for inspection_id in (first, second):
            page.goto("/inspections/")  # from the cache
            card = page.locator(f"[data-offline-id='{inspection_id}']")
            card.locator("[data-offline-state]:not([hidden])").wait_for()
            card.locator("a.insp-link").click()
            page.wait_for_url(f"**/inspections/{inspection_id}")
            page.locator("fieldset.q").nth(0).get_by_text("不适用", exact=True).click()
            _until(page, f"() => ({OUTBOX})().then((o) => o.changes >= 1)")
            guidance = page.locator("fieldset.q details[data-g]").first
            guidance.locator("summary").click()  # stored with the page: readable offline
            guidance.locator("p").first.wait_for()
        page.goto("/inspections/")
        bar = page.locator("[data-pending-bar]")
        bar.wait_for()
        assert bar.inner_text().startswith("2 条待同步")

        # Online again on "My inspections": Sync now sends both inspections' answers.
        context.set_offline(False)
        page.get_by_role("button", name="立即同步").click()
        _until(page, f"() => ({OUTBOX})().then((o) => o.changes === 0)")
        bar.wait_for(state="hidden")
    finally:
        context.close()
    with live_app.app_context():
        for inspection_id in (first, second):
            results = db.session.scalars(
                sa.select(Answer.result).where(Answer.inspection_id == inspection_id)
            ).all()
            assert [r for r in results if r] == ["not_applicable"]  # starting makes empty rows
        db.session.remove()


def test_a_new_service_worker_version_loses_no_waiting_change(browser, live_server, live_app):
    inspection_id = _inspection(live_app, UNITS["update"], 5)
    url = f"/inspections/{inspection_id}"
    context = _fresh_context(browser, live_server, "inspector2")
    page = context.new_page()
    try:
        page.goto(url)
        _wait_cached(page, url)
        page.reload()
        old = page.locator("[data-sw-version]")
        page.wait_for_function("() => document.querySelector('[data-sw-version]').textContent")
        old_version = old.inner_text()
        # The API is out of reach (a basement with a weak signal): changes wait.
        page.route("**/api/v1/**", lambda route: route.abort())
        items = page.locator("fieldset.q")
        items.nth(0).get_by_text("符合", exact=True).click()
        items.nth(1).get_by_text("不适用", exact=True).click()
        _until(page, f"() => ({OUTBOX})().then((o) => o.changes >= 2)")

        # A new version is deployed and found; the open inspection goes on with the old one.
        live_app.config["SERVICE_WORKER_VERSION"] = "e2e-next"
        page.evaluate("async () => (await navigator.serviceWorker.getRegistration()).update()")
        _until(page, "async () => !!(await navigator.serviceWorker.getRegistration()).waiting")
        items.nth(2).get_by_text("符合", exact=True).click()
        _until(page, f"() => ({OUTBOX})().then((o) => o.changes >= 3)")

        # The tab closed and opened again: the new version is in charge, the changes are kept,
        # and the inspection still opens offline. (The old worker lets go once its last tab is
        # gone, which takes the browser a moment.)
        for _attempt in range(5):
            page.close()
            time.sleep(2)
            page = context.new_page()
            page.route("**/api/v1/**", lambda route: route.abort())
            page.goto(url)
            try:
                page.wait_for_function(
                    "() => document.querySelector('[data-sw-version]')"
                    ".textContent.includes('e2e-next')",
                    timeout=5000,
                )
                break
            except Exception:
                continue
        assert old_version != page.locator("[data-sw-version]").inner_text()
        _until(page, f"() => ({OUTBOX})().then((o) => o.changes >= 3)")
        context.set_offline(True)
        page.reload()
        _wait_state(page, "offline")
        assert page.locator("fieldset.q").nth(1).locator("input[value=x]").is_checked()

        context.set_offline(False)
        page.unroute("**/api/v1/**")
        page.evaluate("() => window.dispatchEvent(new Event('online'))")
        _wait_saved(page)
        _until(page, f"() => ({OUTBOX})().then((o) => o.changes === 0)")
    finally:
        live_app.config["SERVICE_WORKER_VERSION"] = None
        context.close()
    with live_app.app_context():
        results = db.session.scalars(
            sa.select(Answer.result)
            .where(Answer.inspection_id == inspection_id)
            .order_by(Answer.item_id)
        ).all()
        assert [r for r in results if r] == ["compliant", "not_applicable", "compliant"]
        db.session.remove()


def test_a_new_version_is_offered_only_once_nothing_waits(browser, live_server, live_app):
    inspection_id = _inspection(live_app, UNITS["switch"], 5)
    url = f"/inspections/{inspection_id}"
    context = _fresh_context(browser, live_server, "inspector2")
    page = context.new_page()
    try:
        page.goto(url)
        _wait_cached(page, url)
        page.reload()
        page.route("**/api/v1/**", lambda route: route.abort())
        page.locator("fieldset.q").nth(0).get_by_text("符合", exact=True).click()
        _until(page, f"() => ({OUTBOX})().then((o) => o.changes >= 1)")
        live_app.config["SERVICE_WORKER_VERSION"] = "e2e-switch"
        page.evaluate("async () => (await navigator.serviceWorker.getRegistration()).update()")
        _until(page, "async () => !!(await navigator.serviceWorker.getRegistration()).waiting")
        button = page.locator("[data-sw-update]")
        page.wait_for_timeout(500)
        assert button.is_hidden()  # a change waits: no switching now

        page.unroute("**/api/v1/**")
        page.get_by_role("button", name="立即同步").click()
        _wait_saved(page)
        button.wait_for()
        button.click()  # the page reloads under the new version
        page.wait_for_function(
            "() => document.querySelector('[data-sw-version]')?.textContent.includes('e2e-switch')",
            timeout=20000,
        )
        assert page.locator("fieldset.q").nth(0).locator("input[value=c]").is_checked()
    finally:
        live_app.config["SERVICE_WORKER_VERSION"] = None
        context.close()
