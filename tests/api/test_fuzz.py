"""Schema-driven fuzzing: random requests to every operation in the app's own OpenAPI document
must never get a 5xx, and every error must be problem+json with the request id."""

from __future__ import annotations

import re
import uuid
from typing import Any
from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from ade.cli.commands.main import app as cli_app
from tests.api.conftest import Api

SETTINGS = settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

text = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=40)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**63),
    st.floats(allow_nan=False, allow_infinity=False),  # JSON has neither
    text,
    st.just(str(uuid.uuid4())),
    st.just("../../etc/passwd"),
)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(text, children, max_size=4),
    max_leaves=12,
)


def operations(api: Api) -> list[tuple[str, str, list[str], list[str]]]:
    found = []
    for path, item in api.client.app.openapi()["paths"].items():  # type: ignore[attr-defined]
        for method, operation in item.items():
            params = operation.get("parameters", [])
            query = [p["name"] for p in params if p["in"] == "query"]
            headers = [p["name"] for p in params if p["in"] == "header"]
            found.append((method.upper(), path, query, headers))
    return found


def test_openapi_is_served_with_docs(api: Api) -> None:
    schema = api.client.get("/api/openapi.json").json()
    assert "/api/v1/workspaces/{workspace}/documents" in schema["paths"]
    assert api.client.get("/api/docs").status_code == 200
    # the API states the release `ade --version` prints (an installed wheel once said 0.0.0)
    printed = CliRunner().invoke(cli_app, ["--version"]).stdout.split()
    assert printed == ["ade", schema["info"]["version"]]


def test_no_5xx_for_random_requests(api: Api) -> None:
    ops = operations(api)
    document = api.upload(api.a, process="true").json()
    known = [
        document["document"]["id"],
        document["run"]["id"],
        document["run"]["configuration_id"],
        "tenant-a",
        "tenant-b",
        api.a.id,
    ]

    path_values = st.one_of(
        st.sampled_from(known),
        text.filter(lambda s: "/" not in s and s not in (".", "..")),
        st.uuids().map(str),
    )
    query_values = st.one_of(
        st.integers(-5, 10**12).map(str),
        text,
        st.sampled_from(["queued", "csv", "xlsx", "true", "0", "-1", "bytes=0-1", "e30", ""]),
    )

    @SETTINGS
    @given(
        op=st.sampled_from(ops),
        path_args=st.lists(path_values, min_size=3, max_size=3),
        query=st.dictionaries(
            st.sampled_from(
                [
                    "cursor",
                    "limit",
                    "name",
                    "status",
                    "document_id",
                    "after",
                    "format",
                    "table",
                    "process",
                    "filename",
                ]
            ),
            query_values,
            max_size=4,
        ),
        body=st.one_of(st.none(), json_values, st.binary(max_size=200)),
        key=st.sampled_from(["good", "none", "bad"]),
        range_header=st.one_of(
            st.none(), st.sampled_from(["bytes=0-0", "bytes=5-1", "bytes=-1", "junk"])
        ),
    )
    def check(op, path_args, query, body, key, range_header) -> None:
        method, template, _query_names, _headers = op
        args = iter(path_args)
        path = re.sub(r"\{[^}]+\}", lambda _m: quote(next(args), safe=""), template)
        headers: dict[str, str] = {}
        if key == "good":
            headers["X-API-Key"] = api.a.key
        elif key == "bad":
            headers["X-API-Key"] = "ade_000000000000_" + "x" * 43
        if range_header:
            headers["Range"] = range_header
        kwargs: dict[str, Any] = {"params": query, "headers": headers}
        if isinstance(body, bytes):
            kwargs["content"] = body
            headers["Content-Type"] = "application/octet-stream"
        elif body is not None:
            kwargs["json"] = body
        response = api.client.request(method, path, **kwargs)
        assert response.status_code < 500, (method, path, query, body, response.text)
        if response.status_code >= 400:
            assert response.headers["content-type"] == "application/problem+json"
            assert response.json()["request_id"] == response.headers["x-request-id"]

    check()
