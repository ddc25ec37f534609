"""A small world of real data for the wall tests: two units, every role, inspections in every state.

Built through tests/factories.py and the real services (checklist loading, answers, evidence,
submission), so the rows look like the ones the app makes. `build_world()` commits (into the
caller's transaction) and returns plain ids and strings, never ORM objects.

A package whose tests use the `world_db` fixture builds the world once per module (`open_world`)
and runs each test in a SAVEPOINT of it that is rolled back (`isolation`); see
tests/walls/conftest.py. Unit A and unit B each have a system and inspections that are planned, in progress, submitted
(with a finding, its rectification item, an evidence photo and the signature) and closed
(submitted, then marked closed directly: no service closes an inspection yet). Unit A also has
one "ready" inspection: in progress, every item answered, waiting to be submitted. Team A is
led by the "insp" client; team B has inspectors of its own; "insp_out" is on no team.

Rectification items of each unit X: "X.open" (the submitted inspection's, untouched, its notice
not served), "X.submitted" (the closed inspection's, answered by the unit with a photo: step
"X.response", attachment "X.rect_file") and "X.overdue" (due five days ago, with an interview
"X.interview", a notification "X.notification" and, for unit A, an extension request waiting).
"""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass, field
from datetime import date

from PIL import Image

from inspect_app import jobs
from inspect_app.checklists import services as checklists
from inspect_app.clock import local_today
from inspect_app.extensions import db
from inspect_app.inspections import answering, evidence, notices, record, services
from inspect_app.models import AuditEvent, ChecklistTemplate, Inspection, User

from .factories import Factory
from .inspections.helpers import mp4_bytes

# The clients every wall test speaks as, in the order of the matrix columns.
CLIENTS = ("anon", "admin", "coordinator", "insp", "insp_out", "viewer", "unit_a", "unit_b")
MISSING_ID = 987654

CHECKLIST_YAML = """
key: WALL
version: "{version}"
title: 墙测清单
title_en: Wall checklist
target: unit
sections:
  - title: A 基本要求
    title_en: A Basics
    items:
      - code: W-01
        text: 是否明确网络安全责任人？
        text_en: Is a responsible person named?
        guidance: 查看任命文件。
        legal_basis:
          - {{law: 网络安全法, article: 第23条}}
        severity: high
        deadline_days: 15
        evidence: required_if_noncompliant
      - code: W-02
        text: 日志是否留存六个月以上？
        text_en: Are logs kept for six months?
        legal_basis:
          - {{law: 网络安全法, article: 第23条第（三）项}}
      - code: W-03
        text: 网站数量
        text_en: Number of websites
        kind: number
"""


# Unit-specific strings: a page shown to one unit's user must carry none of the other unit's.
UNITS = {
    "A": {"code": "UNIT-A-7731", "name": "甲方墙测单位", "system": ("SYS-A-7731", "甲方墙测系统")},
    "B": {"code": "UNIT-B-7732", "name": "乙方墙测单位", "system": ("SYS-B-7732", "乙方墙测系统")},
}


def photo_bytes(color=(30, 160, 90)) -> bytes:
    """A small JPEG only the wall tests use (evidence files are stored by content hash)."""
    out = io.BytesIO()
    Image.new("RGB", (97, 61), color).save(out, "JPEG")
    return out.getvalue()


def signature_png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (131, 47), (10, 10, 60)).save(out, "PNG")
    return out.getvalue()


@dataclass
class World:
    ids: dict[str, dict[str, int | str]] = field(default_factory=dict)  # kind -> name -> id
    usernames: dict[str, str] = field(default_factory=dict)  # client -> username
    markers: dict[str, list[str]] = field(default_factory=dict)  # "A"/"B" -> strings
    items: dict[str, int] = field(default_factory=dict)  # item code -> id
    versions: dict[str, dict[str, int]] = field(default_factory=dict)  # inspection -> code -> v
    item_versions: dict[str, int] = field(default_factory=dict)  # rectification item -> version
    year: int = 0

    def id(self, kind: str, name: str) -> int | str:
        return MISSING_ID if name == "missing" else self.ids[kind][name]


