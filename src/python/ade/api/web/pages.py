"""The plumbing every page shares: templates, asset URLs, who is signed in, CSRF-checked
forms, and a route class that turns errors into pages instead of problem+json.

Pages call the same functions as the JSON API (``ade.api.documents``, ``ade.api.runs``,
``ade.api.run_queue``, ...) with the signed-in user's :class:`~ade.api.auth.Principal`, so a
page can do exactly what the user's API key can do, checked by the same code.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Coroutine
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from jinja2 import ChainableUndefined, Environment, FileSystemLoader, select_autoescape
from starlette.datastructures import FormData
from starlette.responses import HTMLResponse, RedirectResponse, Response

from ade.api.auth import workspace_scope
from ade.api.dependencies import ServicesDep
from ade.api.problems import ApiError
from ade.api.web.security import (
    CSRF_FIELD,
    PRESESSION_COOKIE,
    SESSION_COOKIE,
    csrf_token,
    csrf_valid,
)
from ade.api.web.sessions import SESSION_LIFETIME, WebUser, find_user

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"


def _asset_versions() -> dict[str, str]:
    """A short hash of each static file, so its URL changes whenever its bytes do."""
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        for path in STATIC_DIR.iterdir()
        if path.is_file()
    }


_VERSIONS = _asset_versions()


def asset(name: str) -> str:
    return f"/static/{name}?v={_VERSIONS[name]}"


def filesize(size: int | None) -> str:
    """A size in binary units, as operating systems show files and as limits are set: the
    default upload limit of 1024 MiB reads "1 GiB" (not "1.1 GB"). ``ade.js`` says the same."""
    if size is None:
        return ""
    if size < 1024:
        return f"{size} bytes"
    value = float(size)
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        value /= 1024
        if value < 1024 or unit == "TiB":
            break
    return f"{value:.1f}".removesuffix(".0") + f" {unit}"


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment is not None else ""


def _number(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


def plural(count: Any, singular: str, plural_form: str | None = None) -> str:
    """ "1 row", "0 rows", "1,234 rows": the count, then the word in the form it needs."""
    number = count if isinstance(count, int) else 0
    word = singular if number == 1 else plural_form or singular + "s"
    return f"{_number(number)} {word}"


def sentence(text: Any) -> str:
    """A phrase as a sentence: its first letter upper-case (the rest as is: "column A" keeps
    its letter, unlike Jinja's ``capitalize``), a full stop at the end."""
    words = str(text).strip()
    if not words:
        return ""
    return words[0].upper() + words[1:] + ("" if words.endswith((".", "!", "?")) else ".")


_STATUS_NAMES = {"active": "★ Active", "draft": "Not active", "archived": "Archived"}


def status_name(status: str) -> str:
    """A configuration's status in words: "draft" reads "Not active", since a configuration
    that was active until another replaced it is no draft."""
    return _STATUS_NAMES.get(status, status.capitalize())


_environment = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
    extensions=["jinja2.ext.do"],
    # Summaries differ between engine versions: a missing key renders as nothing, not an error.
    undefined=ChainableUndefined,
)
_environment.filters.update(
    filesize=filesize,
    when=_when,
    number=_number,
    plural=plural,
    sentence=sentence,
    status_name=status_name,
)
_environment.globals.update(asset=asset)
templates = Jinja2Templates(env=_environment)


def set_cookie(request: Request, response: Response, name: str, value: str, max_age: int) -> None:
    """HttpOnly, SameSite=Strict, and Secure whenever the page is served over HTTPS."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def render(
    request: Request,
    template: str,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    token = csrf_token(request)
    response = templates.TemplateResponse(
        request, template, {"csrf_token": token, **context}, status_code=status_code
    )
    new_presession = getattr(request.state, "new_presession", None)
    if new_presession:
        set_cookie(request, response, PRESESSION_COOKIE, new_presession, 24 * 3600)
    return response


def redirect(url: str) -> RedirectResponse:
    """After a post: 303, so the browser follows with a GET and a reload does not re-post."""
    return RedirectResponse(url, status_code=303)


class SignInRequired(Exception):
    def __init__(self, next_url: str) -> None:
        super().__init__("sign in required")
        self.next_url = next_url


class CsrfRejected(Exception):
    pass


def error_page(request: Request, status: int, detail: str) -> HTMLResponse:
    user = getattr(request.state, "web_user", None)
    return render(request, "error.html", status, user=user, status=status, detail=detail)


class PageRoute(APIRoute):
    """A route whose errors are pages: sign-in redirects, a 403 for a stale form, and the API's
    own errors (404 for another workspace's page, 409 conflicts...) as a page with the
    API's one-line message."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInRequired as signal:
                return redirect("/sign-in?" + urlencode({"next": signal.next_url}))
            except CsrfRejected:
                return error_page(
                    request, 403, "This form has expired. Go back, reload the page and try again."
                )
            except ApiError as error:
                return error_page(request, error.status, error.detail)
            except RequestValidationError:
                return error_page(request, 404, "There is no such page.")

        return handle


def page_router() -> APIRouter:
    """A router for pages: kept out of the OpenAPI schema, errors rendered as pages."""
    return APIRouter(route_class=PageRoute, include_in_schema=False)


def optional_user(request: Request, services: ServicesDep) -> WebUser | None:
    secret = request.cookies.get(SESSION_COOKIE)
    if not secret or len(secret) > 200:
        return None
    with services.read_sessions() as session:
        user = find_user(session, secret)
    request.state.web_user = user
    return user


OptionalUser = Annotated[WebUser | None, Depends(optional_user)]


def signed_in(request: Request, user: OptionalUser) -> WebUser:
    if user is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInRequired(target)
    return user


SignedIn = Annotated[WebUser, Depends(signed_in)]


async def workspace_user(
    user: SignedIn, workspace: Annotated[str, PathParam(max_length=100)]
) -> WebUser:
    """The signed-in user if the page's workspace is theirs; else 404, as in the API."""
    await workspace_scope(user.principal, workspace)
    return user


WorkspaceUser = Annotated[WebUser, Depends(workspace_user)]


MAX_FORM_BYTES = 1024 * 1024
"""A form is a few fields and at most a configuration's JSON; anything bigger is not ours."""


async def checked_form(request: Request) -> FormData:
    """The posted form, once its CSRF token proved it came from one of our pages."""
    declared = request.headers.get("content-length", "")
    if not declared.isdigit() or int(declared) > MAX_FORM_BYTES:
        raise ApiError(413, "This form is too large to be one of ADE's.", code="too-large")
    form = await request.form()
    token = form.get(CSRF_FIELD)
    if not csrf_valid(request, token if isinstance(token, str) else None):
        raise CsrfRejected()
    return form


CheckedForm = Annotated[FormData, Depends(checked_form)]


def form_text(form: FormData, name: str, default: str = "") -> str:
    value = form.get(name)
    return value if isinstance(value, str) else default


def workspace_url(user: WebUser, path: str = "") -> str:
    return f"/w/{user.principal.workspace_slug}{path}"


SESSION_MAX_AGE = int(SESSION_LIFETIME.total_seconds())
