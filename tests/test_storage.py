"""The evidence store: private files, no EXIF for those who may not have it, nothing orphaned."""

import io
import os
import stat
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from PIL import Image

from inspect_app import create_app, storage
from inspect_app.extensions import db
from inspect_app.inspections import answering, services
from inspect_app.models import Attachment, AuditEvent, User

from .conftest import Browser, make_test_config
from .inspections.conftest import change
from .inspections.helpers import jpeg_bytes, signature_data_url


def gps_jpeg() -> bytes:
    image = Image.new("RGB", (640, 480), (10, 120, 40))
    exif = Image.Exif()
    exif[0x010F] = "ProbeCam"  # Make
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (39.0, 54.0, 26.0)  # latitude
    gps[3], gps[4] = "E", (116.0, 23.0, 30.0)  # longitude
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def has_gps(data: bytes) -> bool:
    with Image.open(io.BytesIO(data)) as image:
        return bool(image.getexif().get_ifd(0x8825))


@pytest.fixture
def world(app, make):
    """A submitted inspection with a GPS-tagged photo; a unit liaison, a viewer, a coordinator."""
    with app.app_context():
        template = make.template(items=[{"code": "E-01", "text": "是否有制度？"}])
        unit = make.unit(code="U-EXIF")
        lead, member = make.user(role="inspector"), make.user(role="inspector")
        inspection = make.inspection(template=template, unit=unit, members=[lead, member])
        liaison = make.user(role="unit", unit=unit)
        viewer, office = make.user(role="viewer"), make.user(role="coordinator")
        names = {
            "lead": lead.username,
            "liaison": liaison.username,
            "viewer": viewer.username,
            "office": office.username,
        }
        item_id, inspection_id = template.items[0].id, inspection.id
    b = Browser(app.test_client())
    b.login(names["lead"])
    b.post_json(
        f"/api/v1/inspections/{inspection_id}/answers",
        {"changes": [change(item_id, result="compliant")]},
    )
    upload = b.client.post(
        f"/api/v1/inspections/{inspection_id}/evidence",
        data={"file": (io.BytesIO(gps_jpeg()), "site.jpg"), "item_id": str(item_id)},
        headers={"X-CSRFToken": b.token()},
    )
    assert upload.status_code == 201, upload.get_json()
    r = b.post_json(
        f"/api/v1/inspections/{inspection_id}/submit",
        {"signatory_name": "王五", "signature": signature_data_url()},
    )
    assert r.status_code == 200, r.get_json()
    return {**names, "url": upload.get_json()["url"], "inspection": inspection_id}


def _get(app, username, url) -> bytes:
    b = Browser(app.test_client())
    b.login(username)
    with b.get(url) as response:
        assert response.status_code == 200
        return response.data


@pytest.mark.parametrize("who", ["liaison", "viewer"])
def test_units_and_leaders_get_the_photo_without_gps_or_device(app, world, who):
    """Security review §3: unit_u014 received the original with 39°54′26″N 116°23′30″E."""
    data = _get(app, world[who], world["url"])
    with Image.open(io.BytesIO(data)) as image:
        assert image.size == (640, 480)
        assert not image.getexif()
    assert data != gps_jpeg()


@pytest.mark.parametrize("who", ["lead", "office"])
def test_inspectors_and_the_office_get_the_original_with_its_exif(app, world, who):
    data = _get(app, world[who], world["url"])
    assert data == gps_jpeg() and has_gps(data)


