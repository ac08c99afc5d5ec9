"""The OpenAPI document tells the truth: Schemathesis drives the app from it, with every check.

Every operation gets generated requests, valid and invalid ones, and each response must have a
status the document declares for it, its content type, its schema and its headers; a valid
request must not be refused, an invalid one must not be accepted, no request may end in a
server error, and every problem names its request. test_contract_links.py follows the
document's links (a separate file, so Pants runs the two at once). How many requests: see
tests/api/contract.py.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import settings
from typer.testing import CliRunner

from ade.cli.commands.main import app as cli_app
from tests.api.conftest import Api
from tests.api.contract import BACKENDS, EXAMPLES, api_on, contract_schema

schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture(params=BACKENDS)
def api_schema(request: pytest.FixtureRequest) -> schemathesis.BaseSchema:
    return contract_schema(api_on(request, request.param))


@settings(max_examples=EXAMPLES)
@schema.parametrize()
def test_every_operation_keeps_the_contract(case: schemathesis.Case[Any]) -> None:
    case.call_and_validate()


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
