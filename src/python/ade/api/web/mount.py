"""``install_web(app)``: the pages, their static files and their security headers."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from ade.api.web import (
    api_docs,
    configurations,
    correction_pages,
    documents,
    runs,
    sign_in,
)
from ade.api.web.pages import STATIC_DIR
from ade.api.web.security import SecurityHeadersMiddleware


def install_web(app: FastAPI) -> None:
    for module in (sign_in, documents, runs, correction_pages, configurations, api_docs):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_middleware(SecurityHeadersMiddleware)
