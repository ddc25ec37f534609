"""One way to end a command's transaction, and one way to read a consistent snapshot."""

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from .extensions import db


@contextmanager
def unit_of_work() -> Iterator[None]:
    """The body of a command: committed at its end; on any exception rolled back (releasing
    the row locks it took, so a user who must confirm or correct does not hold them) and
    re-raised."""
    try:
        yield
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise


@contextmanager
def read_snapshot() -> Iterator[None]:
    """Reads in one transaction that sees one state of the data and blocks no writer: on SQLite
    a deferred transaction (WAL) instead of the app's BEGIN IMMEDIATE, on PostgreSQL REPEATABLE
    READ. A caller already inside such a snapshot keeps it; a request's open transaction (the
    login lookup, which on SQLite holds the write lock) is committed first. Ends with a
    rollback: what runs inside writes nothing."""
    session = db.session()  # the scoped session's own Session
    if session.in_transaction():
        options = session.connection().get_execution_options()
        if options.get("sqlite_read_snapshot") or options.get("isolation_level"):
            yield
            return
        session.commit()
    bind = db.engine
    if isinstance(bind, sa.Engine):  # tests run everything inside one outer transaction
        if bind.dialect.name == "sqlite":
            session.connection(execution_options={"sqlite_read_snapshot": True})
        elif bind.dialect.name == "postgresql":
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    try:
        yield
    finally:
        session.rollback()
