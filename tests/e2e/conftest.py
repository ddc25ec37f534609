"""Browser tests: Playwright driving Debian's Chromium against a live server with demo data.

Never downloads a browser. Without /usr/bin/chromium the tests skip, unless REQUIRE_BROWSER=1
(set by .ci/run), where they fail instead.
"""

from __future__ import annotations

import os
import shutil
import threading

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

from inspect_app import create_app
from inspect_app.extensions import db

from ..conftest import make_test_config

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
IPAD = {
    "viewport": {"width": 820, "height": 1180},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}


# A browser that goes offline or navigates away mid-download aborts the live server's response
# to a static file; werkzeug then leaves the file to the garbage collector, whose ResourceWarning
# lands in whichever test runs at that moment. Only static files of the live server, only here.
_ABORTED_STATIC = pytest.mark.filterwarnings(
    r"ignore:Exception ignored in. <_io\.(FileIO|BufferedReader) name='[^']*/static/"
    ":pytest.PytestUnraisableExceptionWarning"
)


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(_ABORTED_STATIC)
    if CHROMIUM:
        return
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            if os.environ.get("REQUIRE_BROWSER"):
                item.add_marker(pytest.mark.usefixtures("_fail_without_browser"))
            else:
                item.add_marker(
                    pytest.mark.skip(reason="Chromium not installed (apt-get install chromium)")
                )


@pytest.fixture
def _fail_without_browser():
    pytest.fail("REQUIRE_BROWSER is set but no Chromium was found")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "headless": True,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


# The demo's admin and coordinator must log in with two-step login (the production default);
# the browser tests give them this key, as a person would by scanning it, and type its codes.
E2E_MFA_SECRET = "E2ETESTSECRETKEYE2ETESTSECRETKEY"
_last_step: dict[str, int] = {}


def totp_code(username: str, secret: str = E2E_MFA_SECRET) -> str:
    """A code for the user that the server has not seen yet: codes of the previous, current and
    next 30-second step are accepted once each, so consecutive logins take the next unused one
    (waiting only when three logins fall within one step)."""
    import time

    from inspect_app.auth import totp

    while True:
        now = time.time()
        current = int(now) // totp.STEP_SECONDS
        # The previous step's code only early in a step: late in it, the step may end before the
        # server checks the code, which then is two steps old (a CI failure at a boundary).
        oldest = current - 1 if now % totp.STEP_SECONDS < totp.STEP_SECONDS - 5 else current
        step = max(oldest, _last_step.get(username, current - 2) + 1)
        if step <= current + 1:
            _last_step[username] = step
            import pyotp

            return pyotp.TOTP(secret).generate_otp(step)
        time.sleep(totp.STEP_SECONDS - now % totp.STEP_SECONDS + 0.1)


@pytest.fixture(scope="session")
def live_app(new_database_url, tmp_path_factory):
    config = make_test_config(new_database_url(), tmp_path_factory.mktemp("live"))
    config["MFA_REQUIRED_ROLES"] = ("admin", "coordinator")
    app = create_app(config)
    with app.app_context():
        from flask_migrate import upgrade

        from inspect_app.demo.seed import seed

        upgrade()
        seed()
        _thirty_item_inspections()
        _enrol_office_accounts()
        db.session.remove()
    return app


def _enrol_office_accounts() -> None:
    import sqlalchemy as sa

    from inspect_app.auth import totp
    from inspect_app.models import User, utcnow

    for user in db.session.scalars(sa.select(User).where(User.role.in_(["admin", "coordinator"]))):
        user.mfa_secret = totp.seal(E2E_MFA_SECRET, user.id)
        user.mfa_enabled_at = utcnow()
    db.session.commit()


# One 30-item inspection per browser test that fills one, so their order does not matter.
E2E_UNITS = {
    "fill": "U020",
    "conflict": "U019",
    "offline": "U017",
    "relogin": "U016",
    "papercuts": "U013",
    "photos": "U015",
}


def _thirty_item_inspections() -> None:
    """30-item checklists (real items from the shipped files) assigned to inspector1 and 2."""
    import sqlalchemy as sa

    from inspect_app.models import Round, Unit, User

    from ..factories import Factory
    from ..inspections.test_fill_page import shipped_items

    make = Factory()
    items = shipped_items(30)
    items[0]["evidence"] = "required_if_noncompliant"
    template = make.template(key="E2E", items=items, title="三十项检查清单")
    users = {
        u.username: u
        for u in db.session.scalars(
            sa.select(User).where(User.username.in_(["inspector1", "inspector2"]))
        )
    }
    rnd = db.session.scalar(sa.select(Round).order_by(Round.year.desc(), Round.seq.desc()))
    for code in E2E_UNITS.values():
        unit = db.session.scalar(sa.select(Unit).where(Unit.code == code))
        make.inspection(
            template=template,
            unit=unit,
            round=rnd,
            members=[users["inspector1"], users["inspector2"]],
        )


def e2e_inspection(test: str):
    """The E2E inspection of one test (see E2E_UNITS)."""
    from inspect_app.models import Inspection, Unit

    return (
        db.session.query(Inspection)
        .filter(
            Inspection.template.has(key="E2E"), Inspection.unit.has(Unit.code == E2E_UNITS[test])
        )
        .one()
    )


def _remembering(app):
    """The app, remembering each request's response iterable in its environ (_Handler)."""

    def wsgi(environ, start_response):
        iterable = app(environ, start_response)
        environ["tests.app_iter"] = iterable
        return iterable

    return wsgi


class _Handler(WSGIRequestHandler):
    """werkzeug's development server closes a response (a file being sent) after draining the
    socket, and a browser that drops the connection first (a media element cancelling a byte
    range) makes that drain raise, so the file was left open for the garbage collector: a
    ResourceWarning, an error in these tests, in whichever test ran then. Close it here."""

    def connection_dropped(self, error, environ=None):
        iterable = (environ or {}).get("tests.app_iter")
        if hasattr(iterable, "close"):
            iterable.close()
        super().connection_dropped(error, environ)


@pytest.fixture(scope="session")
def live_server(live_app):
    server = make_server(
        "127.0.0.1", 0, _remembering(live_app), threaded=True, request_handler=_Handler
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    with live_app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def tablet(browser, live_server):
    context = browser.new_context(
        **IPAD, base_url=live_server, locale="zh-CN", service_workers="block"
    )
    page = context.new_page()
    yield page
    context.close()
