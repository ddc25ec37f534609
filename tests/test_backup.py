"""`flask backup` and `flask restore`: one archive restores into an empty instance whole."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from inspect_app import create_app, storage
from inspect_app.extensions import db
from inspect_app.models import Attachment, AuditEvent, Inspection

from .conftest import make_test_config
from .inspections.helpers import jpeg_bytes


def _instance(url: str, folder: Path, *, migrate: bool = True):
    folder.mkdir()
    config = make_test_config(url, folder)
    config["AUDIT_ANCHOR_FILE"] = str(folder / "anchors.log")
    app = create_app(config)
    if migrate:
        with app.app_context():
            upgrade()
    return app


@pytest.fixture
def instance(new_database_url, tmp_path):
    """Make an app on a new empty database; its connection pool is closed after the test."""
    made = []

    def make(name: str = "target", *, migrate: bool = False):
        app = _instance(new_database_url(), tmp_path / name, migrate=migrate)
        made.append(app)
        return app

    yield make
    for app in made:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def _files(app) -> dict[str, str]:
    root = Path(app.config["UPLOAD_DIR"])
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in root.rglob("*")
        if p.is_file()
    }


@pytest.fixture(scope="module")
def source(new_database_url, tmp_path_factory):
    """An instance with the demo year, a photo and an audit anchor, all committed."""
    from inspect_app.demo.inspections import seed_inspections
    from inspect_app.demo.seed import seed

    app = _instance(new_database_url(), tmp_path_factory.mktemp("source") / "instance")
    with app.app_context():
        seed(year=2026, inspections=False)
        seed_inspections(2026, today=date(2026, 7, 10))
        stored = storage.put(jpeg_bytes())
        inspection = db.session.scalars(db.select(Inspection).limit(1)).one()
        db.session.add(
            Attachment(
                sha256=stored.sha256,
                mime="image/jpeg",
                size=len(jpeg_bytes()),
                inspection_id=inspection.id,
            )
        )
        db.session.commit()
    assert app.test_cli_runner().invoke(args=["audit", "anchor"]).exit_code == 0
    yield app
    with app.app_context():
        db.engine.dispose()


def _backup(app, path: Path):
    return app.test_cli_runner().invoke(args=["backup", "-o", str(path)])


def test_backup_then_restore_gives_the_same_rows_files_and_an_intact_audit_chain(
    source, instance, tmp_path
):
    archive = tmp_path / "inspect.tar.gz"
    made = _backup(source, archive)
    assert made.exit_code == 0, made.output
    assert archive.stat().st_mode & 0o077 == 0  # the archive holds every record: owner only

    target = instance()
    done = target.test_cli_runner().invoke(args=["restore", str(archive)])
    assert done.exit_code == 0, done.output

    with tarfile.open(archive) as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())
    with target.app_context():
        quote = db.engine.dialect.identifier_preparer.quote
        with db.engine.connect() as conn:
            restored = {
                t: conn.exec_driver_sql(f"SELECT count(*) FROM {quote(t)}").scalar_one()
                for t in manifest["tables"]
            }
        assert db.session.scalar(db.select(db.func.count()).select_from(AuditEvent)) > 0
        db.session.remove()
        db.engine.dispose()
    with source.app_context(), db.engine.connect() as conn:
        original = {
            t: conn.exec_driver_sql(f"SELECT count(*) FROM {quote(t)}").scalar_one()
            for t in manifest["tables"]
        }
    assert restored == original == manifest["tables"]
    assert original["inspections"] > 0 and original["attachments"] > 0
    assert _files(target) == _files(source)
    assert storage.key_for(hashlib.sha256(jpeg_bytes()).hexdigest(), "image/jpeg") in _files(target)

    verified = target.test_cli_runner().invoke(args=["audit", "verify"])
    assert verified.exit_code == 0, verified.output
    assert (
        Path(target.config["AUDIT_ANCHOR_FILE"]).read_text()
        == Path(source.config["AUDIT_ANCHOR_FILE"]).read_text()
    )  # the anchors came along, and the restored log still holds what they name
    checked = target.test_cli_runner().invoke(args=["evidence", "check"])
    assert checked.exit_code == 0, checked.output


def test_restore_refuses_a_database_that_is_not_empty_and_changes_nothing(
    source, instance, tmp_path
):
    archive = tmp_path / "inspect.tar.gz"
    assert _backup(source, archive).exit_code == 0
    target = instance(migrate=True)  # has tables
    done = target.test_cli_runner().invoke(args=["restore", str(archive)])
    assert done.exit_code != 0
    assert "not empty" in done.output or "不是空" in done.output
    with target.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Inspection)) == 0
        db.session.remove()
        db.engine.dispose()
    assert _files(target) == {}


def test_restore_refuses_a_damaged_archive_before_writing_anything(source, instance, tmp_path):
    archive = tmp_path / "inspect.tar.gz"
    assert _backup(source, archive).exit_code == 0
    damaged = tmp_path / "damaged.tar.gz"
    with tarfile.open(archive) as tar, tarfile.open(damaged, "w:gz") as out:
        for member in tar.getmembers():
            data = tar.extractfile(member).read()
            if member.name.startswith("evidence/") and "thumbs" not in member.name:
                data = data[:-1] + bytes([data[-1] ^ 1])
            member.size = len(data)
            out.addfile(member, io.BytesIO(data))
    target = instance()
    done = target.test_cli_runner().invoke(args=["restore", str(damaged)])
    assert done.exit_code != 0
    assert "damaged" in done.output or "损坏" in done.output
    with target.app_context():
        assert not sa.inspect(db.engine).get_table_names()
        db.engine.dispose()
    assert _files(target) == {}


def test_restore_refuses_a_file_that_is_not_a_backup(instance, tmp_path):
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"not an archive")
    target = instance()
    done = target.test_cli_runner().invoke(args=["restore", str(junk)])
    assert done.exit_code != 0
    assert "not a backup" in done.output or "不是" in done.output
