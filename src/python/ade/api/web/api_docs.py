"""``/api/docs``: where the JSON API is described, as a page under the pages' own CSP.

ADE serves no Swagger UI. FastAPI's loads its script, style and icon from third-party hosts (a
blank page without internet, and a CSP that allows them or inline script would weaken every
page); no well-kept package on PyPI ships its assets for FastAPI. The OpenAPI document itself
is what clients and viewers need, so this page says where it is and how to read it.
"""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from ade.api.web.pages import OptionalUser, page_router, render

router = page_router()
OPENAPI_URL = "/api/openapi.json"


@router.get("/api/docs")
def api_docs(request: Request, user: OptionalUser) -> Response:
    return render(request, "api_docs.html", user=user, openapi_url=OPENAPI_URL)
