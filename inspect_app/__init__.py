"""Joint network-security inspection app: the application factory."""

import re
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from flask import Flask
from PIL import Image

from . import config as config_module
from . import paths
from .extensions import compress, csrf, db, limiter, login_manager, migrate


class ConfigurationError(RuntimeError):
    """Raised when the app is started with settings that are unsafe or incomplete."""


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app: defaults, then instance/config.py, then INSPECT_* env vars, then test_config."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_object(config_module.Defaults)
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env("INSPECT")
    else:
        app.config.from_prefixed_env("INSPECT")
        app.config.update(test_config)
    _finish_config(app)
    from . import security

    security.install_proxy_fix(app)

    # Leaner HTML: long pages (a 120-item checklist) carry no template indentation.
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    from . import web

    web.register_guard(app)  # before CSRFProtect's own hook reads the form
    register_extensions(app)
    from . import jobs

    jobs.init_app(app)  # the job queue, made on first use
    from .dashboard import snapshots

    snapshots.init_app(app)  # the dashboard's refresh task, on that queue
    from .auth import services as auth_services

    auth_services.init_app(app)  # the daily pruning of old login records, on that queue
    # Pillow's own decompression-bomb check at open(); process-wide, so set once here.
    Image.MAX_IMAGE_PIXELS = app.config["EVIDENCE_MAX_PIXELS"]
    web.register(app)  # the URL id converter must be in place before any blueprint
    register_blueprints(app)
    from .exports import register_jobs

    register_jobs()  # every workbook is a kind of background job
    register_cli(app)

    from . import assets, errors, i18n, labels, region
    from .main import nav

    errors.register(app)
    security.register(app)
    i18n.register(app)
    nav.register(app)
    labels.register(app)
    region.register(app)
    assets.register(app)
    return app


