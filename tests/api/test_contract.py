"""The OpenAPI document tells the truth: Schemathesis drives the app from it, with every check.

Every operation gets generated requests, valid and invalid ones, and each response must have a
status the document declares for it, its content type, its schema and its headers; a valid
request must not be refused, an invalid one must not be accepted, no request may end in a
server error, and every problem names its request. The stateful test follows the document's
links: what one response created, the next request reads, changes or deletes.

Hypothesis' profile decides the search (tests/conftest.py): derandomized in CI, fresh random
inputs with ``HYPOTHESIS_PROFILE=fuzz``, capped here at ten times the CI count (the profile's
5,000 examples a test would be over 100,000 requests).
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from pydantic import ValidationError
from schemathesis.config import SchemathesisConfig
from typer.testing import CliRunner

from ade.api.problems import PROBLEM_JSON
from ade.api.schemas import ConfigurationCreate
from ade.cli.commands.main import app as cli_app
from tests.api.conftest import Api

EXAMPLES = min(settings().max_examples, 1_000)
SCENARIOS = min(settings().max_examples, 200)

schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture(params=["sqlite", "postgresql"])
def api_schema(request: pytest.FixtureRequest) -> schemathesis.BaseSchema:
    """The app on each backend: PostgreSQL refuses values SQLite stores (NUL in text, integers
    beyond 32 bits), so a contract kept on one may be broken on the other."""
    api: Api = request.getfixturevalue("api" if request.param == "sqlite" else "postgres_api")
    config = SchemathesisConfig.from_dict(
        {
            # Through the security scheme, so the auth checks can also send none or a wrong one.
            "auth": {"openapi": {"APIKeyHeader": {"api_key": api.a.key}}},
            # Mostly the key's own workspace, or another tenant's, else any string the schema
            # allows: most requests get past the workspace to the resource. One spelling each
            # (slugs, not ids): the check that a deleted resource may answer 404 cannot tell that
            # /workspaces/<id>/documents/X and /workspaces/<slug>/documents/X are one document
            # (test_auth.py covers ids). For the same reason only the document's own links are
            # followed: inferred ones would take the id from the workspace listing.
            "dictionaries": {"workspaces": {"values": [api.a.slug, api.b.slug]}},
            "parameters": {"path.workspace": {"dictionary": "workspaces", "probability": 0.9}},
            "phases": {"stateful": {"inference": {"algorithms": []}}},
            "checks": {
                # Schemathesis' default, plus 416: whether a well-formed Range can be served
                # depends on the stored size, as 404 depends on what exists.
                "positive_data_acceptance": {
                    "expected-statuses": ["2xx", "3xx", "401", "403", "404", "409", "416", "429"]
                }
            },
        }
    )
    loaded = schemathesis.openapi.from_asgi("/api/openapi.json", api.client.app, config=config)
    loaded.hook("filter_case")(consistent_configurations)
    loaded.hook("map_case")(fresh_idempotency_keys)
    return loaded


_keys_sent = itertools.count()


def fresh_idempotency_keys(_context: Any, case: schemathesis.Case[Any]) -> schemathesis.Case[Any]:
    """A valid request carrying an Idempotency-Key gets a key of its own. Generated values
    repeat ("0", "A"), and a key used again for a different request is refused with 422 by
    design (the IETF draft's status), not for anything in that request; tests/api/
    test_idempotency.py covers reuse. Invalid keys, in negative cases, are left as generated."""
    if case.meta is None or not case.meta.generation.mode.is_positive or not case.headers:
        return case
    for name in list(case.headers):
        if name.lower() == "idempotency-key":
            case.headers[name] = f"contract-{next(_keys_sent)}"
    return case


def consistent_configurations(_context: Any, case: schemathesis.Case[Any]) -> bool:
    """Valid configurations must also keep the rules across fields that JSON Schema cannot
    state (unique names and aliases, derive_names naming defined fields); the schema's
    description of ``spec`` states them. Invalid cases are left alone."""
    if case.operation.label != "POST /api/v1/workspaces/{workspace}/configurations":
        return True
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return True
    try:
        ConfigurationCreate.model_validate(case.body)
    except ValidationError:
        return False
    return True


@schemathesis.check
def problems_name_their_request(
    _ctx: Any, response: schemathesis.Response, _case: schemathesis.Case[Any]
) -> None:
    """A problem's ``request_id`` is the request's X-Request-ID (people quote one or the other)."""
    if response.headers.get("content-type", [""])[0] == PROBLEM_JSON:
        request_ids = response.headers.get("x-request-id")
        assert request_ids, "a problem without an X-Request-ID header"
        assert response.json()["request_id"] == request_ids[0]


@settings(max_examples=EXAMPLES)
@schema.parametrize()
def test_every_operation_keeps_the_contract(case: schemathesis.Case[Any]) -> None:
    case.call_and_validate()


def test_linked_operations_keep_the_contract(api_schema: schemathesis.BaseSchema) -> None:
    """Create documents, runs and configurations, then follow the document's links to read,
    cancel, download, activate, archive and delete what was created. The SSE stream is left
    out: it follows a queued run until the run ends, and no worker runs here."""
    base = api_schema.exclude(operation_id="stream_events").as_state_machine()

    class Machine(base):  # type: ignore[misc,valid-type]
        def before_call(self, case: schemathesis.Case[Any]) -> None:
            fresh_idempotency_keys(None, case)  # hooks on the schema do not reach these cases

    # Valid configurations are drawn by filtering (consistent_configurations): with fresh
    # random inputs most generated specs break a rule across fields, which Hypothesis flags.
    Machine.run(
        settings=settings(
            max_examples=SCENARIOS, suppress_health_check=[HealthCheck.filter_too_much]
        )
    )


def test_openapi_is_served_with_docs(api: Api) -> None:
    document = api.client.get("/api/openapi.json").json()
    assert "/api/v1/workspaces/{workspace}/documents" in document["paths"]
    # No Swagger UI (a CDN's script and style): a page under the pages' CSP points here.
    docs = api.client.get("/api/docs")
    assert docs.status_code == 200 and 'href="/api/openapi.json"' in docs.text
    assert "default-src 'none'" in docs.headers["content-security-policy"]
    assert "swagger" not in docs.text.lower() and "https://" not in docs.text
    assert document["openapi"].startswith("3.1")
    # the API states the release `ade --version` prints (an installed wheel once said 0.0.0)
    printed = CliRunner().invoke(cli_app, ["--version"]).stdout.split()
    assert printed == ["ade", document["info"]["version"]]
