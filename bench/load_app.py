"""The app as `bench/load.py` serves it: the real app, plus the floor route of the load bench.

`POST /bench/floor` goes through everything an answer batch goes through up to the service (the
session and login checks, CSRF, the JSON body) and then does one small write: a row in
`bench_floor`, a table `bench/load.py` creates in its scratch database. It exists only here,
never in the app. With BENCH_PROFILE_DIR set, every request is profiled (cProfile) into that
folder (werkzeug's ProfilerMiddleware), for finding where the time goes.
"""

from __future__ import annotations

import os

import sqlalchemy as sa
from flask import jsonify, request
from flask_login import current_user, login_required

from inspect_app import create_app
from inspect_app.extensions import db
from inspect_app.models.base import utcnow

FLOOR = sa.Table(
    "bench_floor",
    sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("user_id", sa.Integer, nullable=False),
    sa.Column("n", sa.Integer, nullable=False),
    sa.Column("at", sa.DateTime, nullable=False),
)

app = create_app()


@app.post("/bench/floor")
@login_required
def bench_floor():
    body = request.get_json(silent=True) or {}
    n = body.get("n") if isinstance(body.get("n"), int) else 0
    db.session.execute(sa.insert(FLOOR).values(user_id=current_user.id, n=n, at=utcnow()))
    db.session.commit()
    return jsonify({"ok": True})


if os.environ.get("BENCH_PROFILE_DIR"):
    from werkzeug.middleware.profiler import ProfilerMiddleware

    app.wsgi_app = ProfilerMiddleware(
        app.wsgi_app, profile_dir=os.environ["BENCH_PROFILE_DIR"], stream=None
    )
