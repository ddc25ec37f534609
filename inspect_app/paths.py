"""Folders and files the app creates for itself: readable by its own user only."""

import contextlib
import os
from pathlib import Path


def private_dir(path: Path) -> None:
    """Make a folder (and missing parents) that only the app's user may enter (0700)."""
    missing = []
    while not path.exists():
        missing.append(path)
        path = path.parent
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):  # made meanwhile by another process
            folder.mkdir(mode=0o700)
        os.chmod(folder, 0o700)  # mkdir's mode is filtered by the umask


def private_sqlite_file(uri: str) -> None:
    """Create the SQLite file 0600 before SQLite would create it under the umask (0644): it
    holds password hashes. SQLite gives its -wal and -shm files the same mode."""
    from sqlalchemy.engine import make_url

    database = make_url(uri).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    if path.exists():
        return
    private_dir(path.parent)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
