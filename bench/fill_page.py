"""Server time of the filling page and the answer endpoint, as ratios to a hello-world floor."""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from inspect_app import create_app  # noqa: E402


def _database(url: str | None, folder: Path):
    if not url:
        return f"sqlite:///{folder / 'bench.sqlite'}", lambda: None
    base = make_url(url)
    name = f"inspect_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')

    def drop():
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()

    return base.set(database=name).render_as_string(hide_password=False), drop


def bench_config(url: str, folder: Path, **extra) -> dict:
    """The app's settings for a bench: a scratch database and folder, test keys, cheap
    password hashes, no two-step login; `extra` adds or overrides."""
    return {
        "TESTING": True,
        "SECRET_KEY": "bench-secret-key-not-for-production",
        "AUDIT_HMAC_KEY": "bench-audit-hmac-key-not-for-production-0123",
        "AUDIT_ANCHOR_FILE": str(folder / "anchors.log"),
        "SQLALCHEMY_DATABASE_URI": url,
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "UPLOAD_DIR": str(folder / "uploads"),
        "MFA_REQUIRED_ROLES": (),
        **extra,
    }


def _build(app) -> tuple[int, list[int]]:
    sys.path.insert(0, str(ROOT / "tests"))
    from tests.factories import Factory
    from tests.inspections.test_fill_page import build_big_inspection

    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        built = build_big_inspection(Factory(), lead_username="bench_lead")
        return built["inspection"], built["item_ids"]


def _time(fn, runs: int) -> list[float]:
    fn()  # warm up
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


def _summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "median_ms": statistics.median(ordered) * 1000,
        "p95_ms": ordered[int(len(ordered) * 0.95) - 1] * 1000,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", help="PostgreSQL server to create a scratch database on")
    parser.add_argument("--runs", type=int, default=60)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="inspect-bench-"))
    url, drop = _database(args.database_url, folder)
    try:
        app = create_app(bench_config(url, folder))
        inspection_id, item_ids = _build(app)
        client = app.test_client()
        token = client.get("/api/v1/csrf").get_json()["csrf_token"]
        from tests.factories import TEST_PASSWORD

        client.post(
            "/auth/login",
            data={"username": "bench_lead", "password": TEST_PASSWORD, "csrf_token": token},
        )
        token = client.get("/api/v1/csrf").get_json()["csrf_token"]
        version = {"v": 1}

        def answer():
            body = {
                "changes": [
                    {
                        "change_id": str(uuid.uuid4()),
                        "item_id": item_ids[1],
                        "base_version": version["v"],
                        "note": f"备注{version['v']}",
                    }
                ]
            }
            result = client.post(
                f"/api/v1/inspections/{inspection_id}/answers",
                json=body,
                headers={"X-CSRFToken": token},
            ).get_json()["results"][0]
            assert result["status"] == "applied", result
            version["v"] = result["answer"]["version"]

        def page():
            assert client.get(f"/inspections/{inspection_id}").status_code == 200

        def hello():
            assert client.get("/healthz").status_code == 200

        floor = _summary(_time(hello, args.runs))
        results = {"backend": make_url(url).get_backend_name(), "runs": args.runs, "floor": floor}
        for name, fn in (("fill_page", page), ("answer", answer)):
            stats = _summary(_time(fn, args.runs))
            stats["ratio_to_floor"] = stats["median_ms"] / floor["median_ms"]
            results[name] = stats
    finally:
        drop()
    print(json.dumps(results, indent=2))
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / f"fill_page-{results['backend']}-{time.strftime('%Y%m%d-%H%M%S')}.json").write_text(
        json.dumps(results, indent=2)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
