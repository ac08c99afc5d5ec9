"""RFC 9457 problem details: every error the API returns is ``application/problem+json``.

Handlers here cover our own :class:`ApiError`, Starlette's HTTP errors (unknown routes: 404,
wrong method: 405), request validation (422, with the location of each bad field) and the
library errors that mean "bad input" or "not available" rather than "bug". Every problem carries
the request id (also sent as the ``X-Request-ID`` header by the middleware).
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ade.api.logs import request_id_var

PROBLEM_JSON = "application/problem+json"
logger = logging.getLogger("ade.api.errors")


class ApiError(Exception):
    """An error with a status code and a one-line, user-facing detail."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        code: str | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.code = code or HTTPStatus(status).phrase.lower().replace(" ", "-")
        self.headers = headers or {}
        self.extra = extra or {}


def not_found(what: str) -> ApiError:
    return ApiError(404, f"{what} not found", code="not-found")


def problem_body(
    status: int, detail: str, *, code: str | None = None, **extra: Any
) -> dict[str, Any]:
    phrase = HTTPStatus(status).phrase
    body: dict[str, Any] = {
        "type": f"urn:ade:problem:{code or phrase.lower().replace(' ', '-')}",
        "title": phrase,
        "status": status,
        "detail": detail,
        "request_id": request_id_var.get(),
    }
    body.update(extra)
    return body


def problem_response(
    status: int,
    detail: str,
    *,
    code: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    return JSONResponse(
        problem_body(status, detail, code=code, **extra),
        status_code=status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def _validation_errors(error: RequestValidationError) -> list[dict[str, Any]]:
    errors = []
    for item in error.errors():
        # "input" may echo a huge or binary body back; location and message are enough.
        location = [str(part) for part in item.get("loc", ())]
        errors.append({"location": location, "message": str(item.get("msg", "invalid"))})
    return errors


async def _api_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ApiError)
    return problem_response(
        error.status, error.detail, code=error.code, headers=error.headers, **error.extra
    )


async def _http_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    status = error.status_code
    if status == 404:
        detail = "no such resource"
    elif status == 405:
        detail = "method not allowed on this resource"
    else:
        detail = str(error.detail) if error.detail else HTTPStatus(status).phrase
    return problem_response(status, detail, headers=dict(error.headers or {}))


async def _validation_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    errors = _validation_errors(error)
    where = ".".join(errors[0]["location"]) if errors else ""
    message = str(errors[0]["message"]) if errors else "invalid request"
    detail = f"{where}: {message}" if where else message
    return problem_response(422, detail, code="invalid-request", errors=errors)


def install_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
