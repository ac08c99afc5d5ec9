"""``/api/docs``: where the JSON API is described, as a page under the pages' own CSP.

ADE serves no Swagger UI. FastAPI's loads its script, style and icon from third-party hosts (a
blank page without internet). Served from packaged assets (PyPI's ``swagger-ui-bundle``) it
would still need an inline start script and set inline styles, which the pages' CSP forbids
(no 'unsafe-inline' anywhere). The OpenAPI document itself is what clients and viewers need,
so this page says where it is.
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
