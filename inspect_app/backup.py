"""One-file backups (database, evidence files, audit anchors, a manifest of hashes) and restore.

The database is copied consistently while the app runs: SQLite through its online backup API (a
plain `cp` of a live file can miss the newest pages still in the write-ahead log), PostgreSQL by
`pg_dump` inside a snapshot that the row counts of the manifest are taken from too. Secrets
(SECRET_KEY, AUDIT_HMAC_KEY) are never in the archive: they live in instance/config.py, which is
backed up apart (docs/deployment.md); the manifest names the audit key only by its key id.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.engine import URL

from . import storage
from .audit.keys import keyring
from .errors import DomainError
from .extensions import db

FORMAT = "inspect-backup/1"
MANIFEST = "manifest.json"
ANCHORS = "audit-anchors.log"
# Members are named only by us: a manifest naming anything else is not one of our archives.
_EVIDENCE_NAME = re.compile(r"^evidence/(?:[0-9a-z]+/)*[0-9a-f]{64}\.[a-z0-9]{2,5}$")
_CHUNK = 1 << 20


class BackupFailed(DomainError):
    """The backup or restore could not be made; the message says why."""


@dataclass
class Summary:
    path: Path
    tables: dict[str, int]
    files: int
    bytes: int
    problems: list[str] = field(default_factory=list)


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _url() -> URL:
    # The engine's URL: Flask-SQLAlchemy places a relative SQLite path in the instance folder.
    return db.engine.url


def _table_names() -> list[str]:
    names = [table.name for table in db.metadata.sorted_tables]
    return [*names, "alembic_version"]


def _count_rows(run_scalar) -> dict[str, int]:
    quote = db.engine.dialect.identifier_preparer.quote
    return {name: int(run_scalar(f"SELECT count(*) FROM {quote(name)}")) for name in _table_names()}


def _pg_env(url: URL) -> dict[str, str]:
    """libpq settings for pg_dump/pg_restore: the password goes in the environment, not argv."""
    env = dict(os.environ)
    for var, value in (
        ("PGHOST", url.host),
        ("PGPORT", url.port),
        ("PGUSER", url.username),
        ("PGPASSWORD", url.password),
        ("PGDATABASE", url.database),
    ):
        if value is not None:
            env[var] = str(value)
    return env


def _run(args: list[str], env: dict[str, str]) -> None:
    try:
        done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    except FileNotFoundError as exc:
        raise BackupFailed(
            _("%(tool)s is not installed (Debian: postgresql-client).", tool=args[0])
        ) from exc
    if done.returncode != 0:
        raise BackupFailed(
            _("%(tool)s failed: %(error)s", tool=args[0], error=done.stderr.strip()[-2000:])
        )


# --- backup -------------------------------------------------------------------------------------


def _dump_sqlite(url: URL, target: Path) -> dict[str, int]:
    source = sqlite3.connect(url.database)
    dest = sqlite3.connect(target)
    try:
        with dest:
            source.backup(dest)
        return _count_rows(lambda sql: dest.execute(sql).fetchone()[0])
    finally:
        source.close()
        dest.close()


def _dump_postgres(url: URL, target: Path) -> dict[str, int]:
    # pg_dump reads the very snapshot the counts are taken in, so they describe the dump.
    connection = db.engine.connect().execution_options(isolation_level="REPEATABLE READ")
    with connection as conn, conn.begin():
        snapshot = conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one()
        counts = _count_rows(lambda sql: conn.exec_driver_sql(sql).scalar_one())
        _run(
            [
                "pg_dump",
                "--format=custom",
                "--no-owner",
                "--no-privileges",
                f"--snapshot={snapshot}",
                f"--file={target}",
            ],
            _pg_env(url),
        )
    return counts


def _evidence() -> Iterator[tuple[str, Path]]:
    files = storage.store()
    for key, _mtime in sorted(files.keys()):
        if key.startswith(".") or "/." in key:
            continue  # an upload still being written
        yield key, files.local_path(key)


def create_backup(output: Path, *, now: datetime | None = None) -> Summary:
    """Write one archive at `output` (mode 0600, written whole or not at all) and describe it.

    Raises BackupFailed when the database cannot be copied. Reads only; commits nothing.
    """
    now = now or datetime.now(UTC)
    url = _url()
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="inspect-backup-") as scratch:
        scratch = Path(scratch)
        if url.get_backend_name() == "sqlite":
            dump_name = "database.sqlite"
            counts = _dump_sqlite(url, scratch / dump_name)
        elif url.get_backend_name() == "postgresql":
            dump_name = "database.pgdump"
            counts = _dump_postgres(url, scratch / dump_name)
        else:
            raise BackupFailed(_("Backups support SQLite and PostgreSQL only."))
        members = [(dump_name, scratch / dump_name)]
        members += [(f"evidence/{key}", path) for key, path in _evidence()]
        anchors = Path(current_app.config["AUDIT_ANCHOR_FILE"])
        if anchors.is_file():
            shutil.copyfile(anchors, scratch / ANCHORS)
            members.append((ANCHORS, scratch / ANCHORS))
        listed = [
            {"name": name, "sha256": _sha256_file(path), "size": path.stat().st_size}
            for name, path in members
        ]
        manifest = {
            "format": FORMAT,
            "created_at": now.isoformat(timespec="seconds"),
            "backend": url.get_backend_name(),
            "database": dump_name,
            "audit_key_id": keyring().current_id,
            "tables": counts,
            "members": listed,
        }
        (scratch / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1))
        fd, tmp = tempfile.mkstemp(dir=output.parent, prefix=".backup-")  # mode 0600
        os.close(fd)
        try:
            with tarfile.open(tmp, "w:gz", compresslevel=6) as tar:
                tar.add(scratch / MANIFEST, arcname=MANIFEST)
                for name, path in members:
                    tar.add(path, arcname=name)
            os.replace(tmp, output)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    evidence = [m for m in listed if m["name"].startswith("evidence/")]
    return Summary(output, counts, len(evidence), sum(m["size"] for m in evidence))


# --- restore ------------------------------------------------------------------------------------


def _read_manifest(tar: tarfile.TarFile) -> dict:
    try:
        member = tar.getmember(MANIFEST)
        manifest = json.loads(tar.extractfile(member).read(10 << 20))
    except (KeyError, AttributeError, ValueError) as exc:
        raise BackupFailed(_("This file is not a backup of this app (no manifest).")) from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupFailed(_("This file is not a backup of this app (unknown format)."))
    for entry in manifest.get("members", []):
        name = entry.get("name", "")
        if name not in (manifest.get("database"), ANCHORS) and not _EVIDENCE_NAME.match(name):
            raise BackupFailed(_("The backup names an unexpected file: %(name)s", name=name))
    return manifest


def _extract_checked(tar: tarfile.TarFile, manifest: dict, into: Path) -> None:
    """Extract every listed member, checking size and SHA-256 before anything is restored."""
    for entry in manifest["members"]:
        try:
            member = tar.getmember(entry["name"])
        except KeyError as exc:
            raise BackupFailed(_("The backup lacks %(name)s.", name=entry["name"])) from exc
        if not member.isfile() or member.size != entry["size"]:
            raise BackupFailed(_("%(name)s in the backup is damaged.", name=entry["name"]))
        target = into / entry["name"]
        target.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        with tar.extractfile(member) as src, open(target, "wb") as dst:
            while chunk := src.read(_CHUNK):
                digest.update(chunk)
                dst.write(chunk)
        if digest.hexdigest() != entry["sha256"]:
            raise BackupFailed(_("%(name)s in the backup is damaged.", name=entry["name"]))


def _database_is_empty() -> bool:
    return not sa.inspect(db.engine).get_table_names()


def _restore_sqlite(url: URL, source: Path) -> None:
    db.engine.dispose()
    src = sqlite3.connect(source)
    dest = sqlite3.connect(url.database)
    try:
        with dest:
            src.backup(dest)
    finally:
        src.close()
        dest.close()


def _restore_postgres(url: URL, source: Path) -> None:
    db.engine.dispose()
    _run(
        [
            "pg_restore",
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            f"--dbname={url.database}",
            str(source),
        ],
        _pg_env(url),
    )


def restore_backup(archive: Path) -> Summary:
    """Restore an archive into this instance, whose database and evidence store must be empty.

    Every member's hash is checked before anything is written; afterwards the row counts are
    compared with the manifest's (a difference is listed in Summary.problems). Raises
    BackupFailed when the archive is not ours, is damaged, or the instance is not empty.
    """
    url = _url()
    try:
        tar = tarfile.open(archive, "r:*")  # noqa: SIM115 (closed by the with below)
    except (OSError, tarfile.TarError) as exc:
        raise BackupFailed(_("This file is not a backup of this app.")) from exc
    with tar, tempfile.TemporaryDirectory(prefix="inspect-restore-") as scratch:
        scratch = Path(scratch)
        manifest = _read_manifest(tar)
        if manifest["backend"] != url.get_backend_name():
            raise BackupFailed(
                _(
                    "The backup is of a %(theirs)s database; this instance uses %(ours)s.",
                    theirs=manifest["backend"],
                    ours=url.get_backend_name(),
                )
            )
        if not _database_is_empty():
            raise BackupFailed(_("The database is not empty: restore only into a new instance."))
        files = storage.store()
        if next(iter(files.keys()), None) is not None:
            raise BackupFailed(_("The evidence folder is not empty: restore only into a new one."))
        _extract_checked(tar, manifest, scratch)

        dump = scratch / manifest["database"]
        if url.get_backend_name() == "sqlite":
            _restore_sqlite(url, dump)
        else:
            _restore_postgres(url, dump)
        size = count = 0
        for entry in manifest["members"]:
            if entry["name"].startswith("evidence/"):
                path = scratch / entry["name"]
                size += path.stat().st_size
                # A file at a time, never whole in memory: recordings may be hundreds of MB.
                files.put_file(entry["name"].removeprefix("evidence/"), path)
                count += 1
        anchors = Path(current_app.config["AUDIT_ANCHOR_FILE"])
        if (scratch / ANCHORS).is_file() and not anchors.exists():
            anchors.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(scratch / ANCHORS, anchors)

    db.engine.dispose()
    with db.engine.connect() as conn:
        counts = _count_rows(lambda sql: conn.exec_driver_sql(sql).scalar_one())
    problems = [
        _("Table %(table)s: %(found)d rows, the backup had %(had)d.", table=t, found=n, had=had)
        for t, had in manifest["tables"].items()
        if (n := counts.get(t, 0)) != had
    ]
    if manifest.get("audit_key_id") != keyring().current_id:
        problems.append(
            _(
                "The audit key differs from the one the backup was made with (key id %(id)s): "
                "set that key (AUDIT_HMAC_KEY or AUDIT_HMAC_OLD_KEYS) before `flask audit verify`.",
                id=manifest.get("audit_key_id"),
            )
        )
    return Summary(Path(archive), counts, count, size, problems)