def _finish_config(app: Flask) -> None:
    cfg = app.config
    paths.private_dir(Path(app.instance_path))
    if not cfg.get("SQLALCHEMY_DATABASE_URI"):
        cfg["SQLALCHEMY_DATABASE_URI"] = cfg.get("DATABASE_URL") or (
            "sqlite:///" + str(Path(app.instance_path) / "inspect.sqlite")
        )
    if not cfg.get("UPLOAD_DIR"):
        cfg["UPLOAD_DIR"] = str(Path(app.instance_path) / "uploads")
    if not cfg.get("EVIDENCE_CACHE_DIR"):
        cfg["EVIDENCE_CACHE_DIR"] = str(Path(app.instance_path) / "evidence-cache")
    _check_evidence_store(cfg)
    _check_public_url(cfg)
    if not cfg.get("AUDIT_ANCHOR_FILE"):
        cfg["AUDIT_ANCHOR_FILE"] = str(Path(app.instance_path) / "audit-anchors.log")
    if cfg.get("REDIS_URL") and not cfg.get("RATELIMIT_STORAGE_URI"):
        cfg["RATELIMIT_STORAGE_URI"] = cfg["REDIS_URL"]
    if str(cfg.get("RATELIMIT_STORAGE_URI", "")).startswith(("redis://", "rediss://")):
        # A dead Redis must cost a login a second at most, not a hung worker.
        cfg.setdefault(
            "RATELIMIT_STORAGE_OPTIONS", {"socket_connect_timeout": 1, "socket_timeout": 1}
        )
    cfg.setdefault("RATELIMIT_STORAGE_URI", "memory://")
    cfg["BABEL_DEFAULT_LOCALE"] = cfg["DEFAULT_LOCALE"]
    cfg["REMEMBER_COOKIE_SECURE"] = cfg["SESSION_COOKIE_SECURE"]
    _finish_auth_config(cfg)
    if cfg["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        paths.private_sqlite_file(cfg["SQLALCHEMY_DATABASE_URI"])
        cfg["SQLALCHEMY_ENGINE_OPTIONS"] = {
            **cfg["SQLALCHEMY_ENGINE_OPTIONS"],
            "connect_args": {"timeout": 30},
        }
    try:
        from .security import proxy_networks

        proxy_networks(cfg["TRUSTED_PROXIES"])
    except ValueError as err:
        raise ConfigurationError(f"TRUSTED_PROXIES is not a list of addresses: {err}") from None
    fallbacks = cfg.get("SECRET_KEY_FALLBACKS") or []
    # One string is one key (Flask would take each of its characters for a key).
    cfg["SECRET_KEY_FALLBACKS"] = (
        [fallbacks] if isinstance(fallbacks, str | bytes) else list(fallbacks)
    )
    secret = cfg.get("SECRET_KEY")
    if not (app.debug or app.testing) and (
        not secret or secret == config_module.INSECURE_SECRET_KEY or len(str(secret)) < 16
    ):
        raise ConfigurationError(
            "SECRET_KEY is missing or is the insecure default: set INSPECT_SECRET_KEY "
            "or SECRET_KEY in instance/config.py (see instance/README.md)."
        )
    weak = [
        k
        for k in cfg["SECRET_KEY_FALLBACKS"]
        if not k
        or k == config_module.INSECURE_SECRET_KEY
        or len(str(k)) < 16
        or str(k) == str(cfg.get("AUDIT_HMAC_KEY") or "")
    ]
    if weak and not (app.debug or app.testing):
        raise ConfigurationError(
            "SECRET_KEY_FALLBACKS holds an empty, short (under 16 characters) or default key, or "
            "the AUDIT_HMAC_KEY: every key there still verifies logins (see docs/deploy.md)."
        )
    audit_key = str(cfg.get("AUDIT_HMAC_KEY") or "")
    if not (app.debug or app.testing) and (
        audit_key in (config_module.INSECURE_AUDIT_HMAC_KEY, str(secret)) or len(audit_key) < 32
    ):
        raise ConfigurationError(
            "AUDIT_HMAC_KEY is missing, shorter than 32 characters, the insecure default or the "
            "SECRET_KEY: run scripts/make_instance_config.py or set INSPECT_AUDIT_HMAC_KEY "
            "(see docs/audit.md)."
        )


def _check_public_url(cfg) -> None:
    """PUBLIC_URL is empty or an http(s) address with a host and at most a path (e-mails link
    into the app with it); kept without its trailing slash."""
    from urllib.parse import urlsplit

    value = str(cfg.get("PUBLIC_URL") or "").strip()
    if value:
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018 - raises for a port that is not one
        except ValueError:
            parts = None
        if (
            parts is None
            or parts.scheme not in ("http", "https")
            or not parts.hostname
            or parts.username is not None
            or parts.query
            or parts.fragment
            or not re.fullmatch(r"[A-Za-z0-9._~/-]*", parts.path)  # a link in a plain-text mail
        ):
            raise ConfigurationError(
                f"PUBLIC_URL must be an http(s) address such as https://inspect.example.gov.cn, "
                f"not {value!r}."
            )
    cfg["PUBLIC_URL"] = value.rstrip("/")


def _check_evidence_store(cfg) -> None:
    """EVIDENCE_STORE is "local" or "s3"; a bucket needs its name and boto3 (the s3 extra)."""
    kind = cfg["EVIDENCE_STORE"] = str(cfg.get("EVIDENCE_STORE") or "local").lower()
    if kind not in ("local", "s3"):
        raise ConfigurationError(f'EVIDENCE_STORE must be "local" or "s3", not {kind!r}.')
    if kind == "s3":
        if not cfg.get("EVIDENCE_S3_BUCKET"):
            raise ConfigurationError('EVIDENCE_STORE = "s3" needs EVIDENCE_S3_BUCKET.')
        try:
            import boto3  # noqa: F401
        except ImportError:
            raise ConfigurationError(
                "EVIDENCE_STORE = \"s3\" needs boto3: pip install -e '.[s3]'."
            ) from None


_DURATIONS = (
    "SESSION_IDLE_TIMEOUT",
    "SESSION_ABSOLUTE_LIFETIME",
    "REMEMBER_COOKIE_DURATION",
    "LOGIN_LOCKOUT_BASE",
    "LOGIN_LOCKOUT_MAX",
    "MFA_PENDING_TIMEOUT",
)


def _finish_auth_config(cfg) -> None:
    """Durations may be given in seconds (environment variables); the remember-me cookie never
    outlives the absolute session lifetime; role lists become tuples."""
    for key in _DURATIONS:
        if isinstance(cfg[key], int | float):
            cfg[key] = timedelta(seconds=cfg[key])
        if not isinstance(cfg[key], timedelta) or cfg[key] <= timedelta(0):
            raise ConfigurationError(f"{key} must be a positive number of seconds.")
    cfg["REMEMBER_COOKIE_DURATION"] = min(
        cfg["REMEMBER_COOKIE_DURATION"], cfg["SESSION_ABSOLUTE_LIFETIME"]
    )
    roles = cfg["MFA_REQUIRED_ROLES"]
    roles = roles.split(",") if isinstance(roles, str) else roles or ()
    cfg["MFA_REQUIRED_ROLES"] = tuple(r.strip() for r in roles if r.strip())


def register_extensions(app: Flask) -> None:
    # First, so its after_request hook runs last: it compresses the finished response.
    compress.init_app(app)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(app.root_path).parent / "migrations"))
    login_manager.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            _tune_sqlite(db.engine)


