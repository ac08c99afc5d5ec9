"""What both contract test files share: the app's schema as Schemathesis loads it, the hooks
that keep generated requests meaningful, the extra check, and how many inputs each profile draws.

Hypothesis' profile decides the search (tests/conftest.py): the default (CI) profile is
derandomized and sized so that each contract file takes about a minute on a 2-CPU machine;
``HYPOTHESIS_PROFILE=fuzz`` draws fresh random inputs, many more of them (the long run).
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
import schemathesis
from hypothesis import settings
from pydantic import ValidationError
from schemathesis.config import SchemathesisConfig

from ade.api.problems import PROBLEM_JSON
from ade.api.schemas import ConfigurationCreate
from tests.api.conftest import Api

FUZZ = settings().max_examples > settings.get_profile("ade").max_examples
"""A profile that asks for more examples than CI's (``fuzz``) gets the long search below."""

EXAMPLES = min(settings().max_examples, 1_000) if FUZZ else 50
"""Generated requests per operation and backend (fuzz: the profile's count, capped at 1,000 so a
test stays under 100,000 requests)."""

SCENARIOS = 200 if FUZZ else 50
"""Stateful scenarios per backend, each a chain of linked calls."""

STEPS = 50 if FUZZ else 10
"""Calls per scenario at most (Hypothesis' own default, 50, for the long search)."""


BACKENDS = ["sqlite", "postgresql"]
"""PostgreSQL refuses values SQLite stores (NUL in text, integers beyond 32 bits), so a contract
kept on one may be broken on the other: both test files run on both."""


def api_on(request: pytest.FixtureRequest, backend: str) -> Api:
    """The app with its database on ``backend`` (fixtures of tests/api/conftest.py)."""
    api: Api = request.getfixturevalue("api" if backend == "sqlite" else "postgres_api")
    return api


def contract_schema(api: Api) -> schemathesis.BaseSchema:
    """The app's OpenAPI document, loaded by Schemathesis with this suite's hooks and checks."""
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
