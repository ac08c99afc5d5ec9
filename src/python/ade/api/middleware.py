"""Request id, access log and last-resort error handling, as one pure ASGI middleware.

Pure ASGI (not ``BaseHTTPMiddleware``) so streamed uploads and downloads pass through without
being buffered. It sits outside FastAPI's exception handlers, so it also turns any escaped
exception into a problem+json 500 (or 503 when a dependency is unavailable) that still carries
the request id; Starlette's own ``ServerErrorMiddleware`` would answer plain text without it.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ade.api.logs import access_logger, request_id_var
from ade.api.problems import PROBLEM_JSON, problem_body

REQUEST_ID_HEADER = "x-request-id"
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}\Z")
logger = logging.getLogger("ade.api.errors")


def _incoming_request_id(scope: Scope) -> str:
    """Reuse a caller's id (a proxy's) when it is harmless to log and echo; else make one."""
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            text: str = value.decode("latin-1")
            if _SAFE_REQUEST_ID.match(text):
                return text
    return os.urandom(16).hex()  # as unique as a uuid4, at a tenth of its cost


def _status_for(error: BaseException) -> tuple[int, str]:
    from sqlalchemy.exc import OperationalError

    from ade.db.errors import DatabaseUnavailable
    from ade.storage.errors import StorageUnavailable

    if isinstance(error, StorageUnavailable):
        return 503, "storage is unavailable; try again later"
    if isinstance(error, DatabaseUnavailable | OperationalError):
        return 503, "database is unavailable; try again later"
    return 500, "internal error; quote the request id when reporting it"


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_request_id(scope)
        token = request_id_var.set(request_id)
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status: dict[str, Any] = {"code": 0, "sent": False}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                status["sent"] = True
                headers = [
                    (k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"
                ]
                headers.append((b"x-request-id", request_id.encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as error:
            code, detail = _status_for(error)
            logger.error(
                "unhandled %s: %s",
                type(error).__name__,
                " ".join(str(error).split())[:500],
                exc_info=code == 500,
            )
            if status["sent"]:
                raise  # the response already started: the server closes the connection
            body = json.dumps(problem_body(code, detail)).encode()
            await send_with_id(
                {
                    "type": "http.response.start",
                    "status": code,
                    "headers": [
                        (b"content-type", PROBLEM_JSON.encode()),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
        finally:
            duration_ms = round((time.perf_counter() - started) * 1000, 2)
            path = scope.get("path", "")
            method = scope.get("method", "")
            access_logger.info(
                "%s %s %s %.2fms",
                method,
                path,
                status["code"],
                duration_ms,
                extra={
                    "method": method,
                    "path": path,
                    "status": status["code"],
                    "duration_ms": duration_ms,
                    "request_id": request_id,
                },
            )
            request_id_var.reset(token)
