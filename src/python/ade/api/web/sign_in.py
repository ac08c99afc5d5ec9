"""Signing in (with an API key, or a one-time link from ``ade start``) and out."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request
from fastapi.concurrency import run_in_threadpool
from starlette.responses import Response

from ade.api.auth import authenticate
from ade.api.dependencies import Services, ServicesDep
from ade.api.problems import ApiError
from ade.api.web.pages import (
    SESSION_MAX_AGE,
    CheckedForm,
    OptionalUser,
    form_text,
    page_router,
    redirect,
    render,
    set_cookie,
    workspace_url,
)
from ade.api.web.security import SESSION_COOKIE
from ade.api.web.sessions import (
    SignInLinkInvalid,
    close_session,
    open_session,
    redeem_sign_in_token,
)

router = page_router()

NOTICES = {"signed-out": "You have signed out."}


def _safe_next(target: str | None) -> str | None:
    """Only a path on this site (never ``//host`` or ``https://...``): no open redirect."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return None


def _signed_in(request: Request, secret: str, target: str) -> Response:
    response = redirect(target)
    set_cookie(request, response, SESSION_COOKIE, secret, SESSION_MAX_AGE)
    return response


@router.get("/")
def home(user: OptionalUser) -> Response:
    return redirect(workspace_url(user, "/documents") if user else "/sign-in")


@router.get("/sign-in")
def sign_in_page(
    request: Request,
    user: OptionalUser,
    next: Annotated[str | None, Query(max_length=2000)] = None,
    notice: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    if user is not None:
        return redirect(_safe_next(next) or workspace_url(user, "/documents"))
    return render(request, "sign_in.html", next=_safe_next(next), notice=NOTICES.get(notice or ""))


def _open_with_key(services: Services, api_key: str) -> tuple[str, str]:
    """Check the key exactly as the API does, then open a session for it."""
    with services.read_sessions() as reader:
        principal = authenticate(reader, services, api_key)
    with services.write_sessions() as writer:
        secret = open_session(writer, principal.key_id)
        writer.commit()
    return secret, principal.workspace_slug


@router.post("/sign-in")
async def sign_in(request: Request, services: ServicesDep, form: CheckedForm) -> Response:
    api_key = form_text(form, "api_key").strip()
    target = _safe_next(form_text(form, "next"))
    if not api_key:
        error = "Enter an API key."
    else:
        try:
            secret, slug = await run_in_threadpool(_open_with_key, services, api_key[:200])
        except ApiError as refused:
            error = f"Sign-in refused: {refused.detail}."
        else:
            return _signed_in(request, secret, target or f"/w/{slug}/documents")
    return render(request, "sign_in.html", 401, next=target, error=error)


@router.get("/sign-in/link")
def sign_in_link_page(
    request: Request, token: Annotated[str, Query(max_length=200)] = ""
) -> Response:
    """A page with one button, not a sign-in on GET: link previewers and prefetchers must not
    use up the one-time token, and the post is same-site, so the Strict cookie sticks."""
    return render(request, "sign_in_link.html", token=token)


def _open_with_token(services: Services, token: str) -> str:
    with services.write_sessions() as writer:
        api_key_id = redeem_sign_in_token(writer, token)
        secret = open_session(writer, api_key_id)
        writer.commit()
    return secret


@router.post("/sign-in/link")
async def sign_in_with_link(request: Request, services: ServicesDep, form: CheckedForm) -> Response:
    token = form_text(form, "token")[:200]
    try:
        secret = await run_in_threadpool(_open_with_token, services, token)
    except SignInLinkInvalid as invalid:
        return render(request, "sign_in.html", 401, error=f"{str(invalid).capitalize()}.")
    return _signed_in(request, secret, "/")


@router.post("/sign-out")
async def sign_out(
    request: Request, services: ServicesDep, user: OptionalUser, _form: CheckedForm
) -> Response:
    if user is not None:

        def close() -> None:
            with services.write_sessions() as writer:
                close_session(writer, user.session_hash)
                writer.commit()

        await run_in_threadpool(close)
    response = redirect("/sign-in?notice=signed-out")
    response.delete_cookie(
        SESSION_COOKIE,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response