def _change(item_id: int, base_version: int = 0, **fields) -> dict:
    return {
        "change_id": str(uuid.uuid4()),
        "item_id": item_id,
        "base_version": base_version,
        **fields,
    }


def build_world() -> World:
    """Make the world in the current transaction (needs an app and a request context)."""
    make = Factory()
    world = World(year=local_today().year)
    dept = make.department(code="WALL-D", name="墙测网信")
    loader = make.user(role="admin", username="wall_loader")
    template, unused = (
        db.session.get(
            ChecklistTemplate,
            checklists.load_upload(
                CHECKLIST_YAML.format(version=v).encode(), "wall.yaml", actor=loader
            ).template_id,
        )
        for v in ("1", "2")
    )
    world.items = {i.code: i.id for i in template.items}
    rnd = make.round(
        year=world.year,
        seq=3,
        status="active",
        start_date=date(world.year, 1, 1),
        end_date=date(world.year, 12, 31),
        theme="key_units",
    )
    units, systems = {}, {}
    for key, spec in UNITS.items():
        units[key] = make.unit(code=spec["code"], name=spec["name"], kind="party_gov")
        code, name = spec["system"]
        systems[key] = make.system(unit=units[key], code=code, name=name)

    def inspector(username: str) -> User:
        return make.user(role="inspector", username=username, department=dept, certificate_no="证1")

    users = {
        "admin": make.user(role="admin", username="wall_admin"),
        "coordinator": make.user(role="coordinator", username="wall_coord"),
        "viewer": make.user(role="viewer", username="wall_viewer"),
        "insp": inspector("wall_lead_a"),
        "insp_out": inspector("wall_outsider"),
        "unit_a": make.user(role="unit", username="wall_unit_a", unit=units["A"]),
        "unit_b": make.user(role="unit", username="wall_unit_b", unit=units["B"]),
    }
    teams = {
        "A": [users["insp"], inspector("wall_member_a")],
        "B": [inspector("wall_lead_b"), inspector("wall_member_b")],
    }
    world.usernames = {client: u.username for client, u in users.items()}
    world.ids["user"] = {
        "admin": users["admin"].id,
        "coordinator": users["coordinator"].id,
        "member": teams["A"][1].id,  # an inspector account that is no test client
        "lead_a": users["insp"].id,
        "lead_b": teams["B"][0].id,
        "member_b": teams["B"][1].id,
    }
    spare = make.unit(code="UNIT-C-7735", name="丙方墙测单位", kind="party_gov")  # not inspected
    world.ids["unit"] = {**{k: u.id for k, u in units.items()}, "C": spare.id}
    from inspect_app.inspections.arrival import arrival_code

    world.ids["arrival_code"] = {k: arrival_code(u) for k, u in units.items()}
    world.ids["system"] = {k: s.id for k, s in systems.items()}
    world.ids["department"] = {"dept": dept.id}
    world.ids["template"] = {"used": template.id, "unused": unused.id}
    world.ids["round"] = {"R": rnd.id}
    inspections: dict[str, int] = {}
    attachments: dict[str, int] = {}
    photo, signature = photo_bytes(), signature_png()
    i1, i2, i3 = (world.items[c] for c in ("W-01", "W-02", "W-03"))

    for key in ("A", "B"):
        team, lead = teams[key], teams[key][0]
        states = ("planned", "in_progress", "ready", "submitted", "closed")
        for state in states if key == "A" else ("planned", "in_progress", "submitted", "closed"):
            inspection = make.inspection(
                template=template, unit=units[key], round=rnd, members=team
            )
            name = f"{key}.{state}"
            inspections[name] = inspection.id
            if state == "planned":
                continue
            if state == "in_progress":
                answering.apply_changes(
                    inspection.id, [_change(i1, result="compliant")], actor=lead
                )
                att = evidence.upload_evidence(
                    inspection.id, photo, actor=lead, filename="现场.jpg", item_id=i1
                )
                attachments[f"{key}.photo"] = att.id
                clip = record.attach_recording(
                    inspection.id, io.BytesIO(mp4_bytes()), actor=lead, filename="记录仪.mp4"
                )
                attachments[f"{key}.recording"] = clip.id
                continue
            bad = state in ("submitted", "closed")
            answering.apply_changes(
                inspection.id,
                [
                    _change(
                        i1,
                        result="noncompliant" if bad else "compliant",
                        finding_description=f"{key}方未明确责任人" if bad else "",
                    ),
                    _change(i2, result="compliant"),
                    _change(i3, value=3),
                ],
                actor=lead,
            )
            att = evidence.upload_evidence(
                inspection.id, photo, actor=lead, filename="现场.jpg", item_id=i1
            )
            if state == "ready":
                continue
            attachments[f"{key}.photo_{state}"] = att.id
            clip = record.attach_recording(
                inspection.id, io.BytesIO(mp4_bytes()), actor=lead, filename="记录仪.mp4"
            )
            attachments[f"{key}.recording_{state}"] = clip.id
            services.submit_inspection(
                inspection.id, actor=lead, signatory_name="王五", signature_png=signature
            )
            # The office approves the visit's notice (it gets its number); the lead signs the
            # record.
            notices.approve_notice(inspection.id, actor=users["coordinator"])
            signed = record.sign_record(inspection.id, actor=lead, signature_png=signature)
            attachments[f"{key}.record_signature_{state}"] = signed.id
            row = db.session.get(Inspection, inspection.id)
            sig = next(a for a in _attachments(row) if a.kind == "signature")
            attachments[f"{key}.signature_{state}"] = sig.id
            if state == "closed":
                row.status = "closed"  # no service closes an inspection yet
                db.session.commit()
    world.ids["inspection"] = inspections
    world.ids["visit"] = {
        name: db.session.get(Inspection, iid).visit_id for name, iid in inspections.items()
    }
    world.ids["attachment"] = attachments
    world.versions = {
        name: {code: _version(inspections[name], world.items[code]) for code in world.items}
        for name in inspections
    }

    _rectification(world, make, units, users)

    # Audit events: one of each unit (the submission) and one hidden from units (an answer).
    def event(action: str, unit_key: str | None) -> int:
        stmt = db.select(AuditEvent.id).where(AuditEvent.action == action)
        if unit_key:
            stmt = stmt.where(AuditEvent.unit_id == units[unit_key].id)
        return db.session.scalars(stmt.order_by(AuditEvent.id)).first()

    # Notifications: each unit's liaison was told of its new items at submission.
    def notification(client: str) -> int:
        from inspect_app.models import Notification

        stmt = db.select(Notification.id).where(Notification.user_id == users[client].id)
        return db.session.scalars(stmt.order_by(Notification.id)).first()

    world.ids["notification"] = {"A": notification("unit_a"), "B": notification("unit_b")}

    world.ids["event"] = {
        "A": event("inspection.submit", "A"),
        "B": event("inspection.submit", "B"),
        "hidden": event("answer.update", None),
    }

    # Jobs of the coordinator: one finished (its file on disk), one whose file expired.
    from .jobs.kinds import COUNT, register_test_kinds

    register_test_kinds()
    done = jobs.start_job(COUNT, {"rows": 3}, actor=users["coordinator"])
    expired = jobs.start_job(COUNT, {"rows": 4}, actor=users["coordinator"])
    expired.status, expired.file_key = "expired", None
    db.session.commit()
    world.ids["job"] = {"done": done.id, "expired": expired.id}

    for key in ("A", "B"):
        found = db.session.scalars(
            db.select(Inspection).where(Inspection.unit_id == units[key].id)
        ).all()
        world.markers[key] = [
            UNITS[key]["code"],
            UNITS[key]["name"],
            *UNITS[key]["system"],
            *(f.code for i in found for f in i.findings),
            *(i.notice_number for i in found if i.notice_number),
            f"{key}方未明确责任人",
            *(u.username for u in teams[key]),
            users[f"unit_{key.lower()}"].username,
        ]
    return world


