"""Every kind of bad input gets a problem+json 4xx with a request id, never a 500."""

from __future__ import annotations

import json
import logging
import uuid

from ade.api.logs import JsonFormatter
from tests.api.conftest import Api


def test_problem_shape_and_request_id(api: Api) -> None:
    response = api.client.get("/no/such/route")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert set(body) >= {"type", "title", "status", "detail", "request_id"}
    assert body["request_id"] == response.headers["x-request-id"]
    # a caller's (sane) request id is reused; an unsafe one is replaced
    echoed = api.client.get("/health", headers={"X-Request-ID": "trace-123"})
    assert echoed.headers["x-request-id"] == "trace-123"
    replaced = api.client.get("/health", headers={"X-Request-ID": "bad id\twith spaces"})
    assert replaced.headers["x-request-id"] != "bad id\twith spaces"


def test_method_not_allowed_is_problem(api: Api) -> None:
    response = api.client.put("/health")
    assert response.status_code == 405
    assert response.headers["content-type"] == "application/problem+json"


def test_malformed_json_and_wrong_types_are_422(api: Api) -> None:
    headers = {**api.a.headers, "Content-Type": "application/json"}
    for body in (
        b"{",
        b"not json",
        b"[]",
        b"null",
        b'{"document_id": 5}',
        b'{"document_id": "x"}',
        b'{"document_id": "%s", "extra": 1}' % str(uuid.uuid4()).encode(),
        b"\xff\xfe",
    ):
        response = api.client.post(api.a.url("/runs"), headers=headers, content=body)
        assert response.status_code == 422, (body, response.text)
        problem = response.json()
        assert problem["errors"] and problem["request_id"] == response.headers["x-request-id"]
        assert "Traceback" not in response.text


def test_non_uuid_and_unknown_ids(api: Api) -> None:
    for path in ("/documents/not-a-uuid", "/runs/123", "/configurations/../x"):
        response = api.client.get(api.a.url(path), headers=api.a.headers)
        assert response.status_code in (404, 422), path
        assert response.headers["content-type"] == "application/problem+json"
    for path in ("/documents/", "/runs/", "/configurations/"):
        response = api.client.get(api.a.url(path + str(uuid.uuid4())), headers=api.a.headers)
        assert response.status_code == 404
    unknown_doc = api.client.post(
        api.a.url("/runs"), headers=api.a.headers, json={"document_id": str(uuid.uuid4())}
    )
    assert unknown_doc.status_code == 404


def test_bad_query_parameters_are_422(api: Api) -> None:
    for params in (
        {"limit": 0},
        {"limit": 10_000},
        {"limit": "x"},
        {"status": "bogus"},
        {"document_id": "nope"},
    ):
        response = api.client.get(api.a.url("/runs"), headers=api.a.headers, params=params)
        assert response.status_code == 422, params


def test_request_log_line_has_request_id_and_timing(api: Api, caplog) -> None:
    with caplog.at_level(logging.INFO, logger="ade.api.access"):
        response = api.client.get("/health")
    records = [r for r in caplog.records if r.name == "ade.api.access"]
    assert records, "no access log line"
    record = records[-1]
    assert record.request_id == response.headers["x-request-id"]
    assert record.status == 200 and record.method == "GET" and record.path == "/health"
    line = json.loads(JsonFormatter().format(record))
    assert line["request_id"] == record.request_id
    assert line["status"] == 200 and isinstance(line["duration_ms"], float)


def test_unexpected_error_is_a_500_problem_with_request_id(api: Api, monkeypatch) -> None:
    def broken() -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(api.store, "check", broken)
    ready = api.client.get("/ready")
    assert ready.status_code == 503
    assert ready.json()["storage"] == "unavailable"

    from ade.api import lookups

    def explode(*_args, **_kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(lookups, "document", explode)
    response = api.client.get(api.a.url(f"/documents/{uuid.uuid4()}"), headers=api.a.headers)
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert "secret internals" not in response.text
    assert response.json()["request_id"] == response.headers["x-request-id"]
