"""Audio and video evidence (执法记录仪): checked by content, streamed with its hash, limited in
size, numbered on the record, played back with byte ranges to those who may see the visit."""

import io
import re
from pathlib import Path

import pytest

from inspect_app import storage
from inspect_app.extensions import db
from inspect_app.models import Attachment, AuditEvent, Inspection, User, Visit

from ..conftest import Browser
from .helpers import m4a_bytes, mp4_bytes, post_recording


def _files(app) -> set[str]:
    root = Path(app.config["UPLOAD_DIR"])
    return {str(p) for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def _browser(app, username):
    b = Browser(app.test_client())
    b.login(username)
    return b


def _upload(b, inspection_id, data, name="clip.mp4"):
    return post_recording(b, inspection_id, data, name)


def _recordings(app):
    with app.app_context():
        return db.session.query(Attachment).filter(Attachment.kind.in_(("video", "audio"))).all()


def _text(html):
    return re.sub(r"\s+", "", re.sub(r"<[^>]+>", "", html))


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"<html><script>alert(1)</script></html>", "clip.mp4"),  # only the name says MP4
        (mp4_bytes(brand=b"qt  ", compatible=()), "clip.mp4"),  # QuickTime, not MP4
        (mp4_bytes()[:-10], "clip.mp4"),  # cut short: the last box does not fit
        (mp4_bytes(handler=b"text"), "clip.mp4"),  # neither audio nor video
        (b"\x00\x00\x00\x18moov" + mp4_bytes()[8:], "clip.m4a"),  # no ftyp box first
    ],
    ids=["html", "quicktime", "truncated", "no-track", "no-ftyp"],
)
def test_a_fake_recording_is_refused_with_a_clear_message_and_nothing_stored(
    app, setup, data, name
):
    before = _files(app)
    r = _upload(_browser(app, setup["lead"]), setup["inspection"], data, name)
    assert r.status_code == 400
    assert "MP4" in r.get_data(as_text=True) or "音频" in r.get_data(as_text=True)
    assert _recordings(app) == []
    assert _files(app) == before


def test_a_recording_over_the_configured_limit_is_refused_and_nothing_stored(
    app, setup, monkeypatch
):
    monkeypatch.setitem(app.config, "EVIDENCE_MEDIA_MAX_BYTES", 4096)
    b = _browser(app, setup["lead"])
    before = _files(app)
    # Over the file limit but within the request's room for the form: the service says so.
    r = _upload(b, setup["inspection"], mp4_bytes(pad=5000))
    assert r.status_code == 400
    assert "录音录像超过 0.00391 MB，本服务器最多接受" in r.get_data(as_text=True)
    # Far over: the request itself is refused before it is read.
    r = _upload(b, setup["inspection"], mp4_bytes(pad=100_000))
    assert r.status_code == 413
    assert "超过服务器在此处接受的 0.0664 MB" in r.get_data(as_text=True)
    assert _recordings(app) == []
    assert _files(app) == before


def test_only_the_recording_route_accepts_requests_over_max_content_length(app, setup, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 50_000)
    b = _browser(app, setup["lead"])
    r = _upload(b, setup["inspection"], mp4_bytes(pad=60_000))
    assert r.status_code == 302  # EVIDENCE_MEDIA_MAX_BYTES applies here
    r = b.post(f"/inspections/{setup['inspection']}/visit-record", {"place": "x" * 60_000})
    assert r.status_code == 413  # and nowhere else


def test_a_real_mp4_and_m4a_are_stored_by_hash_listed_on_the_record_and_audited(app, setup):
    import hashlib

    video, audio = mp4_bytes(pad=3000), m4a_bytes(pad=2000)
    b = _browser(app, setup["lead"])
    assert _upload(b, setup["inspection"], video, "执法记录仪-001.mp4").status_code == 302
    assert _upload(b, setup["inspection"], audio, "询问.m4a").status_code == 302
    assert _upload(b, setup["inspection"], video, "again.mp4").status_code == 302  # kept once
    rows = sorted(_recordings(app), key=lambda a: a.id)
    assert [(a.kind, a.mime, a.size) for a in rows] == [
        ("video", "video/mp4", len(video)),
        ("audio", "audio/mp4", len(audio)),
    ]
    assert rows[0].sha256 == hashlib.sha256(video).hexdigest()
    root = Path(app.config["UPLOAD_DIR"])
    assert (root / storage.key_for(rows[0].sha256, "video/mp4")).read_bytes() == video
    assert not list((root / "incoming").iterdir())  # the spool file became the stored one
    html = b.get(f"/inspections/{setup['inspection']}/record").get_data(as_text=True)
    assert rows[0].sha256 in html and rows[1].sha256 in html
    assert "执法记录仪-001.mp4" in _text(html) and "<video controls" in html
    assert "<audio controls" in html
    with app.app_context():
        events = db.session.query(AuditEvent).filter_by(action="evidence.add").all()
        assert {e.after["sha256"] for e in events} == {rows[0].sha256, rows[1].sha256}


