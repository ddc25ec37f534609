"""Evidence of an inspection: adding and removing photos and documents while it is filled.

The files themselves (checks, storage, thumbnails, copies without metadata) are storage.py's.
"""

from __future__ import annotations

import hashlib
import os

import sqlalchemy as sa
from flask_babel import gettext as _

from .. import audit, storage
from ..errors import InvalidTransition, NotFound
from ..extensions import db
from ..models import Answer, Attachment, Inspection, User
from . import services


def add_evidence(
    inspection: Inspection,
    data: bytes,
    *,
    actor: User,
    filename: str = "",
    answer: Answer | None = None,
) -> Attachment:
    """Check and store an evidence file for an inspection (optionally one answer). Adds the
    Attachment and its audit event to the session; the caller commits (and on failure calls
    storage.discard_if_unused). Raises EvidenceRefused. If adding the row fails, the
    transaction is rolled back and the file it stored removed."""
    if not inspection.is_editable:
        raise InvalidTransition(_("This inspection has been submitted and is read-only."))
    info = storage.inspect_bytes(data)
    same = db.session.scalar(
        sa.select(Attachment).where(
            Attachment.inspection_id == inspection.id,
            Attachment.answer_id == (answer.id if answer is not None else None),
            Attachment.sha256 == hashlib.sha256(data).hexdigest(),
        )
    )
    if same is not None:  # the same file sent again (a replay after a lost reply): keep one
        return same
    stored = storage.put(data, info)
    try:
        attachment = Attachment(
            sha256=stored.sha256,
            mime=info["mime"],
            size=info["size"],
            width=info["width"],
            height=info["height"],
            exif=info["exif"],
            original_name=os.path.basename(filename or "")[:255],
            kind="document" if info["mime"] == "application/pdf" else "photo",
            inspection_id=inspection.id,
            answer_id=answer.id if answer is not None else None,
            uploaded_by_id=actor.id,
        )
        db.session.add(attachment)
        audit.record(
            actor,
            "evidence.add",
            attachment,
            hidden_from_unit=True,
            after={
                "sha256": stored.sha256,
                "mime": info["mime"],
                "size": info["size"],
                "answer_id": attachment.answer_id,
            },
        )
    except BaseException:
        # Rolled back first: a failed flush leaves a transaction nothing can read, and the
        # file is removed only once no uncommitted row of ours could name it.
        db.session.rollback()
        storage.discard(stored)
        raise
    return attachment


def upload_evidence(
    inspection_id: int, data: bytes, *, actor: User, filename: str = "", item_id: int | None = None
) -> Attachment:
    """Store one evidence file for an inspection, attached to an item's answer when item_id is
    given. Raises NotFound, NotAllowed, InvalidTransition, EvidenceRefused. Commits."""
    inspection = services.load(inspection_id, actor=actor, action="inspection.fill", lock=True)
    services.require_fill(actor, inspection)
    answer = None
    if item_id is not None:
        items = services.items_of(inspection)
        if item_id not in {i.id for i in items}:
            raise NotFound(_("Unknown item for this inspection."))
        services.ensure_started(inspection, actor, items)
        db.session.flush()
        answer = db.session.scalar(
            sa.select(Answer).where(
                Answer.inspection_id == inspection.id, Answer.item_id == item_id
            )
        )
    attachment = add_evidence(inspection, data, actor=actor, filename=filename, answer=answer)
    sha256, mime = attachment.sha256, attachment.mime
    try:
        db.session.commit()
    except BaseException:
        db.session.rollback()
        storage.discard_if_unused(sha256, mime)
        raise
    return attachment


def delete_evidence(attachment_id: int, *, actor: User) -> None:
    """Remove an evidence file from an inspection still being filled. Commits."""
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or attachment.inspection_id is None:
        raise NotFound(_("No such file."))
    inspection = services.load(
        attachment.inspection_id, actor=actor, action="inspection.fill", lock=True
    )
    services.require_fill(actor, inspection)
    if attachment.kind == "signature":
        raise InvalidTransition(_("A signature cannot be removed."))
    sha256, mime = attachment.sha256, attachment.mime
    audit.record(
        actor, "evidence.delete", attachment, hidden_from_unit=True, before={"sha256": sha256}
    )
    db.session.delete(attachment)
    db.session.commit()
    storage.discard_if_unused(sha256, mime)


def delete_evidence_of(inspection_id: int, attachment_id: int, *, actor: User) -> bool:
    """Remove an evidence file if it belongs to this inspection (see delete_evidence); False when
    it does not (gone already, or another inspection's). Commits."""
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or attachment.inspection_id != inspection_id:
        return False
    delete_evidence(attachment_id, actor=actor)
    return True
