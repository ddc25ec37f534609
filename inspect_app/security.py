"""Security headers and the Content-Security-Policy, set on every response by our own hook;
which proxies' forwarded addresses are believed; and the refusal to count login limits per
worker process."""

from __future__ import annotations

import ipaddress
import secrets

from flask import Flask, abort, current_app, g, request
from werkzeug.middleware.proxy_fix import ProxyFix

FORWARDED_HEADERS = (
    "HTTP_X_FORWARDED_FOR",
    "HTTP_X_FORWARDED_PROTO",
    "HTTP_X_FORWARDED_HOST",
    "HTTP_X_FORWARDED_PORT",
    "HTTP_X_FORWARDED_PREFIX",
)


class TrustedProxyFix:
    """ProxyFix for requests that come from one of our proxies; from anywhere else the
    X-Forwarded-* headers are the client's own words and are dropped, so a client cannot pick
    the address the rate limit and the audit log see."""

    def __init__(self, wsgi_app, *, hops: int, networks: list):
        self.plain = wsgi_app
        self.fixed = ProxyFix(wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
        self.networks = networks

    def __call__(self, environ, start_response):
        if trusted(environ.get("REMOTE_ADDR", ""), self.networks):
            return self.fixed(environ, start_response)
        for key in FORWARDED_HEADERS:
            environ.pop(key, None)
        return self.plain(environ, start_response)


def trusted(address: str, networks: list) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def proxy_networks(value) -> list:
    """TRUSTED_PROXIES (a list, or a comma-separated string) as networks. Raises ValueError."""
    items = value.split(",") if isinstance(value, str) else list(value or ())
    return [ipaddress.ip_network(item.strip(), strict=False) for item in items if item.strip()]


def install_proxy_fix(app: Flask) -> None:
    hops = int(app.config["PROXY_HOPS"] or 0)
    if hops:
        app.wsgi_app = TrustedProxyFix(
            app.wsgi_app, hops=hops, networks=proxy_networks(app.config["TRUSTED_PROXIES"])
        )


def shared_limit_store(app: Flask) -> bool:
    """Whether login limits are counted in a store every worker process shares."""
    return not str(app.config["RATELIMIT_STORAGE_URI"]).startswith("memory")


def csp_nonce() -> str:
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def register(app: Flask) -> None:
    app.jinja_env.globals["csp_nonce"] = csp_nonce

    @app.before_request
    def _refuse_per_worker_limits():
        # Several worker processes each counting failed logins in their own memory would
        # multiply the limit silently (security review §4: the first 429 came at attempt 31).
        # gunicorn.conf.py refuses to start so; this catches any other multi-process server.
        if request.environ.get("wsgi.multiprocess") and not shared_limit_store(current_app):
            current_app.logger.critical(
                "Refusing requests: several worker processes with in-memory rate limits. "
                "Set INSPECT_REDIS_URL (shared limits) or run one worker process."
            )
            abort(503)

    @app.after_request
    def _headers(response):
        nonce = g.get("csp_nonce")
        script_src = "'self'" + (f" 'nonce-{nonce}'" if nonce else "")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; "
            f"script-src {script_src}; "
            "style-src 'self'; img-src 'self' blob: data:; connect-src 'self'; "
            "worker-src 'self'; manifest-src 'self'; font-src 'self'; object-src 'none'; "
            "base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        response.headers.setdefault(
            "Permissions-Policy", "geolocation=(), microphone=(), camera=(self)"
        )
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if (
            response.mimetype == "text/html" or request.path.startswith("/api/")
        ) and "Cache-Control" not in response.headers:
            response.headers["Cache-Control"] = "no-store"
        return response