def test_a_recording_is_played_with_byte_ranges(app, setup):
    video = mp4_bytes(pad=3000)
    b = _browser(app, setup["lead"])
    _upload(b, setup["inspection"], video)
    (row,) = _recordings(app)
    r = b.get(f"/inspections/recordings/{row.id}", headers={"Range": "bytes=100-199"})
    assert r.status_code == 206
    assert r.headers["Content-Range"] == f"bytes 100-199/{len(video)}"
    assert r.mimetype == "video/mp4" and r.get_data() == video[100:200]
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    r.close()


def test_a_recording_is_served_only_to_people_who_may_see_the_visit(app, make, setup):
    b = _browser(app, setup["lead"])
    _upload(b, setup["inspection"], mp4_bytes())
    (row,) = _recordings(app)
    url = f"/inspections/recordings/{row.id}"
    with app.app_context():
        own = make.user(role="unit", unit_id=setup["unit"]).username
        other = make.user(role="unit").username
        db.session.commit()
    assert _browser(app, other).get(url).status_code == 404
    assert _browser(app, setup["outsider"]).get(url).status_code == 404
    assert _browser(app, own).get(url).status_code == 404  # not yet on record
    assert app.test_client().get(url).status_code in (302, 401)
    # Once on record the unit sees its own recording; still not another unit.
    with app.app_context():
        inspection = db.session.get(Inspection, setup["inspection"])
        inspection.status = "submitted"
        db.session.commit()
    r = _browser(app, own).get(url)
    assert r.status_code == 200
    r.close()
    assert _browser(app, other).get(url).status_code == 404
    # Nobody but the team adds recordings.
    assert (
        _upload(_browser(app, setup["outsider"]), setup["inspection"], mp4_bytes()).status_code
        == 404
    )
    assert _upload(_browser(app, own), setup["inspection"], mp4_bytes()).status_code in (403, 404)


def test_no_recording_is_added_once_the_notice_is_approved(app, setup):
    with app.app_context():
        visit = db.session.get(Inspection, setup["inspection"]).visit
        visit.notice_status = "approved"
        db.session.commit()
    r = _upload(_browser(app, setup["lead"]), setup["inspection"], mp4_bytes())
    assert r.status_code == 409 and _recordings(app) == []


class _CountingStream(io.BytesIO):
    def __init__(self, data):
        super().__init__(data)
        self.sizes = []

    def read(self, size=-1):
        self.sizes.append(size)
        return super().read(size)


def test_a_recording_is_read_in_chunks_never_whole(app, ctx):
    data = mp4_bytes(pad=3 * 1024 * 1024)
    stream = _CountingStream(data)
    stored = storage.put_media(stream)
    assert all(0 < size <= 1024 * 1024 for size in stream.sizes) and len(stream.sizes) >= 4
    assert stored.info["mime"] == "video/mp4" and stored.info["size"] == len(data)
    storage.discard(stored)


def test_the_visit_and_user_models_are_untouched_by_a_refused_upload(app, setup):
    # A refusal changes nothing: no audit event either.
    _upload(_browser(app, setup["lead"]), setup["inspection"], b"not a video")
    with app.app_context():
        assert db.session.query(AuditEvent).filter_by(action="evidence.add").count() == 0
        assert db.session.query(Visit).count() >= 1 and db.session.query(User).count() >= 3


def test_a_store_that_refuses_the_write_records_nothing_and_leaves_no_spool_file(
    app, setup, monkeypatch
):
    def full(self, key, path):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(storage.LocalStore, "put_file", full)
    r = _upload(_browser(app, setup["lead"]), setup["inspection"], mp4_bytes())
    assert r.status_code == 507
    assert _recordings(app) == []
    incoming = Path(app.config["UPLOAD_DIR"]) / "incoming"
    assert not any(p.name.startswith(".upload-") for p in incoming.iterdir())


def test_boxes_with_64_bit_sizes_or_running_to_the_end_are_read(app, ctx):
    import struct

    head = mp4_bytes(pad=0)[:-8]  # ftyp and moov, without the empty mdat
    payload = b"\x02" * 1000
    large = struct.pack(">I4sQ", 1, b"mdat", 16 + len(payload)) + payload  # a 64-bit size
    to_end = struct.pack(">I4s", 0, b"mdat") + payload  # size 0: to the end of the file
    for data in (head + large, head + to_end):
        info = storage.inspect_media(io.BytesIO(data), len(data))
        assert info["mime"] == "video/mp4" and info["size"] == len(data)
    wrong = struct.pack(">I4sQ", 1, b"mdat", 10**12) + payload  # claims more than there is
    with pytest.raises(storage.EvidenceRefused):
        storage.inspect_media(io.BytesIO(head + wrong), len(head + wrong))


