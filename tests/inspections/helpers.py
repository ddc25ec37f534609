"""Small builders for inspection tests."""

import io

from PIL import Image


def png_bytes(size=(120, 60), color=(20, 20, 20)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


def jpeg_bytes(size=(800, 600), exif: bool = False) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    out = io.BytesIO()
    if exif:
        data = Image.Exif()
        data[0x010F] = "TabletMaker"  # Make
        data[0x0132] = "2026:11:28 10:00:00"  # DateTime
        image.save(out, "JPEG", exif=data.tobytes())
    else:
        image.save(out, "JPEG")
    return out.getvalue()


def signature_data_url() -> str:
    import base64

    return "data:image/png;base64," + base64.b64encode(png_bytes()).decode()


def _box(kind: bytes, payload: bytes) -> bytes:
    import struct

    return struct.pack(">I", 8 + len(payload)) + kind + payload


def mp4_bytes(
    handler: bytes = b"vide", brand: bytes = b"isom", pad: int = 64, compatible=(b"mp41",)
) -> bytes:
    """A minimal ISO base media file: ftyp, a moov with one track of the given handler type
    (b"vide" for video, b"soun" for audio), and an mdat of `pad` bytes."""
    import struct

    ftyp = _box(b"ftyp", brand + struct.pack(">I", 512) + brand + b"".join(compatible))
    mvhd = _box(b"mvhd", b"\0" * 4 + struct.pack(">IIII", 0, 0, 1000, 2000) + b"\0" * 80)
    hdlr = _box(b"hdlr", b"\0" * 8 + handler + b"\0" * 12 + b"Handler\0")
    trak = _box(
        b"trak", _box(b"tkhd", b"\0" * 84) + _box(b"mdia", _box(b"mdhd", b"\0" * 24) + hdlr)
    )
    return ftyp + _box(b"moov", mvhd + trak) + _box(b"mdat", b"\x01" * pad)


def m4a_bytes(pad: int = 64) -> bytes:
    return mp4_bytes(handler=b"soun", brand=b"M4A ", pad=pad)


def post_recording(b, inspection_id: int, data: bytes, name: str = "clip.mp4"):
    """Post a recording as a browser's form would. The body is made by hand: the test client
    would spool a large one into a temporary file it never closes."""
    body = (
        b'--B\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n'
        + b.token().encode()
        + b'\r\n--B\r\nContent-Disposition: form-data; name="file"; filename="'
        + name.encode()
        + b'"\r\nContent-Type: application/octet-stream\r\n\r\n'
        + data
        + b"\r\n--B--\r\n"
    )
    return b.client.post(
        f"/inspections/{inspection_id}/recordings",
        data=body,
        content_type="multipart/form-data; boundary=B",
    )