def _rectification(world: World, make: Factory, units, users) -> None:
    """Items in several states, steps with files and printed documents (see the docstring)."""
    from datetime import timedelta

    from inspect_app.models import Attachment, RectificationItem
    from inspect_app.rectification import services as rs

    today = local_today()
    office = users["coordinator"]
    items, steps = {}, {}
    for key in ("A", "B"):
        unit_user = users[f"unit_{key.lower()}"]

        submitted, closed = (
            db.session.get(Inspection, world.ids["inspection"][f"{key}.{state}"])
            for state in ("submitted", "closed")
        )
        items[f"{key}.open"] = submitted.findings[0].rectification.id
        finding = closed.findings[0]
        items[f"{key}.submitted"] = finding.rectification.id
        rs.respond(
            finding.rectification.id,
            actor=unit_user,
            cause=f"{key}方原因",
            measures=f"{key}方已整改",
            completed_on=today,
            responsible_person="赵六",
            files=[
                rs.Upload(photo_bytes((40, 40, 200) if key == "A" else (200, 200, 40)), "整改.jpg")
            ],
            today=today,
        )
        response = finding.rectification.events[-1]
        steps[f"{key}.response"] = response.id
        world.ids["attachment"][f"{key}.rect_file"] = db.session.scalar(
            db.select(Attachment.id).where(Attachment.rectification_event_id == response.id)
        )
        overdue = make.finding(
            closed,
            due_date=today - timedelta(days=5),
            code=f"WALL-{key}-OVERDUE",
            description=f"{key}方逾期问题",
        ).rectification
        items[f"{key}.overdue"] = overdue.id
        steps[f"{key}.interview"] = rs.record_interview(
            overdue.id,
            actor=office,
            held_on=today,
            place="会议室",
            office_people="王科长",
            unit_people="张某",
            content="逾期未改",
            today=today,
        ).id
        steps[f"{key}.notification"] = rs.record_notification(
            overdue.id, actor=office, to_body="主管部门", content="通报逾期"
        ).id
        if key == "A":
            rs.request_extension(
                overdue.id,
                actor=unit_user,
                reason="采购周期长",
                proposed_date=today + timedelta(days=30),
                interim_measures="临时关闭端口",
                today=today,
            )
    world.ids["item"] = items
    world.ids["step"] = steps
    world.item_versions = {
        name: db.session.get(RectificationItem, ident).version for name, ident in items.items()
    }


