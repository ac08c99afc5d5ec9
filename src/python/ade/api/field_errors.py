"""Located validation errors, as the API returns them: `{"location": [...], "message": ...}`.

One function for every caller that reports a pydantic validation error to a person: the API's
422 problems (:mod:`ade.api.problems`) and `ade config validate`, so a configuration file checked
on the command line gets the very messages the API would answer for it. Pure Python (no FastAPI
import): the CLI imports it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def located_errors(errors: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """pydantic's `errors()` items as location (outermost first) and message."""
    located = []
    for item in errors:
        # "input" may echo a huge or binary body back; location and message are enough.
        location = [str(part) for part in item.get("loc", ())]
        located.append({"location": location, "message": str(item.get("msg", "invalid"))})
    return located


def first_error_detail(errors: list[dict[str, Any]], default: str = "invalid request") -> str:
    """The one-line summary of located errors: "where: message" of the first one."""
    where = ".".join(errors[0]["location"]) if errors else ""
    message = str(errors[0]["message"]) if errors else default
    return f"{where}: {message}" if where else message
