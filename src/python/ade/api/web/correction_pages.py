"""The run page's "Save and run again": review the chosen corrections, then store them in a
new configuration (the run's own stays as it was), make it active when the run used the active
one, and run the document again with it.

Two posts, both CSRF-checked: ``/corrections/review`` shows the changes field by field (the
confirmation step); ``/corrections`` saves and re-runs. Nothing is stored by the first.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from pydantic import ValidationError
from starlette.datastructures import FormData
from starlette.responses import Response

from ade.api.configurations import create_configuration
from ade.api.dependencies import Services, ServicesDep
from ade.api.problems import ApiError
from ade.api.run_queue import enqueue_run, get_configuration, get_document, get_run
from ade.api.schemas import ConfigurationCreate
from ade.api.web.corrections import (
    Change,
    CorrectionError,
    corrected_name,
    corrected_spec,
    proposed_changes,
)
from ade.api.web.pages import (
    CheckedForm,
    WorkspaceUser,
    page_router,
    redirect,
    render,
    workspace_url,
)
from ade.api.web.runs import RUN
from ade.api.web.sessions import WebUser
from ade.db.column_types import utcnow
from ade.db.configuration_spec import ConfigurationSpec
from ade.db.models import ConfigurationStatus, RunStatus

router = page_router()


@dataclass(frozen=True)
class Proposal:
    """What saving would do: the changes, the new configuration's name and spec."""

    run_id: uuid.UUID
    document_id: uuid.UUID
    document_name: str
    configuration_name: str
    was_active: bool
    changes: list[Change]
    new_name: str
    new_spec: ConfigurationSpec


def _choice(form: FormData) -> Any:
    def chosen(name: str) -> str | None:
        value = form.get(name)
        return value if isinstance(value, str) else None

    return chosen


def _propose(services: Services, user: WebUser, run_id: uuid.UUID, form: FormData) -> Proposal:
    workspace_id = user.principal.workspace_id
    with services.read_sessions() as session:
        run = get_run(session, workspace_id, run_id)
        if run.status != RunStatus.SUCCEEDED:
            raise ApiError(409, "Only a finished, successful run can be corrected.")
        document = get_document(session, workspace_id, run.document_id)
        configuration = get_configuration(session, workspace_id, run.configuration_id)
        spec = dict(configuration.spec)
        fields = [str(item["name"]) for item in spec.get("fields") or []]
        try:
            changes = proposed_changes(run.summary or {}, fields, _choice(form))
            new_spec = ConfigurationSpec.model_validate(corrected_spec(spec, changes))
        except CorrectionError as refused:
            raise ApiError(422, str(refused)) from None
        except ValidationError as refused:  # e.g. the old configuration no longer validates
            raise ApiError(422, f"The corrected configuration is not valid: {refused}") from None
        return Proposal(
            run_id=run.id,
            document_id=document.id,
            document_name=document.original_filename,
            configuration_name=configuration.name,
            was_active=configuration.status == ConfigurationStatus.ACTIVE,
            changes=changes,
            new_name=corrected_name(configuration.name, utcnow()),
            new_spec=new_spec,
        )


@router.post(RUN + "/corrections/review")
async def review(
    request: Request,
    user: WorkspaceUser,
    services: ServicesDep,
    run_id: uuid.UUID,
    form: CheckedForm,
) -> Response:
    proposal = await run_in_threadpool(_propose, services, user, run_id, form)
    return render(
        request,
        "correct.html",
        user=user,
        base=workspace_url(user),
        proposal=proposal,
    )


def _save(services: Services, user: WebUser, proposal: Proposal) -> tuple[uuid.UUID, bool]:
    """Store the new configuration (active if the run's one still is) and queue the run."""
    workspace_id = user.principal.workspace_id
    with services.write_sessions() as session:
        run = get_run(session, workspace_id, proposal.run_id)
        used = get_configuration(session, workspace_id, run.configuration_id)
        activate = used.status == ConfigurationStatus.ACTIVE
        body = ConfigurationCreate(
            name=proposal.new_name, spec=proposal.new_spec, activate=activate
        )
        created = create_configuration(user.principal, session, body)
        document = get_document(session, workspace_id, proposal.document_id)
        new_run = enqueue_run(session, workspace_id, document, created.id)
        session.commit()
        return new_run.id, activate


@router.post(RUN + "/corrections")
async def save(
    request: Request,
    user: WorkspaceUser,
    services: ServicesDep,
    run_id: uuid.UUID,
    form: CheckedForm,
) -> Response:
    proposal = await run_in_threadpool(_propose, services, user, run_id, form)
    if not proposal.changes:
        return render(
            request, "correct.html", user=user, base=workspace_url(user), proposal=proposal
        )
    new_run, active = await run_in_threadpool(_save, services, user, proposal)
    notice = "corrected-active" if active else "corrected"
    return redirect(workspace_url(user, f"/runs/{new_run}?notice={notice}"))