def _attachments(inspection: Inspection):
    from inspect_app.models import Attachment

    return db.session.scalars(
        db.select(Attachment).where(Attachment.inspection_id == inspection.id)
    ).all()


def _version(inspection_id: int, item_id: int) -> int:
    from inspect_app.models import Answer

    version = db.session.scalar(
        db.select(Answer.version).where(
            Answer.inspection_id == inspection_id, Answer.item_id == item_id
        )
    )
    return version or 0


# --- a module-scoped world: built once, each test in a SAVEPOINT rolled back at its end ---------


class WorldDB:
    """The built world, the connection it lives on, and one logged-in session per client."""

    def __init__(self, app, conn, world: World, sessions: dict[str, tuple[str, str]]):
        self.app, self.conn, self.world, self.sessions = app, conn, world, sessions
        self._baseline: str | None = None
        self._digest_sql: str | None = None

    def client(self, name: str):
        """A fresh test client carrying `name`'s session cookie (nothing carries over)."""
        client = self.app.test_client()
        cookie, _token = self.sessions[name]
        client.set_cookie("session", cookie)
        return client

    def token(self, name: str) -> str:
        return self.sessions[name][1]

    def fingerprint(self) -> str:
        """A digest of every row of every table: equal digests mean nothing was written."""
        import hashlib

        if self.conn.dialect.name == "postgresql":  # one round trip: the server digests
            return self.conn.exec_driver_sql(self._postgres_digest_sql()).scalar_one()
        digest = hashlib.sha256()
        for table in db.metadata.sorted_tables:
            rows = self.conn.exec_driver_sql(_select_all(table)).fetchall()
            digest.update(f"{table.name}:{sorted(map(repr, rows))!r}".encode())
        return digest.hexdigest()

    def _postgres_digest_sql(self) -> str:
        if self._digest_sql is None:
            parts = [
                f"(SELECT '{t.name}:' || coalesce(md5(string_agg(r::text, '|' ORDER BY r::text)), '')"
                f" FROM ({_select_all(t)}) r)"
                for t in db.metadata.sorted_tables
            ]
            self._digest_sql = "SELECT md5(" + " || ".join(parts) + ")"
        return self._digest_sql

    @property
    def baseline(self) -> tuple[str, int]:
        """The fingerprint and audit event count of the world as built (every test starts there)."""
        if self._baseline is None:
            self._baseline = (self.fingerprint(), self.audit_count())
        return self._baseline

    def audit_count(self) -> int:
        import sqlalchemy as sa

        return self.conn.execute(sa.select(sa.func.count()).select_from(AuditEvent)).scalar_one()


