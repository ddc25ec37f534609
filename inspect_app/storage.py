"""Evidence files, for every feature: checked by content, stored by SHA-256 outside static/,
with a thumbnail and a copy without metadata. It knows attachments, not inspections.

JPEG, PNG and WebP photos are opened with Pillow limited to those formats and a pixel budget
(decompression bombs are refused); PDFs must start with the PDF signature. The original keeps
its EXIF (the record keeps the time and place a photo was taken); the thumbnail and the public
copy are re-encoded without it, so GPS and the device never reach someone who may see the photo
but not where the inspector stood.

Files live in a FileStore chosen by EVIDENCE_STORE: LocalStore (a folder, shared between hosts
by a network mount) or S3Store (s3store.py, an S3-compatible bucket). Files are written before the database commits, so a crash in
between leaves a file no row names: `flask evidence gc` removes those after a grace period.
Storing and removing a file both claim its hash for the transaction (claim()), so a removal
never takes a file another upload is about to name.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import shutil
import struct
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from .errors import NotFound, StorageUnavailable, StorageUnreachable, ValidationFailed
from .extensions import db
from .models import Attachment
from .paths import private_dir

IMAGE_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
EXTENSIONS = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "application/pdf": ".pdf",
    "video/mp4": ".mp4",
    "audio/mp4": ".m4a",
}
# Audio and video (执法记录仪 clips) are ISO base media files (MP4, M4A) whose ftyp box names one
# of these brands. QuickTime ("qt  "), 3GP and fragmented streams of other families are refused.
MEDIA_BRANDS = frozenset(
    b.encode()
    for b in (
        "isom",
        "iso2",
        "iso3",
        "iso4",
        "iso5",
        "iso6",
        "mp41",
        "mp42",
        "avc1",
        "M4A ",
        "M4B ",
        "M4V ",
        "dash",
    )
)
MEDIA_MIMES = ("video/mp4", "audio/mp4")
_CHUNK = 1024 * 1024
_EXIF_KEEP = ("DateTime", "DateTimeOriginal", "Make", "Model", "Orientation", "Software")
# The variants of one file: the bytes as uploaded, a small JPEG, and a copy without metadata.
VARIANTS = ("original", "thumbnail", "public")


class EvidenceRefused(ValidationFailed):
    code = "evidence_refused"


# --- the store ----------------------------------------------------------------------------------


class FileStore(Protocol):
    """Where files live, by key ("ab/cd/<sha256>.jpg"). Keys are made here, never by clients."""

    def put(self, key: str, data: bytes) -> bool:
        """Store data under key unless it is there. True when this call created it."""

    def put_file(self, key: str, path: Path) -> bool:
        """Store the file at path under key unless it is there, without reading it whole into
        memory. It may move the file; one left at path is the caller's to remove. True when
        this call created it."""

    def exists(self, key: str) -> bool: ...

    def local_path(self, key: str) -> Path:
        """A path to send the file from (a local store's own file, a remote store's cached copy)."""

    def delete(self, key: str) -> None: ...

    def keys(self) -> Iterator[tuple[str, float]]:
        """Every key with its modification time (seconds since the epoch)."""


class LocalStore:
    """A folder: folders 0700, files 0600, written atomically (temp file, then rename)."""

    def __init__(self, root: Path):
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root / key

    def put(self, key: str, data: bytes) -> bool:
        path = self._path(key)
        if path.exists():
            return False
        private_dir(path.parent)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")  # mode 0600
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        return True

    def put_file(self, key: str, path: Path) -> bool:
        target = self._path(key)
        if target.exists():
            return False
        private_dir(target.parent)
        if os.stat(path).st_dev == os.stat(target.parent).st_dev:
            os.replace(path, target)  # a spooled upload on the same disk: no second copy
            return True
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")  # mode 0600
        try:
            with os.fdopen(fd, "wb") as out, open(path, "rb") as src:
                shutil.copyfileobj(src, out, _CHUNK)
            os.replace(tmp, target)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        return True

    def exists(self, key: str) -> bool:
        return self._path(key).exists()

    def local_path(self, key: str) -> Path:
        return self._path(key)

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def keys(self) -> Iterator[tuple[str, float]]:
        if not self.root.exists():
            return
        for path in self.root.rglob("*"):
            if path.is_file():
                yield str(path.relative_to(self.root)), path.stat().st_mtime


def store() -> FileStore:
    """The configured store; a bucket's client is made once per app and shared by threads."""
    if current_app.config["EVIDENCE_STORE"] != "s3":
        return LocalStore(Path(current_app.config["UPLOAD_DIR"]))
    bucket = current_app.extensions.get("evidence_s3")
    if bucket is None:
        from .s3store import S3Store

        bucket = current_app.extensions.setdefault(
            "evidence_s3", S3Store.from_config(current_app.config)
        )
    return bucket


