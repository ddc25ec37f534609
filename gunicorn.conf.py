"""gunicorn settings for `make serve` and deployments (gunicorn reads ./gunicorn.conf.py).

Bounds every worker: a request timeout, recycling after many requests, a hard address-space
ceiling and a softer resident-memory ceiling after which the worker restarts between requests.
Refuses to start several worker processes when login limits are counted in process memory.
Every value can be changed with the INSPECT_GUNICORN_* variables below or on the command line.
"""

import os
import resource
import sys

MB = 1024 * 1024


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


def _shared_limits() -> bool:
    """Whether the app's login limits live in a store all workers share (Redis)."""
    from inspect_app import create_app
    from inspect_app.extensions import db
    from inspect_app.security import shared_limit_store

    app = create_app()
    with app.app_context():
        db.engine.dispose()  # nothing of the master's is handed to the workers
    return shared_limit_store(app)


_SHARED = _shared_limits()

wsgi_app = "wsgi:app"
# With Redis the workers share the login limits; without it one process with threads keeps
# the limits exact (SQLite gains nothing from more processes anyway).
workers = _env_int("INSPECT_GUNICORN_WORKERS", 4 if _SHARED else 1)
threads = _env_int("INSPECT_GUNICORN_THREADS", 4)
timeout = _env_int("INSPECT_GUNICORN_TIMEOUT", 30)
graceful_timeout = 30
# Recycling is a guard against slow leaks, which the resident-memory recycle below also bounds:
# at 1000 requests a worker under the load bench restarted every ~14 s (a second of CPU to
# start the app, cold caches, the latency's tail; bench/README.md).
max_requests = _env_int("INSPECT_GUNICORN_MAX_REQUESTS", 20000)
max_requests_jitter = max_requests // 10
accesslog = "-"
# Hard ceiling on each worker's address space: an allocation beyond it fails with MemoryError
# (a 500 for that one request) instead of the machine swapping or the OOM killer choosing.
_memory_limit_mb = _env_int("INSPECT_GUNICORN_MEMORY_LIMIT_MB", 2048)
# Softer ceiling on resident memory: past it the worker finishes its request and is replaced.
_rss_recycle_mb = _env_int("INSPECT_GUNICORN_RSS_RECYCLE_MB", 512)


def on_starting(server):
    if server.cfg.workers > 1 and not _SHARED:
        sys.exit(
            f"Refusing to start: {server.cfg.workers} worker processes would each count failed "
            "logins in their own memory, multiplying the login limit. Set INSPECT_REDIS_URL "
            "(for example redis://127.0.0.1:6379/0) or run one worker (--workers 1 --threads 8)."
        )


def post_fork(server, worker):
    limit = _memory_limit_mb * MB
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def post_request(worker, req, environ, resp):
    rss_mb = _resident_mb()
    if rss_mb > _rss_recycle_mb:
        worker.log.warning("worker %s uses %d MB; replacing it", worker.pid, rss_mb)
        worker.alive = False


def _resident_mb() -> int:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // MB
    except OSError:  # not Linux: the peak instead of the current size
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