def test_a_failed_submit_leaves_no_signature_file(app, make, monkeypatch):
    """Security review 5-B: the signature was written before the commit and never removed."""
    with app.app_context():
        template = make.template(items=[{"code": "S-01", "text": "是否有制度？"}])
        lead, member = make.user(role="inspector"), make.user(role="inspector")
        inspection = make.inspection(template=template, members=[lead, member])
        answering.apply_changes(
            inspection.id, [change(template.items[0].id, result="compliant")], actor=lead
        )
        inspection_id, lead_id = inspection.id, lead.id
    before = {p for p in Path(app.config["UPLOAD_DIR"]).rglob("*") if p.is_file()}

    def crash(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(services, "_snapshot_hash", crash)
    import base64

    png = base64.b64decode(signature_data_url().split(",", 1)[1])
    with app.app_context(), pytest.raises(RuntimeError):
        services.submit_inspection(
            inspection_id,
            actor=db.session.get(User, lead_id),
            signatory_name="王五",
            signature_png=png + b"\x00" * 7,  # a signature no other test stored
        )
    after = {p for p in Path(app.config["UPLOAD_DIR"]).rglob("*") if p.is_file()}
    assert after == before


def test_gc_deletes_old_unnamed_files_only(app, make, tmp_path):
    app_files = Path(app.config["UPLOAD_DIR"])
    with app.app_context():
        kept = storage.put(gps_jpeg())
        template = make.template(items=[{"code": "G-01", "text": "是否？"}])
        inspection = make.inspection(template=template)
        db.session.add(
            Attachment(sha256=kept.sha256, mime="image/jpeg", size=1, inspection_id=inspection.id)
        )
        db.session.commit()
        orphan = storage.put(_png(7))
        fresh = storage.put(_png(8))
        old = time.time() - 48 * 3600
        for key in orphan.created:
            os.utime(app_files / key, (old, old))
        deleted = storage.collect_garbage(older_than=24 * 3600)
    assert sorted(deleted) == sorted(orphan.created)
    assert all((app_files / key).exists() for key in kept.created + fresh.created)


def _png(seed: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (50 + seed, 40), (seed, seed, seed)).save(out, "PNG")
    return out.getvalue()


def test_evidence_check_names_attachments_whose_file_is_missing(app, make):
    runner = app.test_cli_runner()
    with app.app_context():
        template = make.template(items=[{"code": "M-01", "text": "是否？"}])
        inspection = make.inspection(template=template)
        gone = Attachment(sha256="ab" * 32, mime="image/png", size=1, inspection_id=inspection.id)
        db.session.add(gone)
        db.session.commit()
        gone_id = gone.id
    result = runner.invoke(args=["evidence", "check"])
    assert result.exit_code == 1
    assert f"{gone_id}" in result.output and "ab/ab/" in result.output


def test_instance_files_are_private_under_a_permissive_umask(tmp_path):
    """Security review §4: config.py and inspect.sqlite were -rw-r--r-- under umask 022."""
    old = os.umask(0o022)
    try:
        instance = tmp_path / "fresh" / "instance"
        database = instance / "inspect.sqlite"
        app = create_app(
            {
                **make_test_config(f"sqlite:///{database}", tmp_path),
                "UPLOAD_DIR": str(instance / "uploads"),
            }
        )
        with app.app_context():
            db.session.execute(db.text("CREATE TABLE t (x int)"))
            db.session.commit()
            storage.put(_png(3))
            db.engine.dispose()
    finally:
        os.umask(old)
    assert stat.S_IMODE(database.stat().st_mode) == 0o600
    for path in (instance / "uploads").rglob("*"):
        expected = 0o700 if path.is_dir() else 0o600
        assert stat.S_IMODE(path.stat().st_mode) == expected, path
    assert stat.S_IMODE((instance / "uploads").stat().st_mode) == 0o700
    assert stat.S_IMODE(instance.stat().st_mode) == 0o700


def test_an_unwritable_evidence_store_refuses_the_upload_clearly_and_records_nothing(
    app, make, monkeypatch, tmp_path
):
    """Issue 13 §3: a full or unwritable upload folder gives a clear error and no row."""
    with app.app_context():
        template = make.template(items=[{"code": "F-01", "text": "是否有制度？"}])
        lead, member = make.user(role="inspector"), make.user(role="inspector")
        inspection = make.inspection(template=template, members=[lead, member])
        inspection_id, item_id, username = inspection.id, template.items[0].id, lead.username
        events_before = db.session.scalar(db.select(db.func.count()).select_from(AuditEvent))
    blocker = tmp_path / "not-a-folder"
    blocker.write_bytes(b"")  # a file where the store's folder should be: every write fails
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(blocker / "uploads"))
    b = Browser(app.test_client())
    b.login(username)
    events_before += 1  # the login
    r = b.client.post(
        f"/api/v1/inspections/{inspection_id}/evidence",
        data={"file": (io.BytesIO(gps_jpeg()), "site.jpg"), "item_id": str(item_id)},
        headers={"X-CSRFToken": b.token()},
    )
    assert r.status_code == 507
    error = r.get_json()["error"]
    assert error["code"] == "storage_unavailable"
    assert "storage" in error["message"] or "存储" in error["message"]
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Attachment)) == 0
        events = db.session.scalar(db.select(db.func.count()).select_from(AuditEvent))
        assert events == events_before


def test_a_store_that_fails_half_way_leaves_no_file_of_the_set(app, monkeypatch):
    """The original written, the thumbnail refused (disk full): the original goes too."""
    written = []
    real_put = storage.LocalStore.put

    def put(self, key, data):
        if key.startswith("thumbs/"):
            raise OSError(28, "No space left on device")
        created = real_put(self, key, data)
        written.append(self.local_path(key))
        return created

    monkeypatch.setattr(storage.LocalStore, "put", put)
    with app.app_context(), pytest.raises(storage.StorageUnavailable):
        storage.put(jpeg_bytes(size=(321, 123)))  # a photo no other test stores
    assert written and not any(path.exists() for path in written)


