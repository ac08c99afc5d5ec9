"""Configurations: list, view, create or edit the JSON (errors shown beside it), activate,
archive. Saving an edit stores a new configuration: the old one stays exactly as the runs
that used it saw it, so every past run can still be explained."""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import ValidationError
from starlette.responses import Response

from ade.api.configurations import (
    activate_configuration,
    archive_configuration,
    create_configuration,
    get_configuration_route,
    list_configurations,
)
from ade.api.dependencies import Services, ServicesDep
from ade.api.pagination import MAX_LIMIT
from ade.api.problems import ApiError
from ade.api.schemas import ConfigurationCreate, ConfigurationOut
from ade.api.web.pages import (
    CheckedForm,
    WorkspaceUser,
    form_text,
    page_router,
    redirect,
    render,
    workspace_url,
)
from ade.api.web.runs import optional_uuid as _optional_uuid
from ade.api.web.sessions import WebUser
from ade.db.configuration_spec import default_configuration

router = page_router()
CONFIGURATIONS = "/w/{workspace}/configurations"
MAX_SPEC_CHARS = 200_000
NOTICES = {
    "created": "Saved as a new configuration.",
    "activated": "This configuration is now active: new uploads use it.",
    "archived": "Archived. Runs that used it keep it; it can no longer be used for new runs.",
}


async def _all(services: Services, user: WebUser) -> list[ConfigurationOut]:
    return (await list_configurations(user.principal, services, None, MAX_LIMIT)).items


async def _one(services: Services, user: WebUser, configuration_id: uuid.UUID) -> ConfigurationOut:
    return await get_configuration_route(user.principal, services, configuration_id)


@router.get(CONFIGURATIONS)
async def configurations_page(
    request: Request,
    user: WorkspaceUser,
    services: ServicesDep,
    notice: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    configurations = await _all(services, user)
    return render(
        request,
        "configurations.html",
        user=user,
        base=workspace_url(user),
        configurations=configurations,
        notice=NOTICES.get(notice or ""),
    )


def _editor(
    request: Request,
    user: WebUser,
    *,
    name: str,
    text: str,
    activate: bool,
    errors: list[tuple[str, str]] | None = None,
    source: ConfigurationOut | None = None,
    notice: str | None = None,
) -> Response:
    return render(
        request,
        "configuration.html",
        422 if errors else 200,
        user=user,
        base=workspace_url(user),
        name=name,
        text=text,
        activate=activate,
        errors=errors or [],
        source=source,
        notice=notice,
    )


def _pretty(spec: dict[str, Any]) -> str:
    return json.dumps(spec, indent=2, ensure_ascii=False)


def _view(
    request: Request, user: WebUser, source: ConfigurationOut, notice: str | None
) -> Response:
    """A stored configuration, its JSON ready to edit into a new one."""
    return _editor(
        request,
        user,
        name=source.name,
        text=_pretty(source.spec),
        # Never pre-ticked: saving an edit of the active configuration used to activate the
        # copy at once. Activating is a choice of its own.
        activate=False,
        source=source,
        notice=notice,
    )


@router.get(CONFIGURATIONS + "/new")
def new_configuration(request: Request, user: WorkspaceUser) -> Response:
    spec = default_configuration().model_dump(mode="json")
    return _editor(request, user, name="", text=_pretty(spec), activate=False)


@router.get(CONFIGURATIONS + "/{configuration_id}")
async def configuration_page(
    request: Request,
    user: WorkspaceUser,
    services: ServicesDep,
    configuration_id: uuid.UUID,
    notice: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    source = await _one(services, user, configuration_id)
    return _view(request, user, source, NOTICES.get(notice or ""))


def _json_error(error: json.JSONDecodeError) -> tuple[str, str]:
    return (f"line {error.lineno}, column {error.colno}", f"not valid JSON: {error.msg}")


def _where(location: tuple[int | str, ...]) -> str:
    """A pydantic location in the JSON's own terms: ``spec.fields[2].type``."""
    text = ""
    for part in location:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text or "configuration"


def _spec_errors(error: ValidationError) -> list[tuple[str, str]]:
    # pydantic prefixes a validator's own message with "Value error, ": not for people.
    return [
        (_where(item["loc"]), str(item["msg"]).removeprefix("Value error, "))
        for item in error.errors()
    ]


@router.post(CONFIGURATIONS)
async def save_configuration(
    request: Request, user: WorkspaceUser, services: ServicesDep, form: CheckedForm
) -> Response:
    name = " ".join(form_text(form, "name").split())
    text = form_text(form, "spec")
    activate = form_text(form, "activate") == "on"
    errors: list[tuple[str, str]] = []
    spec: Any = None
    if len(text) > MAX_SPEC_CHARS:
        errors.append(("spec", f"longer than {MAX_SPEC_CHARS:,} characters"))
    else:
        try:
            spec = json.loads(text)
        except json.JSONDecodeError as error:
            errors.append(_json_error(error))
    body = None
    if not errors:
        try:
            body = ConfigurationCreate(name=name, spec=spec, activate=activate)
        except ValidationError as error:
            errors = _spec_errors(error)
    if body is None:
        based_on = _optional_uuid(form_text(form, "based_on"))
        source = await _one(services, user, based_on) if based_on else None
        return _editor(
            request, user, name=name, text=text, activate=activate, errors=errors, source=source
        )

    def create() -> ConfigurationOut:
        with services.write_sessions() as session:
            return create_configuration(user.principal, session, body)

    created = await run_in_threadpool(create)
    return redirect(workspace_url(user, f"/configurations/{created.id}?notice=created"))


def _change(
    services: Services, user: WebUser, configuration_id: uuid.UUID, action: str
) -> ConfigurationOut:
    change = activate_configuration if action == "activate" else archive_configuration
    with services.write_sessions() as session:
        return change(user.principal, session, configuration_id)


@router.post(CONFIGURATIONS + "/{configuration_id}/activate")
async def activate(
    request: Request,
    user: WorkspaceUser,
    services: ServicesDep,
    configuration_id: uuid.UUID,
    _form: CheckedForm,
) -> Response:
    return await _apply(request, user, services, configuration_id, "activate", "activated")


@router.post(CONFIGURATIONS + "/{configuration_id}/archive")
async def archive(
    request: Request,
    user: WorkspaceUser,
    services: ServicesDep,
    configuration_id: uuid.UUID,
    _form: CheckedForm,
) -> Response:
    return await _apply(request, user, services, configuration_id, "archive", "archived")


async def _apply(
    request: Request,
    user: WebUser,
    services: Services,
    configuration_id: uuid.UUID,
    action: str,
    notice: str,
) -> Response:
    try:
        await run_in_threadpool(_change, services, user, configuration_id, action)
    except ApiError as refused:
        if refused.status != 409:
            raise
        source = await _one(services, user, configuration_id)
        return _view(request, user, source, f"Not done: {refused.detail}.")
    return redirect(workspace_url(user, f"/configurations/{configuration_id}?notice={notice}"))
