"""What protects the pages: security headers on every web response, and CSRF tokens.

Headers: a Content-Security-Policy that allows only this origin's own files (no inline script,
no inline style, nothing from elsewhere, no framing), ``X-Frame-Options: DENY`` for older
browsers, ``Referrer-Policy: same-origin`` (a sign-in link's token never leaves the site),
``nosniff``, and ``no-store`` on pages (they show a workspace's data). They are added by a pure
ASGI middleware to web paths only (``/api/docs``, a page, included): the JSON API keeps its own.

CSRF: every form post and the upload carry a token, ``HMAC(secret, "ade csrf")``, where the
secret is the session cookie once signed in and a random pre-session cookie before (the sign-in
forms). An attacker's page can neither read those HttpOnly cookies nor compute the token, and
SameSite=Strict cookies are not even sent with its cross-site posts.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SESSION_COOKIE = "ade_session"
PRESESSION_COOKIE = "ade_presession"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
)
WEB_PATH_PREFIXES = ("/sign-in", "/sign-out", "/w/", "/static/", "/api/docs")
"""Paths served by ade.api.web (plus "/" itself)."""


def is_web_path(path: str) -> bool:
    return path == "/" or path.startswith(WEB_PATH_PREFIXES)


def _headers_for(path: str, query: bytes) -> list[tuple[bytes, bytes]]:
    headers = [
        (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"same-origin"),
        (b"x-content-type-options", b"nosniff"),
    ]
    if not path.startswith("/static/"):
        headers.append((b"cache-control", b"no-store"))
    elif b"v=" in query:
        # Asset URLs carry a hash of their content (see assets.py): safe to keep forever.
        headers.append((b"cache-control", b"public, max-age=31536000, immutable"))
    else:
        headers.append((b"cache-control", b"no-cache"))
    return headers


class SecurityHeadersMiddleware:
    """Adds the headers above to every response on a web path (pure ASGI: streams pass)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_web_path(scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        added = _headers_for(scope["path"], scope.get("query_string", b""))
        names = {name for name, _ in added}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
                message = {**message, "headers": kept + added}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def csrf_secret(request: Request) -> str:
    """The secret the request's CSRF token derives from: the session cookie once signed in,
    else the pre-session cookie (made here if the browser has none yet; ``render`` sets it)."""
    session = request.cookies.get(SESSION_COOKIE)
    if session:
        return session
    presession = request.cookies.get(PRESESSION_COOKIE) or getattr(
        request.state, "new_presession", None
    )
    if not presession:
        presession = secrets.token_urlsafe(32)
        request.state.new_presession = presession
    return presession


def csrf_token(request: Request) -> str:
    return hmac.new(csrf_secret(request).encode(), b"ade csrf", hashlib.sha256).hexdigest()


def csrf_valid(request: Request, presented: str | None) -> bool:
    """Constant-time check of a presented token against the request's own cookies."""
    has_secret = request.cookies.get(SESSION_COOKIE) or request.cookies.get(PRESESSION_COOKIE)
    if not presented or not has_secret:
        return False
    return hmac.compare_digest(presented.encode(), csrf_token(request).encode())
