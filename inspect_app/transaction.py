"""One way to end a command's transaction."""

from collections.abc import Iterator
from contextlib import contextmanager

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
