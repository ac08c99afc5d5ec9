"""Configurations: validated creation, one active per workspace, archive."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from sqlalchemy import func, select

from ade.db.models import Configuration
from tests.api.conftest import Api

SPEC = {"fields": [{"name": "email", "type": "email", "aliases": ["E-mail"]}]}


def create(
    api: Api, name: str = "mine", spec: dict[str, Any] | None = None, **extra
) -> dict[str, Any]:
    response = api.client.post(
        api.a.url("/configurations"),
        headers=api.a.headers,
        json={"name": name, "spec": spec or SPEC, **extra},
    )
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def active_ids(api: Api) -> list[str]:
    items = api.client.get(
        api.a.url("/configurations"), headers=api.a.headers, params={"status": "active"}
    ).json()["items"]
    return [item["id"] for item in items]


def test_new_workspace_has_the_default_configuration_active(api: Api) -> None:
    items = api.client.get(api.a.url("/configurations"), headers=api.a.headers).json()["items"]
    assert [(item["name"], item["status"]) for item in items] == [("people-roster", "active")]


def test_create_get_and_spec_defaults(api: Api) -> None:
    created = create(api)
    assert created["status"] == "draft"
    assert created["spec"]["match_threshold"] == 0.75  # normalized, defaults filled
    got = api.client.get(api.a.url(f"/configurations/{created['id']}"), headers=api.a.headers)
    assert got.json() == created


def test_bad_specs_get_a_useful_422(api: Api) -> None:
    cases = [
        ({"fields": []}, "fields"),
        ({"fields": [{"name": "Bad Name"}]}, "fields.0.name"),
        ({"fields": [{"name": "a", "type": "colour"}]}, "fields.0.type"),
        ({"fields": [{"name": "a"}, {"name": "a"}]}, "duplicate field name"),
        (
            {"fields": [{"name": "a", "aliases": ["X"]}, {"name": "b", "aliases": ["x"]}]},
            "already claimed",
        ),
        ({"fields": [{"name": "a"}], "unknown_option": 1}, "unknown_option"),
        ({"fields": [{"name": "a"}], "match_threshold": 7}, "match_threshold"),
        (
            {"fields": [{"name": "a"}], "header_overrides": {"Worker #": "b"}},
            "header_overrides['Worker #']: unknown field 'b'",
        ),
        ({"fields": [{"name": "a"}], "value_match_threshold": -1}, "value_match_threshold"),
    ]
    for spec, expected in cases:
        response = api.client.post(
            api.a.url("/configurations"), headers=api.a.headers, json={"name": "x", "spec": spec}
        )
        assert response.status_code == 422, spec
        problem = response.json()
        text = problem["detail"] + " " + str(problem["errors"])
        assert expected in text, (expected, problem)
    missing_name = api.client.post(
        api.a.url("/configurations"), headers=api.a.headers, json={"spec": SPEC}
    )
    assert missing_name.status_code == 422


def test_activate_keeps_exactly_one_active(api: Api) -> None:
    first, second = create(api, "one"), create(api, "two", activate=True)
    assert second["status"] == "active"
    assert active_ids(api) == [second["id"]]
    activated = api.client.post(
        api.a.url(f"/configurations/{first['id']}/activate"), headers=api.a.headers
    )
    assert activated.json()["status"] == "active"
    assert active_ids(api) == [first["id"]]
    # idempotent
    api.client.post(api.a.url(f"/configurations/{first['id']}/activate"), headers=api.a.headers)
    assert active_ids(api) == [first["id"]]
    # b's active configuration is unaffected
    b_active = api.client.get(
        api.b.url("/configurations"), headers=api.b.headers, params={"status": "active"}
    ).json()["items"]
    assert len(b_active) == 1


def test_concurrent_activations_leave_one_active(postgres_api: Api) -> None:
    api = postgres_api
    configs = [create(api, f"c{i}")["id"] for i in range(6)]
    results: list[int] = []

    def activate(config_id: str) -> None:
        response = api.client.post(
            api.a.url(f"/configurations/{config_id}/activate"), headers=api.a.headers
        )
        results.append(response.status_code)

    threads = [threading.Thread(target=activate, args=(c,)) for c in configs * 2]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [200] * len(threads)
    with api.session() as session:
        count = session.scalar(
            select(func.count())
            .select_from(Configuration)
            .where(Configuration.status == "active", Configuration.workspace_id == api.a.id)
        )
    assert count == 1
    assert len(active_ids(api)) == 1


def test_archive(api: Api) -> None:
    config = create(api)
    archived = api.client.post(
        api.a.url(f"/configurations/{config['id']}/archive"), headers=api.a.headers
    )
    assert archived.json()["status"] == "archived"
    again = api.client.post(
        api.a.url(f"/configurations/{config['id']}/activate"), headers=api.a.headers
    )
    assert again.status_code == 409
    [active] = active_ids(api)
    refused = api.client.post(api.a.url(f"/configurations/{active}/archive"), headers=api.a.headers)
    assert refused.status_code == 409
    document = api.upload(api.a).json()["document"]["id"]
    run = api.client.post(
        api.a.url("/runs"),
        headers=api.a.headers,
        json={"document_id": document, "configuration_id": config["id"]},
    )
    assert run.status_code == 409


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_text_no_database_can_store_is_422_on_every_backend(
    request: pytest.FixtureRequest, database: str
) -> None:
    """PostgreSQL stores no NUL and no unpaired surrogate (a 500 once); SQLite refuses them too,
    so a configuration means the same on both."""
    api: Api = request.getfixturevalue("api" if database == "sqlite" else "postgres_api")
    url = api.a.url("/configurations")
    for body, where in (
        ({"name": "a\x00b", "spec": SPEC}, "body.name"),
        ({"name": "ok", "spec": {"fields": [{"name": "a", "label": "x\ud800"}]}}, "label"),
        ({"name": "ok", "spec": {"fields": [{"name": "a", "aliases": ["b\x00"]}]}}, "aliases"),
    ):
        escaped = json.dumps(body)  # "\ud800" as JSON writes it: not UTF-8 encodable raw
        headers = {**api.a.headers, "Content-Type": "application/json"}
        response = api.client.post(url, headers=headers, content=escaped)
        assert response.status_code == 422, response.text
        assert where in response.json()["detail"]
    listed = api.client.get(api.a.url("/documents"), headers=api.a.headers, params={"name": "\0"})
    assert listed.status_code == 422
    assert listed.json()["errors"][0]["location"] == ["query", "name"]
    assert create(api, "Zoë ✓", {"fields": [{"name": "a", "label": "名前"}]})["name"] == "Zoë ✓"


def test_ade_config_validate_prints_the_errors_the_api_answers(api: Api, tmp_path: Any) -> None:
    """The same bad spec checked by `ade config validate --json` and POSTed to the API: the same
    locations (the API's are under body.spec) and messages."""
    from typer.testing import CliRunner

    from ade.cli.commands.config import app

    bad = {
        "fields": [{"name": "a", "type": "nope"}, {"name": "a"}],
        "match_threshold": 2,
        "colour": "red",
    }
    target = tmp_path / "bad.json"
    target.write_text(json.dumps(bad), "utf-8")
    result = CliRunner().invoke(app, ["validate", str(target), "--json"])
    assert result.exit_code == 1
    cli_errors = json.loads(result.stdout)["errors"]
    response = api.client.post(
        api.a.url("/configurations"), headers=api.a.headers, json={"name": "x", "spec": bad}
    )
    assert response.status_code == 422
    api_errors = [
        {"location": e["location"][2:], "message": e["message"]}
        for e in response.json()["errors"]
        if e["location"][:2] == ["body", "spec"]
    ]
    assert cli_errors == api_errors and len(cli_errors) == 3
