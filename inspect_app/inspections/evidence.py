"""Evidence files: checked by content, stored by SHA-256 outside static/, served only to those
who may see the owning inspection.

JPEG, PNG and WebP photos are opened with Pillow limited to those formats and a pixel budget
(decompression bombs are refused); PDFs must start with the PDF signature. EXIF is kept in the
record; thumbnails are re-encoded without it.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from .. import audit
from ..errors import InvalidTransition, NotFound, ValidationFailed
from ..extensions import db
from ..models import Answer, Attachment, Inspection, User

IMAGE_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
EXTENSIONS = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "application/pdf": ".pdf",
}
_EXIF_KEEP = ("DateTime", "DateTimeOriginal", "Make", "Model", "Orientation", "Software")


class EvidenceRefused(ValidationFailed):
    code = "evidence_refused"


def _root() -> Path:
    return Path(current_app.config["UPLOAD_DIR"])


def path_for(sha256: str, mime: str) -> Path:
    return _root() / sha256[:2] / sha256[2:4] / (sha256 + EXTENSIONS[mime])


def thumb_path_for(sha256: str) -> Path:
    return _root() / "thumbs" / sha256[:2] / (sha256 + ".jpg")


def _exif(image: Image.Image) -> dict[str, Any]:
    out: dict[str, Any] = {}
    try:
        raw = image.getexif()
    except Exception:  # noqa: BLE001 - malformed EXIF must not refuse the photo
        return out
    for tag, value in raw.items():
        name = ExifTags.TAGS.get(tag, str(tag))
        if name in _EXIF_KEEP:
            out[name] = value if isinstance(value, int | float) else str(value)[:200]
    try:
        gps = raw.get_ifd(ExifTags.IFD.GPSInfo)
        if gps:
            out["GPS"] = {ExifTags.GPSTAGS.get(k, str(k)): str(v)[:100] for k, v in gps.items()}
    except Exception:  # noqa: BLE001
        pass
    return out


def inspect_bytes(data: bytes) -> dict[str, Any]:
    """What the bytes really are: mime, size, dimensions, EXIF. Raises EvidenceRefused."""
    limit = current_app.config["EVIDENCE_MAX_BYTES"]
    if not data:
        raise EvidenceRefused(_("The file is empty."))
    if len(data) > limit:
        raise EvidenceRefused(
            _(
                "The file is %(size)s MB; at most %(limit)s MB are accepted.",
                size=f"{len(data) / 1048576:.1f}",
                limit=f"{limit / 1048576:.0f}",
            )
        )
    if data.startswith(b"%PDF-"):
        if b"%%EOF" not in data[-2048:]:
            raise EvidenceRefused(_("The PDF file is incomplete or damaged."))
        return {
            "mime": "application/pdf",
            "size": len(data),
            "width": None,
            "height": None,
            "exif": None,
        }
    Image.MAX_IMAGE_PIXELS = current_app.config["EVIDENCE_MAX_PIXELS"]
    try:
        with Image.open(io.BytesIO(data), formats=list(IMAGE_FORMATS)) as probe:
            probe.verify()
        with Image.open(io.BytesIO(data), formats=list(IMAGE_FORMATS)) as image:
            if image.width * image.height > Image.MAX_IMAGE_PIXELS:
                raise Image.DecompressionBombError("too many pixels")
            image.load()
            return {
                "mime": IMAGE_FORMATS[image.format],
                "size": len(data),
                "width": image.width,
                "height": image.height,
                "exif": _exif(image) or None,
            }
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise EvidenceRefused(_("The image has too many pixels to be opened safely.")) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise EvidenceRefused(
            _(
                "Only JPEG, PNG or WebP photos and PDF documents are accepted; this file is none of them."
            )
        ) from None


def _write_atomically(path: Path, data: bytes) -> bool:
    """Write data to path unless it exists. Returns True when this call created the file."""
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return True


def _thumbnail(data: bytes) -> bytes:
    size = current_app.config["THUMBNAIL_SIZE"]
    with Image.open(io.BytesIO(data), formats=list(IMAGE_FORMATS)) as image:
        image = ImageOps.exif_transpose(image)
        image.thumbnail((size, size))
        out = io.BytesIO()
        image.convert("RGB").save(out, "JPEG", quality=80)  # re-encoded: no EXIF
        return out.getvalue()


def _store(data: bytes, info: dict[str, Any]) -> tuple[str, list[Path]]:
    sha256 = hashlib.sha256(data).hexdigest()
    created = []
    path = path_for(sha256, info["mime"])
    if _write_atomically(path, data):
        created.append(path)
    if info["mime"] != "application/pdf":
        thumb = thumb_path_for(sha256)
        if not thumb.exists() and _write_atomically(thumb, _thumbnail(data)):
            created.append(thumb)
    return sha256, created


def _forget(paths: list[Path]) -> None:
    for p in paths:
        p.unlink(missing_ok=True)


def add_evidence(
    inspection: Inspection,
    data: bytes,
    *,
    actor: User,
    filename: str = "",
    answer: Answer | None = None,
) -> Attachment:
    """Check and store an evidence file for an inspection (optionally one answer). Adds the
    Attachment and its audit event to the session; the caller commits. Files written by this
    call are removed again when it fails. Raises EvidenceRefused."""
    if inspection.status not in ("planned", "in_progress"):
        raise InvalidTransition(_("This inspection has been submitted and is read-only."))
    info = inspect_bytes(data)
    same = db.session.scalar(
        sa.select(Attachment).where(
            Attachment.inspection_id == inspection.id,
            Attachment.answer_id == (answer.id if answer is not None else None),
            Attachment.sha256 == hashlib.sha256(data).hexdigest(),
        )
    )
    if same is not None:  # the same file sent again (a replay after a lost reply): keep one
        return same
    sha256, created = _store(data, info)
    try:
        attachment = Attachment(
            sha256=sha256,
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
                "sha256": sha256,
                "mime": info["mime"],
                "size": info["size"],
                "answer_id": attachment.answer_id,
            },
        )
    except BaseException:
        _forget(created)
        raise
    return attachment


def upload_evidence(
    inspection_id: int, data: bytes, *, actor: User, filename: str = "", item_id: int | None = None
) -> Attachment:
    """Store one evidence file for an inspection, attached to an item's answer when item_id is
    given. Raises NotFound, NotAllowed, InvalidTransition, EvidenceRefused. Commits."""
    from . import services

    inspection = services.load(inspection_id, actor=actor, action="inspection.fill", lock=True)
    services._require_fill(actor, inspection)
    answer = None
    if item_id is not None:
        items = services.items_of(inspection)
        if item_id not in {i.id for i in items}:
            raise NotFound(_("Unknown item for this inspection."))
        services._start(inspection, actor, items)
        db.session.flush()
        answer = db.session.scalar(
            sa.select(Answer).where(
                Answer.inspection_id == inspection.id, Answer.item_id == item_id
            )
        )
    attachment = add_evidence(inspection, data, actor=actor, filename=filename, answer=answer)
    try:
        db.session.commit()
    except BaseException:
        db.session.rollback()
        _cleanup_orphan(attachment.sha256, attachment.mime)
        raise
    return attachment


def _cleanup_orphan(sha256: str, mime: str) -> None:
    still_used = db.session.scalar(
        sa.select(Attachment.id).where(Attachment.sha256 == sha256).limit(1)
    )
    if still_used is None:
        _forget([path_for(sha256, mime), thumb_path_for(sha256)])


def delete_evidence(attachment_id: int, *, actor: User) -> None:
    """Remove an evidence file from an inspection still being filled. Commits."""
    from . import services

    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or attachment.inspection_id is None:
        raise NotFound(_("No such file."))
    inspection = services.load(
        attachment.inspection_id, actor=actor, action="inspection.fill", lock=True
    )
    services._require_fill(actor, inspection)
    if attachment.kind == "signature":
        raise InvalidTransition(_("A signature cannot be removed."))
    sha256, mime = attachment.sha256, attachment.mime
    audit.record(
        actor, "evidence.delete", attachment, hidden_from_unit=True, before={"sha256": sha256}
    )
    db.session.delete(attachment)
    db.session.commit()
    _cleanup_orphan(sha256, mime)


def store_signature(png: bytes, *, inspection: Inspection, actor: User) -> Attachment:
    """Check and store the unit representative's signature image. Adds to the session."""
    info = inspect_bytes(png)
    if info["mime"] != "image/png":
        raise EvidenceRefused(_("The signature must be a PNG image."))
    sha256, _created = _store(png, info)
    attachment = Attachment(
        sha256=sha256,
        mime="image/png",
        size=info["size"],
        width=info["width"],
        height=info["height"],
        kind="signature",
        original_name="signature.png",
        inspection_id=inspection.id,
        uploaded_by_id=actor.id,
    )
    db.session.add(attachment)
    return attachment


def file_for(attachment: Attachment, *, thumbnail: bool = False) -> Path:
    path = (
        thumb_path_for(attachment.sha256)
        if thumbnail
        else path_for(attachment.sha256, attachment.mime)
    )
    if not path.exists():
        raise NotFound(_("The file is missing from storage."))
    return path
