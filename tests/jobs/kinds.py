"""Job kinds for the tests (the app ships none of its own: feature packages register theirs).

`test.count` writes a CSV of `rows` numbers, reporting progress on every row; `delay` sleeps
that long ten times on the way, `fail` raises a DomainError halfway (the user's message),
`crash` a RuntimeError, `as_path` returns a file made with jobs.temp_path instead of bytes,
`read` queries the database at every tenth (as an export streams rows while its progress is
written on another connection).
"""

from __future__ import annotations

import time

import sqlalchemy as sa

from inspect_app import jobs
from inspect_app.errors import ValidationFailed
from inspect_app.extensions import db
from inspect_app.models import User

COUNT = "test.count"
MIME = "text/csv"
FAIL_MESSAGE = "第 {n} 行写不下去"


def validate_count(params: dict, actor) -> dict:
    try:
        rows = int(params.get("rows", 10))
        delay = float(params.get("delay", 0) or 0)
    except (TypeError, ValueError):
        raise ValidationFailed("rows must be a whole number") from None
    if not 1 <= rows <= 1_000_000 or not 0 <= delay <= 2:
        raise ValidationFailed("rows must be from 1 to 1,000,000")
    out: dict = {"rows": rows}
    if delay:
        out["delay"] = delay
    for flag in ("fail", "crash", "as_path", "read"):
        if params.get(flag) not in (None, "", False, "0"):
            out[flag] = True
    return out


def count_title(params: dict) -> str:
    return f"测试导出（{params.get('rows')} 行）"


def file_name(rows: int) -> str:
    return f"测试导出 {rows} 行.csv"


def expected_bytes(rows: int) -> bytes:
    return ("n\n" + "".join(f"{n}\n" for n in range(1, rows + 1))).encode()


def build_count(params: dict, progress) -> tuple:
    rows = params["rows"]
    scratch = jobs.temp_path(".csv") if params.get("as_path") else None
    if scratch is not None:
        scratch.write_bytes(b"n\n")  # a half-written file, should it fail
    progress(0, rows)
    step = max(1, rows // 10)
    for n in range(1, rows + 1):
        if n == rows // 2 + 1:
            if params.get("fail"):
                raise ValidationFailed(FAIL_MESSAGE.format(n=n))
            if params.get("crash"):
                raise RuntimeError("the test builder crashed")
        if n % step == 0:
            if params.get("read"):
                db.session.execute(sa.select(sa.func.count()).select_from(User)).scalar_one()
            if params.get("delay"):
                time.sleep(params["delay"])
        progress(n, rows)
    data = expected_bytes(rows)
    if scratch is not None:
        scratch.write_bytes(data)
        return scratch, file_name(rows), MIME
    return data, file_name(rows), MIME


def register_test_kinds() -> None:
    """Idempotent: the same builder registered again is a no-op."""
    jobs.register(
        COUNT,
        builder=build_count,
        permission="exports.download",
        title=count_title,
        validate=validate_count,
    )
