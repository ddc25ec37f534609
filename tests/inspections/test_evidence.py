"""Evidence files: checked by content, stored by hash, served only to those who may see them."""

import io
import struct
import zlib
from pathlib import Path

from PIL import Image

from inspect_app.extensions import db
from inspect_app.models import Attachment, Unit

from ..conftest import Browser
from .helpers import jpeg_bytes


def _files(app) -> set[str]:
    root = Path(app.config["UPLOAD_DIR"])
    return {str(p) for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def _upload(b, inspection_id, data, name="photo.jpg", item_id=None):
    # A hand-made multipart body: the test client would spool a large one into a temp file
    # that it never closes.
    parts = [
        b'--B\r\nContent-Disposition: form-data; name="file"; filename="' + name.encode() + b'"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n" + data + b"\r\n"
    ]
    if item_id is not None:
        parts.append(
            b'--B\r\nContent-Disposition: form-data; name="item_id"\r\n\r\n'
            + str(item_id).encode()
            + b"\r\n"
        )
    return b.client.post(
        f"/api/v1/inspections/{inspection_id}/evidence",
        data=b"".join(parts) + b"--B--\r\n",
        headers={"X-CSRFToken": b.token()},
        content_type="multipart/form-data; boundary=B",
    )


def _png_bomb(width=20000, height=20000) -> bytes:
    def chunk(kind, data):
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    row = b"\x00" + b"\x00" * ((width + 7) // 8)
    idat = zlib.compress(row * 64, 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def _lead(app, setup):
    b = Browser(app.test_client())
    b.login(setup["lead"])
    return b


def test_a_real_photo_is_stored_by_hash_with_a_thumbnail_without_exif(app, setup):
    b = _lead(app, setup)
    r = _upload(b, setup["inspection"], jpeg_bytes(exif=True), item_id=setup["items"]["T-01"])
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["mime"] == "image/jpeg" and len(body["sha256"]) == 64
    with app.app_context():
        attachment = db.session.get(Attachment, body["id"])
        assert attachment.exif["Make"] == "TabletMaker"
        assert attachment.answer_id is not None
    with b.get(body["thumbnail_url"]) as thumb:
        assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg"
        assert thumb.headers["X-Content-Type-Options"] == "nosniff"
        with Image.open(io.BytesIO(thumb.data)) as image:
            assert max(image.size) <= 320
            assert not image.getexif()
    with b.get(body["url"]) as original:
        assert original.status_code == 200 and original.data == jpeg_bytes(exif=True)


def test_a_pdf_is_accepted_and_served_as_a_download(app, setup):
    b = _lead(app, setup)
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    r = _upload(b, setup["inspection"], pdf, name="制度.pdf")
    assert r.status_code == 201
    with b.get(r.get_json()["url"]) as served:
        assert served.mimetype == "application/pdf"
        assert served.headers["Content-Disposition"].startswith("attachment")


def test_html_renamed_to_jpg_is_refused_and_leaves_nothing(app, setup):
    b = _lead(app, setup)
    before = _files(app)
    r = _upload(b, setup["inspection"], b"<html><script>alert(1)</script></html>", name="photo.jpg")
    assert r.status_code == 400
    assert "JPEG" in r.get_json()["error"]["message"]
    with app.app_context():
        assert db.session.query(Attachment).count() == 0
    assert _files(app) == before


def test_a_20_mb_photo_is_refused_with_a_clear_message_and_leaves_nothing(app, setup):
    b = _lead(app, setup)
    before = _files(app)
    r = _upload(b, setup["inspection"], b"\xff\xd8\xff" + b"0" * (20 * 1024 * 1024))
    assert r.status_code == 413
    assert r.get_json()["error"]["code"] == "too_large"
    r = _upload(b, setup["inspection"], b"\xff\xd8\xff" + b"0" * (12 * 1024 * 1024))
    assert r.status_code == 400
    assert "MB" in r.get_json()["error"]["message"]
    with app.app_context():
        assert db.session.query(Attachment).count() == 0
    assert _files(app) == before


def test_a_decompression_bomb_is_refused_and_leaves_nothing(app, setup):
    b = _lead(app, setup)
    before = _files(app)
    bomb = _png_bomb()
    assert len(bomb) < 200_000
    r = _upload(b, setup["inspection"], bomb, name="bomb.png")
    assert r.status_code == 400
    assert r.get_json()["error"]["code"] == "evidence_refused"
    with app.app_context():
        assert db.session.query(Attachment).count() == 0
    assert _files(app) == before


def test_evidence_is_served_only_to_people_who_may_see_the_inspection(app, make, setup):
    b = _lead(app, setup)
    url = _upload(b, setup["inspection"], jpeg_bytes()).get_json()["url"]
    outsider = Browser(app.test_client())
    outsider.login(setup["outsider"])
    assert outsider.get(url).status_code == 404
    with app.app_context():
        make.user(role="unit", username="own_liaison", unit=db.session.get(Unit, setup["unit"]))
    liaison = Browser(app.test_client())
    liaison.login("own_liaison")
    assert liaison.get(url).status_code == 404  # not before submission
    assert Browser(app.test_client()).get(url).status_code == 302  # anonymous: to login


def test_removing_evidence_deletes_the_row(app, setup):
    b = _lead(app, setup)
    body = _upload(b, setup["inspection"], jpeg_bytes(size=(640, 480))).get_json()
    r = b.client.delete(f"/api/v1/evidence/{body['id']}", headers={"X-CSRFToken": b.token()})
    assert r.status_code == 204
    with app.app_context():
        assert db.session.get(Attachment, body["id"]) is None


def test_the_same_photo_sent_twice_for_one_item_is_kept_once(app, setup):
    b = _lead(app, setup)
    photo = jpeg_bytes(size=(500, 400))
    first = _upload(b, setup["inspection"], photo, item_id=setup["items"]["T-01"]).get_json()
    again = _upload(b, setup["inspection"], photo, item_id=setup["items"]["T-01"]).get_json()
    assert again["id"] == first["id"]
    with app.app_context():
        assert db.session.query(Attachment).count() == 1


def test_a_photo_whose_row_cannot_be_written_leaves_no_file_and_keeps_its_error(
    app, setup, monkeypatch
):
    """Review: the clean-up ran inside the failed transaction, so it raised an error of its own
    (the session must be rolled back first) in place of the real one and left the file."""
    import pytest
    import sqlalchemy as sa

    from inspect_app.inspections import evidence
    from inspect_app.models import User

    def failing_flush(*args, **kw):
        db.session.add(Unit())  # no code, no name: the flush fails in the database
        db.session.flush()

    monkeypatch.setattr(evidence.audit, "record", failing_flush)
    before = _files(app)
    with app.app_context():
        lead = db.session.get(User, setup["lead_id"])
        with pytest.raises(sa.exc.IntegrityError):
            evidence.upload_evidence(setup["inspection"], jpeg_bytes(), actor=lead)
        assert db.session.scalar(sa.select(sa.func.count(Attachment.id))) == 0
    assert _files(app) == before
