"""With INSPECT_REDIS_URL set, login failures are counted in Redis, shared by every worker.

Runs in a child process: Flask-Limiter keeps its storage on the one Limiter object, so a second
app in this process would change the storage of the shared test app.
"""

import json
import subprocess
import sys
import uuid

import pytest
import redis

REDIS_URL = "redis://127.0.0.1:6379/15"

CHILD = r"""
import json, os, re, sys
from inspect_app import create_app
app = create_app({"TESTING": True, "SECRET_KEY": "k" * 32, "SQLALCHEMY_DATABASE_URI": sys.argv[1],
                  "RATELIMIT_KEY_PREFIX": sys.argv[2]})
from inspect_app.extensions import db
with app.app_context():
    db.create_all()
codes = []
for worker in range(2):  # two clients stand in for two gunicorn workers sharing Redis
    client = app.test_client()
    token = client.get("/api/v1/csrf").get_json()["csrf_token"]
    for _ in range(5 if worker == 0 else 6):
        codes.append(client.post("/auth/login", data={"username": "x", "password": "guess-guess",
                                                      "csrf_token": token}).status_code)
print(json.dumps({"codes": codes, "storage": app.config["RATELIMIT_STORAGE_URI"]}))
"""


def test_login_limit_is_counted_in_redis_when_configured(tmp_path):
    store = redis.Redis.from_url(REDIS_URL)
    try:
        store.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    prefix = f"test-{uuid.uuid4().hex}"
    env = {"INSPECT_REDIS_URL": REDIS_URL, "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, f"sqlite:///{tmp_path}/r.sqlite", prefix],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    try:
        assert result["storage"] == REDIS_URL
        assert result["codes"][:10] == [200] * 10 and result["codes"][10] == 429
        assert store.keys(f"*{prefix}*")
    finally:
        for key in store.keys(f"*{prefix}*"):
            store.delete(key)