def _remove(b, inspection_id, attachment_id):
    return b.post(f"/inspections/{inspection_id}/recordings/{attachment_id}/remove")


def test_a_recording_taken_off_the_record_leaves_the_store_and_is_on_the_audit_log(app, setup):
    video, audio = mp4_bytes(pad=3000), m4a_bytes(pad=2000)
    b = _browser(app, setup["lead"])
    _upload(b, setup["inspection"], video, "wrong-clip.mp4")
    _upload(b, setup["inspection"], audio, "询问.m4a")
    first, second = sorted(_recordings(app), key=lambda a: a.id)
    root = Path(app.config["UPLOAD_DIR"])
    page = b.get(f"/inspections/{setup['inspection']}/record").get_data(as_text=True)
    assert "wrong-clip.mp4" in page and f"/recordings/{first.id}/remove" in page

    r = _remove(b, setup["inspection"], first.id)
    assert r.status_code == 302 and r.headers["Location"].endswith("/record")
    assert [a.id for a in _recordings(app)] == [second.id]
    assert not (root / storage.key_for(first.sha256, "video/mp4")).exists()
    assert (root / storage.key_for(second.sha256, "audio/mp4")).read_bytes() == audio
    page = b.get(f"/inspections/{setup['inspection']}/record").get_data(as_text=True)
    assert "wrong-clip.mp4" not in page and first.sha256 not in page
    with app.app_context():
        (event,) = db.session.query(AuditEvent).filter_by(action="evidence.delete").all()
        assert event.before["sha256"] == first.sha256
        assert event.before["original_name"] == "wrong-clip.mp4"
        assert event.unit_id is None and event.object_id == str(first.id)  # not the unit's to see


def test_a_recording_is_removed_only_by_the_team_of_its_own_visit_before_approval(app, make, setup):
    b = _browser(app, setup["lead"])
    _upload(b, setup["inspection"], mp4_bytes())
    (row,) = _recordings(app)
    with app.app_context():
        own = make.user(role="unit", unit_id=setup["unit"]).username
        other = make.inspection(
            members=[db.session.scalar(db.select(User).where(User.username == setup["lead"]))]
        ).id
    assert _remove(_browser(app, setup["outsider"]), setup["inspection"], row.id).status_code == 404
    assert _remove(_browser(app, own), setup["inspection"], row.id).status_code in (403, 404)
    assert _remove(b, other, row.id).status_code == 404  # named through another inspection
    assert _remove(b, setup["inspection"], row.id + 1000).status_code == 404
    with app.app_context():
        visit = db.session.get(Inspection, setup["inspection"]).visit
        visit.notice_status = "approved"
        db.session.commit()
    r = _remove(b, setup["inspection"], row.id)
    assert r.status_code == 409
    assert [a.id for a in _recordings(app)] == [row.id]
    assert Path(app.config["UPLOAD_DIR"], storage.key_for(row.sha256, "video/mp4")).exists()
    page = b.get(f"/inspections/{setup['inspection']}/record").get_data(as_text=True)
    assert "/remove" not in page
    with app.app_context():
        assert db.session.query(AuditEvent).filter_by(action="evidence.delete").count() == 0


@pytest.mark.parametrize("signed_by", ["the unit at submission", "an inspector"])
def test_a_recording_stays_on_the_record_once_anybody_has_signed_it(app, setup, signed_by):
    """The unit's representative signs the evidence list (以上记录已核对无误) at submission and
    the inspectors sign the record after: from then on a recording on it is evidence."""
    from inspect_app.inspections import record

    from ..world import signature_png

    b = _browser(app, setup["lead"])
    _upload(b, setup["inspection"], mp4_bytes())
    (row,) = _recordings(app)
    with app.app_context():
        if signed_by == "an inspector":
            lead = db.session.scalar(db.select(User).where(User.username == setup["lead"]))
            record.sign_record(setup["inspection"], actor=lead, signature_png=signature_png())
        else:
            db.session.get(Inspection, setup["inspection"]).status = "submitted"
            db.session.commit()
        assert db.session.get(Inspection, setup["inspection"]).visit.notice_status != "approved"
    page = b.get(f"/inspections/{setup['inspection']}/record").get_data(as_text=True)
    assert "/remove" not in page
    assert _remove(b, setup["inspection"], row.id).status_code == 409
    assert [a.id for a in _recordings(app)] == [row.id]
    with app.app_context():
        assert db.session.query(AuditEvent).filter_by(action="evidence.delete").count() == 0