def _tune_sqlite(engine) -> None:
    """WAL, a busy timeout, foreign keys, and BEGIN IMMEDIATE for every transaction.

    pysqlite would start a transaction only at the first write, so a transaction that reads and
    then writes (the audit chain head, a notice number) could interleave with another worker's;
    taking the write lock at BEGIN makes SQLite transactions queue instead. SQLite is for small
    single-office installs; use PostgreSQL when many people work at once.
    """

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None  # we send BEGIN ourselves, below
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        if engine.url.database and engine.url.database != ":memory:":
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn):
        # A job building a workbook reads for a minute: a deferred transaction reads a snapshot
        # (WAL) without holding the write lock all that time (transaction.read_snapshot).
        if conn.get_execution_options().get("sqlite_read_snapshot"):
            conn.exec_driver_sql("BEGIN DEFERRED")
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")


def register_blueprints(app: Flask) -> None:
    from .api.routes import bp as api_bp
    from .audit.routes import bp as audit_bp
    from .auth.routes import bp as auth_bp
    from .checklists.routes import bp as checklists_bp
    from .dashboard.routes import bp as dashboard_bp
    from .directory.routes import bp as directory_bp
    from .exports.routes import bp as exports_bp
    from .inspections.routes import bp as inspections_bp
    from .jobs.routes import bp as jobs_bp
    from .main.routes import bp as main_bp
    from .notifications.routes import bp as notifications_bp
    from .public.routes import bp as public_bp
    from .rectification.routes import bp as rectification_bp
    from .rounds.routes import bp as rounds_bp

    for bp in (
        main_bp,
        auth_bp,
        directory_bp,
        checklists_bp,
        rounds_bp,
        inspections_bp,
        rectification_bp,
        audit_bp,
        api_bp,
        notifications_bp,
        exports_bp,
        jobs_bp,
        dashboard_bp,
        public_bp,
    ):
        app.register_blueprint(bp)


def register_cli(app: Flask) -> None:
    from .audit.cli import audit_cli
    from .auth.cli import users_cli
    from .checklists.cli import checklists_cli
    from .cli import backup_command, evidence_cli, restore_command
    from .demo.cli import demo_cli
    from .exports.cli import export_cli
    from .jobs.cli import jobs_cli
    from .rectification.cli import rectification_cli

    for group in (
        users_cli,
        checklists_cli,
        audit_cli,
        demo_cli,
        evidence_cli,
        rectification_cli,
        export_cli,
        jobs_cli,
        backup_command,
        restore_command,
    ):
        app.cli.add_command(group)