def _session_of(app, username: str | None) -> tuple[str, str]:
    """(session cookie, CSRF token) of a client logged in through the real form (or anonymous)."""
    from .conftest import Browser

    browser = Browser(app.test_client())
    if username:
        browser.login(username)
    token = browser.token()
    return browser.client.get_cookie("session").value, token


# Bookkeeping every request may write, refused or not: a login's last request time is written
# once a minute (auth.services.SESSION_TOUCH_INTERVAL), so a matrix run longer than a minute would
# see refused writes "change" the database.
NOT_WRITES = {"login_sessions": {"last_seen_at"}}


def _select_all(table) -> str:
    skip = NOT_WRITES.get(table.name, set())
    columns = ", ".join(f'"{c.name}"' for c in table.columns if c.name not in skip)
    return f"SELECT {columns} FROM {table.name}"


_open: WorldDB | None = None  # the world of the module being run, if any


def open_world(app):
    """Generator for a module-scoped fixture: one connection and transaction for the module."""
    global _open
    from inspect_app.extensions import limiter

    with app.app_context():
        engines = db.engines
        engine = engines[None]
        conn = engine.connect()
        outer = conn.begin()
        engines[None] = conn
        limiter.reset()
    old_session = db.session
    db.session = db._make_scoped_session({"join_transaction_mode": "create_savepoint"})
    try:
        with app.test_request_context("/"):
            world = build_world()
            db.session.remove()
        sessions = {
            name: _session_of(app, None if name == "anon" else world.usernames[name])
            for name in CLIENTS
        }
        _open = WorldDB(app, conn, world, sessions)
        yield _open
    finally:
        _open = None
        with app.app_context():
            db.session.remove()
        db.session = old_session
        engines[None] = engine
        outer.rollback()
        conn.close()


def isolation(request, app):
    """Generator for a package's `_isolated` override: tests that use the module's world run in
    a SAVEPOINT of it; the others in the suite's usual transaction."""
    if "world_db" in request.fixturenames:
        yield from _isolate_in_world(app, request.getfixturevalue("world_db"))
    elif _open is not None:  # a test beside world tests runs while the module's world is open
        yield from _isolate_in_world(app, _open)
    else:
        from .conftest import isolated_transaction

        yield from isolated_transaction(request, app)


def _isolate_in_world(app, world_db: WorldDB):
    """A SAVEPOINT on the world's connection, rolled back at the end of the test."""
    from inspect_app.extensions import limiter

    savepoint = world_db.conn.begin_nested()
    with app.app_context():
        limiter.reset()
    try:
        yield
    finally:
        with app.app_context():
            db.session.remove()
        if savepoint.is_active:
            savepoint.rollback()