def key_for(sha256: str, mime: str, variant: str = "original") -> str:
    if variant == "thumbnail":
        return f"thumbs/{sha256[:2]}/{sha256}.jpg"
    if variant == "public":
        return f"public/{sha256[:2]}/{sha256}{EXTENSIONS[mime]}"
    return f"{sha256[:2]}/{sha256[2:4]}/{sha256}{EXTENSIONS[mime]}"


# --- checking -----------------------------------------------------------------------------------


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
    try:
        with Image.open(io.BytesIO(data), formats=list(IMAGE_FORMATS)) as probe:
            probe.verify()
        with Image.open(io.BytesIO(data), formats=list(IMAGE_FORMATS)) as image:
            if image.width * image.height > current_app.config["EVIDENCE_MAX_PIXELS"]:
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


# --- derived files ------------------------------------------------------------------------------


def _thumbnail(data: bytes) -> bytes:
    size = current_app.config["THUMBNAIL_SIZE"]
    with Image.open(io.BytesIO(data), formats=list(IMAGE_FORMATS)) as image:
        image = ImageOps.exif_transpose(image)
        image.thumbnail((size, size))
        out = io.BytesIO()
        image.convert("RGB").save(out, "JPEG", quality=80)  # re-encoded: no EXIF
        return out.getvalue()


def _public_copy(data: bytes, mime: str) -> bytes:
    """The image turned upright and re-encoded without EXIF, XMP or text chunks."""
    with Image.open(io.BytesIO(data), formats=list(IMAGE_FORMATS)) as image:
        upright = ImageOps.exif_transpose(image)
        out = io.BytesIO()
        if mime == "image/jpeg":
            upright.convert("RGB").save(out, "JPEG", quality=92)
        elif mime == "image/webp":
            upright.save(out, "WEBP", quality=90)
        else:
            upright.save(out, "PNG")
        return out.getvalue()


# --- storing and discarding ---------------------------------------------------------------------


@dataclass
class StoredFile:
    sha256: str
    info: dict[str, Any]
    created: list[str] = field(default_factory=list)  # keys this call wrote


def _unavailable() -> StorageUnavailable:
    return StorageUnavailable(
        _(
            "The server could not store the file (its storage is full or not writable). "
            "Nothing was recorded: keep the file and try again later, or tell the "
            "administrator."
        )
    )


def put(data: bytes, info: dict[str, Any] | None = None) -> StoredFile:
    """Check (unless info is given) and store data with its derived files. Returns what was
    written, so a caller whose transaction fails can discard() it. Raises EvidenceRefused."""
    info = info or inspect_bytes(data)
    sha256 = hashlib.sha256(data).hexdigest()
    stored = StoredFile(sha256, info)
    files = store()
    mime = info["mime"]
    claim(sha256)
    try:
        if files.put(key_for(sha256, mime), data):
            stored.created.append(key_for(sha256, mime))
        if mime != "application/pdf":
            for variant, make in (("thumbnail", _thumbnail), ("public", _public_copy)):
                key = key_for(sha256, mime, variant)
                if not files.exists(key):
                    derived = make(data) if variant == "thumbnail" else make(data, mime)
                    if files.put(key, derived):
                        stored.created.append(key)
    except OSError as exc:
        # Disk full, folder not writable, store unreachable: say so, and leave no half set.
        current_app.logger.error("The evidence store refused a write: %s", exc)
        with contextlib.suppress(OSError):  # `flask evidence gc` removes what is left now
            discard(stored)
        raise _unavailable() from exc
    return stored


