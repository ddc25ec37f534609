"""The finished files of jobs: one private folder (JOBS_DIR, 0700), files 0600, written whole
before they get their name, so a reader never sees half a file.

With web and job consumers on several hosts, JOBS_DIR must be a folder they all share.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import re
import shutil
import tempfile
import time
import unicodedata
from pathlib import Path

from flask import current_app

from ..paths import private_dir

TEMP_PREFIX = ".tmp-"
_KEY = re.compile(r"[0-9a-f-]{36}(\.[A-Za-z0-9]{1,10})?")
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')


def folder() -> Path:
    path = Path(current_app.config["JOBS_DIR"])
    private_dir(path)
    return path


# The temporary files made by the builder that is running (see scratch()).
_scratch: contextvars.ContextVar[list[Path] | None] = contextvars.ContextVar(
    "job_scratch", default=None
)


def temp_path(suffix: str = "") -> Path:
    """A new empty file (0600) in JOBS_DIR for a builder to write into and return: moving it
    into place is then a rename. Whatever the builder does not return is deleted when it ends
    (also when it fails); after a crash, by the cleanup."""
    fd, name = tempfile.mkstemp(dir=folder(), prefix=TEMP_PREFIX, suffix=_suffix(suffix))
    os.close(fd)
    made = _scratch.get()
    if made is not None:
        made.append(Path(name))
    return Path(name)


@contextlib.contextmanager
def scratch():
    """Around a builder: the temporary files it made are deleted at the end (the one it
    returned has been moved away by then)."""
    token = _scratch.set([])
    try:
        yield
    finally:
        for path in _scratch.get() or ():
            path.unlink(missing_ok=True)
        _scratch.reset(token)


def safe_file_name(name: str, fallback: str = "download") -> str:
    """A download name without path separators or control characters, at most 150 characters
    (its extension kept)."""
    name = unicodedata.normalize("NFC", str(name or ""))
    name = _UNSAFE.sub("_", name).strip(" ._") or fallback
    stem, dot, ext = name.rpartition(".")
    if not dot or len(ext) > 10:
        stem, ext = name, ""
    return stem[: 150 - len(ext) - 1].rstrip() + ("." + ext if ext else "")


def _suffix(name_or_suffix: str) -> str:
    """ ".xlsx" of "汇总.xlsx" or of ".xlsx" itself; "" for anything odd."""
    bare = name_or_suffix.startswith(".") and name_or_suffix.count(".") == 1
    suffix = name_or_suffix if bare else Path(name_or_suffix).suffix
    return suffix if re.fullmatch(r"\.[A-Za-z0-9]{1,10}", suffix) else ""


def keep(job_id: str, content: bytes | Path, file_name: str) -> tuple[str, int]:
    """Store a job's file under its key (the job id and the name's extension); returns (key,
    size). A path is moved (renamed when it is on the same file system) and is gone after."""
    base = folder()
    key = f"{job_id}{_suffix(file_name)}"
    target = base / key
    if isinstance(content, bytes | bytearray):
        fd, tmp = tempfile.mkstemp(dir=base, prefix=TEMP_PREFIX)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(content)
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
    else:
        source = Path(content)
        if not source.is_file():
            raise FileNotFoundError(f"the builder returned {source}, which is not a file")
        try:
            os.chmod(source, 0o600)
            os.replace(source, target)
        except OSError:  # another file system: copy, then drop the original
            fd, tmp = tempfile.mkstemp(dir=base, prefix=TEMP_PREFIX)
            os.close(fd)
            try:
                shutil.copyfile(source, tmp)
                os.replace(tmp, target)
            except BaseException:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
                raise
            source.unlink(missing_ok=True)
    return key, target.stat().st_size


def path_of(key: str) -> Path | None:
    """The file of a key, or None when the key is malformed or the file is gone."""
    if not key or not _KEY.fullmatch(key):
        return None
    path = Path(current_app.config["JOBS_DIR"]) / key
    return path if path.is_file() else None


def delete(key: str | None) -> None:
    if key and _KEY.fullmatch(key):
        (Path(current_app.config["JOBS_DIR"]) / key).unlink(missing_ok=True)


def stray(referenced: set[str], *, older_than: float) -> list[str]:
    """Files in JOBS_DIR that no finished job names (crashes, temporary files), older than
    `older_than` seconds: younger ones may belong to a job that is finishing right now."""
    base = Path(current_app.config["JOBS_DIR"])
    if not base.is_dir():
        return []
    cutoff = time.time() - older_than
    found = []
    for path in base.iterdir():
        if path.is_file() and path.name not in referenced and path.stat().st_mtime < cutoff:
            found.append(path.name)
    return sorted(found)


def remove_stray(names: list[str]) -> None:
    base = Path(current_app.config["JOBS_DIR"])
    for name in names:
        if "/" not in name and name not in ("", ".", ".."):
            (base / name).unlink(missing_ok=True)
