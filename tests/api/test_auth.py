"""API keys and workspace isolation."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from ade.api.admin import AdminError, revoke_api_key
from tests.api.conftest import Api


def assert_problem(response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert body["request_id"] == response.headers["x-request-id"]
    result: dict[str, Any] = body
    return result


def test_missing_and_unknown_keys_are_401(api: Api) -> None:
    url = api.a.url("/documents")
    assert_problem(api.client.get(url), 401)
    for key in (
        "nope",
        "",
        "ade_000000000000_" + "A" * 43,  # well-formed, unknown prefix
        api.a.key[:-1] + ("A" if api.a.key[-1] != "A" else "B"),  # right prefix, wrong secret
        api.a.key + "x",
        api.b.key.replace(api.b.prefix, api.a.prefix),  # a's prefix with b's secret
    ):
        body = assert_problem(api.client.get(url, headers={"X-API-Key": key}), 401)
        assert "key" in body["detail"]
    response = api.client.get("/api/v1/workspaces")
    assert response.headers["www-authenticate"].startswith("ApiKey")


def test_revoked_key_stops_at_once(api: Api) -> None:
    url = api.a.url("/documents")
    assert api.client.get(url, headers=api.a.headers).status_code == 200
    with api.session() as session:
        revoke_api_key(session, api.a.prefix)
        session.commit()
    body = assert_problem(api.client.get(url, headers=api.a.headers), 401)
    assert "revoked" in body["detail"]
    with api.session() as session, pytest.raises(AdminError):
        revoke_api_key(session, "ffffffffffff")


def test_workspace_listing_shows_only_the_keys_workspace(api: Api) -> None:
    items = api.client.get("/api/v1/workspaces", headers=api.a.headers).json()["items"]
    assert [item["slug"] for item in items] == ["tenant-a"]
    by_id = api.client.get(f"/api/v1/workspaces/{api.a.id}", headers=api.a.headers)
    assert by_id.json()["slug"] == "tenant-a"


def test_other_workspaces_resources_answer_404(api: Api) -> None:
    document = api.upload(api.b, process="true").json()
    doc_id, run_id = document["document"]["id"], document["run"]["id"]
    config_id = document["run"]["configuration_id"]
    # a's key, b's workspace in the path: 404 whatever the resource
    for path in ("", "/documents", f"/documents/{doc_id}", "/runs", "/configurations"):
        assert_problem(
            api.client.get(f"/api/v1/workspaces/tenant-b{path}", headers=api.a.headers), 404
        )
        assert_problem(
            api.client.get(f"/api/v1/workspaces/{api.b.id}{path}", headers=api.a.headers), 404
        )
    # a's key and a's workspace, b's ids: 404 too, never b's data
    for path in (
        f"/documents/{doc_id}",
        f"/documents/{doc_id}/content",
        f"/runs/{run_id}",
        f"/runs/{run_id}/events",
        f"/runs/{run_id}/output",
        f"/configurations/{config_id}",
    ):
        body = assert_problem(api.client.get(api.a.url(path), headers=api.a.headers), 404)
        assert doc_id not in str(body)
    assert_problem(api.client.delete(api.a.url(f"/documents/{doc_id}"), headers=api.a.headers), 404)
    assert_problem(api.client.post(api.a.url(f"/runs/{run_id}/cancel"), headers=api.a.headers), 404)
    assert_problem(
        api.client.post(api.a.url(f"/configurations/{config_id}/activate"), headers=api.a.headers),
        404,
    )
    assert_problem(
        api.client.post(api.a.url("/runs"), headers=api.a.headers, json={"document_id": doc_id}),
        404,
    )
    own = api.upload(api.a).json()["document"]["id"]
    assert_problem(
        api.client.post(
            api.a.url("/runs"),
            headers=api.a.headers,
            json={"document_id": own, "configuration_id": config_id},
        ),
        404,
    )
    # b's things are untouched
    assert (
        api.client.get(api.b.url(f"/runs/{run_id}"), headers=api.b.headers).json()["status"]
        == "queued"
    )


def test_unknown_workspace_is_404(api: Api) -> None:
    for ws in ("nope", str(uuid.uuid4()), "x" * 100):
        assert_problem(
            api.client.get(f"/api/v1/workspaces/{ws}/documents", headers=api.a.headers), 404
        )


def test_workspace_path_may_be_the_id_in_any_uuid_spelling(api: Api) -> None:
    workspace_id = uuid.UUID(api.a.id)
    for spelling in (str(workspace_id), str(workspace_id).upper(), workspace_id.hex):
        response = api.client.get(f"/api/v1/workspaces/{spelling}/documents", headers=api.a.headers)
        assert response.status_code == 200, (spelling, response.text)


def test_authenticate_in_a_worker_thread_checks_and_records_use(api: Api) -> None:
    """The synchronous check, for code that already runs in a worker thread (the API's own
    routes use the async dependency): the same answers, and the use is recorded."""
    from sqlalchemy import select

    from ade.api.auth import authenticate
    from ade.api.problems import ApiError
    from ade.db.models import ApiKey

    services = api.client.app.state.services  # type: ignore[attr-defined]
    with services.read_sessions() as session:
        principal = authenticate(session, services, api.a.key)
    assert (principal.workspace_slug, str(principal.workspace_id)) == ("tenant-a", api.a.id)
    with api.session() as session:
        used = session.scalar(select(ApiKey.last_used_at).where(ApiKey.prefix == api.a.prefix))
        assert used is not None
        revoke_api_key(session, api.a.prefix)
        session.commit()
    with services.read_sessions() as session, pytest.raises(ApiError) as refused:
        authenticate(session, services, api.a.key)
    assert (refused.value.status, refused.value.detail) == (401, "API key has been revoked")