def put_signature(png: bytes) -> StoredFile:
    """Check that a signature drawn on the tablet is a PNG and store it. Raises EvidenceRefused
    (and StorageUnavailable, like put)."""
    info = inspect_bytes(png)
    if info["mime"] != "image/png":
        raise EvidenceRefused(_("The signature must be a PNG image."))
    return put(png, info)


# --- audio and video -----------------------------------------------------------------------------


def _boxes(fh: IO[bytes], start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """(type, payload start, end) of each ISO BMFF box from start to end, read header by header
    (seeks, never the payloads). Raises EvidenceRefused when a box does not fit its parent."""
    pos = start
    while pos < end:
        fh.seek(pos)
        header = fh.read(8)
        if len(header) < 8:
            raise _not_media()
        size, kind = struct.unpack(">I4s", header)
        head = 8
        if size == 1:  # a 64-bit size follows the type
            large = fh.read(8)
            if len(large) < 8:
                raise _not_media()
            size, head = struct.unpack(">Q", large)[0], 16
        elif size == 0:  # the box runs to the end of its parent
            size = end - pos
        if size < head or pos + size > end:
            raise _not_media()
        yield kind, pos + head, pos + size
        pos += size


def _not_media() -> EvidenceRefused:
    return EvidenceRefused(
        _(
            "Only MP4 video and M4A audio files are accepted here; this file is not a complete "
            "MP4 or M4A file, whatever its name says."
        )
    )


def _handlers(fh: IO[bytes], moov: tuple[int, int]) -> set[bytes]:
    """The handler types (b"vide", b"soun", ...) of the tracks in a moov box."""
    found = set()
    for kind, start, end in _boxes(fh, *moov):
        if kind != b"trak":
            continue
        for kind2, start2, end2 in _boxes(fh, start, end):
            if kind2 != b"mdia":
                continue
            for kind3, start3, end3 in _boxes(fh, start2, end2):
                if kind3 == b"hdlr" and end3 - start3 >= 12:
                    fh.seek(start3 + 8)  # version and flags, pre_defined, then the type
                    found.add(fh.read(4))
    return found


def inspect_media(fh: IO[bytes], size: int) -> dict[str, Any]:
    """What an audio or video file really is, from its boxes: an ftyp box with an allowed brand
    first, boxes that exactly fill the file, a moov box with an audio or video track. Returns
    mime ("video/mp4" when any track is video, else "audio/mp4") and size. Raises
    EvidenceRefused."""
    if size == 0:
        raise EvidenceRefused(_("The file is empty."))
    boxes = _boxes(fh, 0, size)
    first = next(boxes, None)
    if first is None or first[0] != b"ftyp" or first[2] - first[1] < 8:
        raise _not_media()
    fh.seek(first[1])
    ftyp = fh.read(min(first[2] - first[1], 4096))
    brands = {ftyp[:4]} | {ftyp[i : i + 4] for i in range(8, len(ftyp) - 3, 4)}
    if not brands & MEDIA_BRANDS:
        raise _not_media()
    moov = None
    for count, (kind, start, end) in enumerate(boxes):
        if count > 100_000 or not all(0x20 <= c < 0x7F for c in kind):
            raise _not_media()
        if kind == b"moov":
            moov = (start, end)
    if moov is None:
        raise _not_media()
    handlers = _handlers(fh, moov)
    if b"vide" in handlers:
        mime = "video/mp4"
    elif b"soun" in handlers:
        mime = "audio/mp4"
    else:
        raise EvidenceRefused(_("The file has neither an audio nor a video track."))
    return {"mime": mime, "size": size, "width": None, "height": None, "exif": None}


def megabytes(size: int) -> str:
    """A size in MB as people read it: 512, 1.5, 0.00391."""
    value = size / 1048576
    return f"{value:.0f}" if value >= 10 else f"{value:.3g}"


def media_limit_refusal(limit: int) -> EvidenceRefused:
    return EvidenceRefused(
        _(
            "The recording is larger than %(limit)s MB, the most this server accepts. Nothing "
            "was stored: split the recording, or ask the administrator to raise the limit.",
            limit=megabytes(limit),
        )
    )


def _spool_dir() -> Path:
    """Where an upload is written while it is hashed and checked: beside the files for a local
    store (so storing it is a rename), in the cache folder for a bucket."""
    if current_app.config["EVIDENCE_STORE"] == "s3":
        folder = Path(current_app.config["EVIDENCE_CACHE_DIR"]) / "incoming"
    else:
        folder = Path(current_app.config["UPLOAD_DIR"]) / "incoming"
    private_dir(folder)
    return folder


def put_media(stream: IO[bytes]) -> StoredFile:
    """Check and store an audio or video file read from stream in chunks: written to a spool
    file while its SHA-256 and size are computed, checked by its boxes, then handed to the store;
    never held whole in memory. At most EVIDENCE_MEDIA_MAX_BYTES. Raises EvidenceRefused (and
    StorageUnavailable, like put); on any failure nothing stays behind."""
    limit = current_app.config["EVIDENCE_MEDIA_MAX_BYTES"]
    fd, tmp = tempfile.mkstemp(dir=_spool_dir(), prefix=".upload-")  # mode 0600
    try:
        digest, size = hashlib.sha256(), 0
        with os.fdopen(fd, "wb") as out:
            while chunk := stream.read(_CHUNK):
                size += len(chunk)
                if size > limit:
                    raise media_limit_refusal(limit)
                digest.update(chunk)
                out.write(chunk)
        with open(tmp, "rb") as fh:
            info = inspect_media(fh, size)
        stored = StoredFile(digest.hexdigest(), info)
        key = key_for(stored.sha256, info["mime"])
        files = store()
        try:
            if isinstance(files, LocalStore):
                # Storing is a rename (or one local copy): claimed first, which opens the
                # caller's transaction; the spooling above ran outside it.
                claim(stored.sha256)
                if files.put_file(key, Path(tmp)):
                    stored.created.append(key)
            else:
                # A bucket: the upload may take minutes, so it runs before the claim (no
                # transaction, on SQLite no write lock, held meanwhile); a removal that took
                # the file in between is made good from the spool file once claimed.
                if files.put_file(key, Path(tmp)):
                    stored.created.append(key)
                claim(stored.sha256)
                if not files.exists(key) and files.put_file(key, Path(tmp)):
                    stored.created = [key]
        except OSError as exc:
            current_app.logger.error("The evidence store refused a write: %s", exc)
            raise _unavailable() from exc
        return stored
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def signature_attachment(stored: StoredFile, *, kind: str, name: str, **owner: Any) -> Attachment:
    """The Attachment row naming a stored signature; `owner` gives its inspection or visit,
    the uploader and, optionally, created_at."""
    return Attachment(
        sha256=stored.sha256,
        mime="image/png",
        size=stored.info["size"],
        width=stored.info["width"],
        height=stored.info["height"],
        kind=kind,
        original_name=name,
        **owner,
    )


def claim(*sha256s: str) -> None:
    """Keep the files of these hashes from being removed until the current transaction ends.

    Whoever stores a file claims it before writing (or finding) it, so the row that will name
    it is committed under the claim; whoever removes one claims it before checking that no row
    names it. Without this a removal could check between another upload's write and its commit
    and take the file that upload's row then names. On PostgreSQL a transaction-scoped advisory
    lock per hash (taken in sorted order); on SQLite every transaction holds the write lock from
    its BEGIN (IMMEDIATE), so opening the transaction is the claim."""
    conn = db.session.connection()
    if conn.dialect.name == "postgresql":
        for sha256 in sorted(set(sha256s)):
            conn.execute(_CLAIM, {"space": _CLAIM_SPACE, "key": int(sha256[:8], 16) - 2**31})


# pg_advisory_xact_lock(int4, int4): a space of its own, then the first 32 bits of the hash
# (two hashes sharing them only wait for each other).
_CLAIM = sa.text("SELECT pg_advisory_xact_lock(:space, :key)")
_CLAIM_SPACE = 0x45564944  # "EVID"


def _unnamed_under_claim(sha256: str) -> bool:
    """Whether no attachment names the file, checked under its claim (held to the end of the
    transaction, so no upload of it can commit a row before the file is removed)."""
    claim(sha256)
    named = sa.select(Attachment.id).where(Attachment.sha256 == sha256).limit(1)
    return db.session.scalar(named) is None


def discard(stored: StoredFile) -> None:
    """Remove the files a put() created, when the row that would name them was not written
    (see discard_if_unused: call it once that transaction is rolled back, or inside it)."""
    if stored.created:
        discard_if_unused(stored.sha256, stored.info["mime"], only=stored.created)


def discard_if_unused(sha256: str, mime: str, *, only: list[str] | None = None) -> None:
    """Remove a file and its variants (or only the keys `only`) when no committed attachment
    names it any longer, under claim(): an upload of the same file still open keeps it.

    Called after the caller's transaction ended (its commit or rollback), it opens one of its
    own and commits it. Called inside a transaction that failed, it leaves the files to `flask
    evidence gc` if that transaction can no longer be read. A store that refuses (a bucket down)
    leaves them to gc too: the caller's commit stands."""
    own = not db.session().in_transaction()
    try:
        with db.session.no_autoflush:  # a failed caller's unflushed row is not "still used"
            unused = _unnamed_under_claim(sha256)
    except sa.exc.SQLAlchemyError as exc:  # a caller's transaction that failed (or its server)
        if own:
            db.session.rollback()
        current_app.logger.warning("Evidence file %s left for gc: %s", sha256, exc)
        return
    if unused:
        files = store()
        keys = only if only is not None else [key_for(sha256, mime, v) for v in VARIANTS]
        try:
            for key in keys:
                files.delete(key)
        except OSError as exc:
            current_app.logger.warning("Unused evidence file %s left for gc: %s", sha256, exc)
    if own:
        db.session.commit()  # ends the claim


def path_for(attachment: Attachment, variant: str = "original") -> Path:
    """A local path to send the attachment's file from. The public copy of an older upload is
    made on first use. Raises NotFound when the file is missing from storage, StorageUnreachable
    when the store does not answer."""
    files = store()
    if attachment.mime == "application/pdf" or attachment.mime in MEDIA_MIMES:
        variant = "original"  # no derived copies: sent as stored
    key = key_for(attachment.sha256, attachment.mime, variant)
    if variant == "public" and not files.exists(key):
        original = key_for(attachment.sha256, attachment.mime)
        if files.exists(original):
            files.put(key, _public_copy(files.local_path(original).read_bytes(), attachment.mime))
    try:
        if not files.exists(key):
            raise FileNotFoundError(key)
        return files.local_path(key)
    except FileNotFoundError:
        raise NotFound(_("The file is missing from storage.")) from None
    except OSError as exc:  # a bucket that does not answer: nothing is wrong with the record
        current_app.logger.error("The evidence store could not be read: %s", exc)
        raise StorageUnreachable(
            _("The file store cannot be reached just now. Try again in a moment.")
        ) from exc


def collect_garbage(*, older_than: float) -> list[str]:
    """Delete stored files that no attachment names and that are older than `older_than`
    seconds (younger ones may belong to an upload whose transaction has not committed yet).
    Returns the deleted keys."""
    known = set(db.session.scalars(sa.select(Attachment.sha256).distinct()))
    cutoff = time.time() - older_than
    files = store()
    deleted = []
    db.session.commit()  # the list read: its transaction (on SQLite, the write lock) ends here
    for key, mtime in list(files.keys()):
        name = Path(key).name
        if mtime >= cutoff:
            continue
        if name.startswith(".upload-"):
            files.delete(key)  # a temporary file left by a crash in the middle of a write
            deleted.append(key)
            continue
        sha256 = name.split(".", 1)[0]
        if sha256 in known:
            continue
        # Named by nobody when the list was read: checked again under the claim, one file at a
        # time, since an upload of the same file may have found it since and not yet committed.
        if _unnamed_under_claim(sha256):
            files.delete(key)
            deleted.append(key)
        db.session.commit()
    return deleted


def missing_files() -> list[tuple[int, str]]:
    """(attachment id, key) of every attachment whose original is not in the store."""
    files = store()
    rows = db.session.execute(sa.select(Attachment.id, Attachment.sha256, Attachment.mime))
    return [
        (ident, key_for(sha256, mime))
        for ident, sha256, mime in rows
        if not files.exists(key_for(sha256, mime))
    ]