# --- a file is never removed while a transaction storing it is open -------------------------------


@pytest.fixture
def two_sessions(new_database_url, tmp_path):
    """An app of its own (threads need a database every connection sees) with an inspection whose
    attachment names a photo: what a second upload of the same photo and a removal race for."""
    from flask_migrate import upgrade

    from .factories import Factory

    other = create_app(make_test_config(new_database_url(), tmp_path))
    with other.app_context():
        upgrade()
        make = Factory()
        inspection = make.inspection()
        stored = storage.put(jpeg_bytes())
        attachment = Attachment(
            sha256=stored.sha256,
            mime="image/jpeg",
            size=stored.info["size"],
            kind="photo",
            inspection_id=inspection.id,
        )
        db.session.add(attachment)
        db.session.commit()
        ids = {"inspection": inspection.id, "attachment": attachment.id, "sha256": stored.sha256}
    yield other, ids
    with other.app_context():
        db.session.remove()
        db.engine.dispose()


def _race(other, store_it, remove_it):
    """`store_it` runs in this thread and leaves its transaction open; `remove_it` runs in
    another thread meanwhile; the first commits 0.5 s later. Returns whether the remover finished
    before that commit (it should have waited for it)."""
    errors, done = [], threading.Event()

    def remover():
        try:
            with other.app_context():
                remove_it()
                db.session.remove()
        except Exception as err:  # noqa: BLE001
            errors.append(err)
        finally:
            done.set()

    with other.app_context():
        store_it()
        thread = threading.Thread(target=remover)
        thread.start()
        finished_early = done.wait(0.5)
        db.session.commit()
    thread.join(30)
    assert not thread.is_alive() and errors == []
    return finished_early


def _second_row(ids, sha256, mime="image/jpeg"):
    kind = "video" if mime == "video/mp4" else "photo"
    db.session.add(
        Attachment(sha256=sha256, mime=mime, size=1, kind=kind, inspection_id=ids["inspection"])
    )  # not flushed: the row reaches the database at the commit, as in an upload


def _drop_first_row(ids):
    db.session.delete(db.session.get(Attachment, ids["attachment"]))
    db.session.commit()


def test_a_photo_removed_while_another_upload_of_it_commits_keeps_its_file(two_sessions):
    """The last row naming a photo is deleted while another upload of the same photo has stored
    it (finding it there) and not yet committed its row: the file must stay."""
    other, ids = two_sessions

    def store_it():
        stored = storage.put(jpeg_bytes())
        assert stored.created == []  # it was there already
        _second_row(ids, stored.sha256)

    def remove_it():
        _drop_first_row(ids)
        storage.discard_if_unused(ids["sha256"], "image/jpeg")

    assert not _race(other, store_it, remove_it)
    with other.app_context():
        assert storage.missing_files() == []


def test_a_recording_stored_while_its_last_row_is_removed_keeps_its_file(two_sessions):
    """A recording is streamed to the store outside any transaction (it may take minutes); the
    removal of another row naming the same file must not take it once it is stored."""
    from .inspections.helpers import mp4_bytes

    other, ids = two_sessions
    clip = mp4_bytes()
    with other.app_context():
        first = storage.put_media(io.BytesIO(clip))
        _second_row(ids, first.sha256, "video/mp4")
        db.session.commit()
        clip_row = db.session.scalar(
            sa.select(Attachment.id).where(Attachment.sha256 == first.sha256)
        )

    def store_it():
        db.session.rollback()  # as attach_recording does before the copy
        stored = storage.put_media(io.BytesIO(clip))
        _second_row(ids, stored.sha256, "video/mp4")

    def remove_it():
        db.session.delete(db.session.get(Attachment, clip_row))
        db.session.commit()
        storage.discard_if_unused(first.sha256, "video/mp4")

    assert not _race(other, store_it, remove_it)
    with other.app_context():
        assert storage.missing_files() == []


def test_gc_leaves_a_file_another_upload_is_about_to_name(two_sessions):
    other, ids = two_sessions
    with other.app_context():
        _drop_first_row(ids)  # the photo is unnamed now, and old enough for gc

    def store_it():
        stored = storage.put(jpeg_bytes())
        _second_row(ids, stored.sha256)

    def remove_it():
        storage.collect_garbage(older_than=0)

    assert not _race(other, store_it, remove_it)
    with other.app_context():
        assert storage.missing_files() == []
