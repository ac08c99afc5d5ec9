"""RFC 9457 problem details: every error the API returns is ``application/problem+json``.

Handlers here cover our own :class:`ApiError`, Starlette's HTTP errors (unknown routes: 404,
wrong method: 405), request validation (422, with the location of each bad field) and the
library errors that mean "bad input" or "not available" rather than "bug". Every problem carries
the request id (also sent as the ``X-Request-ID`` header by the middleware).

The OpenAPI side is declared here too, once: :class:`Problem` is the body's schema and
:func:`problems` gives a route the ``responses=`` entries for the error statuses it can answer
(``ade.api.openapi`` turns them into shared ``components/responses``).
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from ade.api.field_errors import first_error_detail, located_errors
from ade.api.logs import request_id_var

PROBLEM_JSON = "application/problem+json"
logger = logging.getLogger("ade.api.errors")


class FieldError(BaseModel):
    """One invalid part of a request."""

    location: list[str] = Field(
        description='Where, outermost first: e.g. ["body", "spec", "fields", "0", "name"].'
    )
    message: str


class Problem(BaseModel):
    """An error, as RFC 9457 problem details (``application/problem+json``)."""

    type: str = Field(
        description="`urn:ade:problem:<code>`; the code is stable, branch on it.",
        examples=["urn:ade:problem:not-found"],
    )
    title: str = Field(description="The HTTP status phrase.")
    status: int = Field(ge=400, le=599)
    detail: str = Field(description="One line a person can act on.")
    request_id: str = Field(
        description="The request's id, also sent as the X-Request-ID header: quote it when "
        "reporting a problem."
    )
    errors: list[FieldError] | None = Field(
        default=None, description="With 422: every invalid part of the request."
    )


ERROR_RESPONSES: dict[int | str, tuple[str, str]] = {
    400: (
        "BadRequest",
        "The body cannot be read: not JSON text, or a malformed, truncated or empty upload.",
    ),
    401: ("Unauthorized", "The X-API-Key header is missing, or the key is unknown or revoked."),
    404: (
        "NotFound",
        "No such workspace for this key, or no such resource in it (other workspaces' "
        "resources answer the same).",
    ),
    409: ("Conflict", "The resource's state does not allow this; `detail` says why."),
    413: ("ContentTooLarge", "The upload exceeds the size limit; nothing was stored."),
    416: (
        "RangeNotSatisfiable",
        "The Range header is malformed or starts beyond the end; Content-Range gives the size.",
    ),
    422: ("ValidationFailed", "A parameter or the body is invalid; `errors` lists each."),
    "5XX": (
        "ServerError",
        "503: the database or the storage is unavailable, try again later. 500: an internal "
        "error; quote the request id when reporting it.",
    ),
}
"""Every error status the API declares: the name of its shared ``components/responses`` entry
and what it means. ``ade.api.openapi`` builds those entries from this table."""


def problems(*statuses: int | str) -> dict[int | str, dict[str, Any]]:
    """``responses=`` entries for error statuses a route can answer, e.g. ``problems(404, 409)``:
    references to the shared problem+json responses (one declaration, used everywhere)."""
    return {
        status: {"$ref": f"#/components/responses/{ERROR_RESPONSES[status][0]}"}
        for status in statuses
    }


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


async def _api_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ApiError)
    return problem_response(
        error.status, error.detail, code=error.code, headers=error.headers, **error.extra
    )


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    status = error.status_code
    headers = dict(error.headers or {})
    if status == 404:
        detail = "no such resource"
    elif status == 405:
        from ade.api.openapi import allowed_methods

        detail = "method not allowed on this resource"
        allowed = allowed_methods(request.app, request.url.path)
        if allowed is not None:
            headers["Allow"] = ", ".join(allowed)
    else:
        detail = str(error.detail) if error.detail else HTTPStatus(status).phrase
    return problem_response(status, detail, headers=headers)


async def _validation_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    errors = located_errors(error.errors())
    return problem_response(422, first_error_detail(errors), code="invalid-request", errors=errors)


def install_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
