"""The OpenAPI document, completed with what FastAPI cannot infer from the routes.

FastAPI describes each route's success response and parameters. This adds, once, what every
route shares:

- the ``Problem`` schema and one ``components/responses`` entry per error status
  (``ade.api.problems.ERROR_RESPONSES``), which routes reference through
  :func:`ade.api.problems.problems`;
- the ``X-Request-ID`` header, which every response carries (``ade.api.middleware``);
- the headers that come with some errors (``WWW-Authenticate`` with 401, ``Content-Range``
  with 416).

FastAPI's own 422 schema (``HTTPValidationError``) is dropped: routes declare the problem
version instead, so nothing refers to it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.routing import compile_path

from ade.api.problems import ERROR_RESPONSES, PROBLEM_JSON, Problem
from ade.api.schemas import STORABLE_TEXT

REQUEST_ID = {
    "description": "The request's id (the caller's own X-Request-ID if it sent a safe one); "
    "problems repeat it as `request_id`.",
    "schema": {"type": "string"},
}
_HEADER_REF = "#/components/headers/"
_EXTRA_HEADERS: dict[int | str, dict[str, Any]] = {
    401: {"WWW-Authenticate": {"$ref": _HEADER_REF + "WWW-Authenticate"}},
    416: {"Content-Range": {"$ref": _HEADER_REF + "Content-Range"}},
}
HEADERS = {
    "X-Request-ID": REQUEST_ID,
    "WWW-Authenticate": {
        "description": 'How to authenticate: `ApiKey header="X-API-Key"`.',
        "schema": {"type": "string"},
    },
    "Content-Range": {
        "description": "`bytes START-END/SIZE` with 206, `bytes */SIZE` with 416.",
        "schema": {"type": "string", "pattern": r"^bytes (\d+-\d+|\*)/\d+$"},
    },
}


def operation_id(route: APIRoute) -> str:
    """Operation ids are the routes' names (``get_run``): what a generated client calls its
    methods. FastAPI's default adds the path and method (``get_run_api_v1_..._get``)."""
    return route.name


def links(**targets: dict[str, Any]) -> dict[str, Any]:
    """A response's OpenAPI ``links``: the operations its body lets a client call next, with
    the parameters it supplies, e.g. ``links(get_run={"run_id": "$response.body#/id"})`` (a
    ``requestBody`` entry becomes the link's request body). The workspace carries over."""
    found: dict[str, Any] = {}
    for name, parameters in targets.items():
        link: dict[str, Any] = {
            "operationId": name,
            "parameters": {"workspace": "$request.path.workspace"},
        }
        for key, value in parameters.items():
            if key == "requestBody":
                link["requestBody"] = value
            else:
                link["parameters"][key] = value
        found[name] = link
    return {"links": found}


def install_openapi(app: FastAPI) -> None:
    """Make ``app.openapi()`` (and ``/api/openapi.json``) return the completed document."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            complete(generate())  # FastAPI keeps the dict it returns as app.openapi_schema
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]


def complete(document: dict[str, Any]) -> dict[str, Any]:
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(problem.pop("$defs", {}))
    schemas["Problem"] = problem
    components["headers"] = HEADERS
    components["responses"] = {
        name: {
            "description": description,
            "headers": {"X-Request-ID": {"$ref": _HEADER_REF + "X-Request-ID"}}
            | _EXTRA_HEADERS.get(status, {}),
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status, (name, description) in ERROR_RESPONSES.items()
    }
    for path_item in document.get("paths", {}).values():
        for operation in path_item.values():
            for response in operation.get("responses", {}).values():
                if "$ref" in response:
                    # FastAPI adds the bare status phrase, which would hide the shared text.
                    for key in set(response) - {"$ref"}:
                        del response[key]
                else:
                    headers = response.setdefault("headers", {})
                    headers.setdefault("X-Request-ID", {"$ref": _HEADER_REF + "X-Request-ID"})
    for name in _request_schemas(document):
        _require_storable_text(schemas[name])
    if "#/components/schemas/HTTPValidationError" not in _references(document["paths"]):
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)
    return document


def allowed_methods(app: FastAPI, path: str) -> list[str] | None:
    """The methods the document declares for ``path`` (HEAD with GET, OPTIONS never), for a
    405's ``Allow`` header; None for paths outside the document.

    Starlette answers 405 with the methods of the first route whose path matches, so a path
    with a GET and a POST route would advertise only one of them.
    """
    for pattern, methods in _path_patterns(id(app), app):
        if pattern.match(path):
            return methods
    return None


@cache
def _path_patterns(_app_id: int, app: FastAPI) -> list[tuple[re.Pattern[str], list[str]]]:
    patterns = []
    for template, path_item in app.openapi()["paths"].items():
        methods = sorted(method.upper() for method in path_item)
        if "GET" in methods:
            methods.append("HEAD")
        patterns.append((compile_path(template)[0], methods))
    return patterns


def _request_schemas(document: dict[str, Any]) -> set[str]:
    """The component schemas request bodies use, directly or through other components."""
    schemas = document["components"]["schemas"]
    bodies = [
        operation["requestBody"]
        for path_item in document["paths"].values()
        for operation in path_item.values()
        if "requestBody" in operation
    ]
    pending = {ref.rsplit("/", 1)[1] for ref in _references(bodies)}
    found: set[str] = set()
    while pending:
        name = pending.pop()
        if name in schemas and name not in found:
            found.add(name)
            pending |= {ref.rsplit("/", 1)[1] for ref in _references(schemas[name])}
    return found


def _require_storable_text(schema: Any) -> None:
    """State ``ade.api.schemas.STORABLE_TEXT`` on every free-text string and object key."""
    if not isinstance(schema, dict):
        return
    if schema.get("type") == "string" and not {"format", "enum", "const"} & set(schema):
        if "pattern" in schema:
            schema["allOf"] = [*schema.get("allOf", []), {"pattern": STORABLE_TEXT}]
        else:
            schema["pattern"] = STORABLE_TEXT
    if isinstance(schema.get("additionalProperties"), dict):
        schema["propertyNames"] = {"pattern": STORABLE_TEXT}
    for key in ("properties", "$defs"):
        for child in schema.get(key, {}).values():
            _require_storable_text(child)
    for key in ("items", "additionalProperties"):
        _require_storable_text(schema.get(key))
    for key in ("anyOf", "oneOf", "allOf", "prefixItems"):
        for child in schema.get(key, []):
            _require_storable_text(child)


def _references(node: Any) -> set[str]:
    """Every ``$ref`` under ``node``."""
    if isinstance(node, dict):
        found = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
        for value in node.values():
            found |= _references(value)
        return found
    if isinstance(node, list):
        return set().union(*(_references(item) for item in node))
    return set()
