"""The FastAPI application factory.

``create_app()`` with no arguments reads everything from the environment (that is what
``uvicorn ade.api.app:create_app --factory`` and ``ade api start`` use); tests pass the database
URL, a blob store and settings explicitly. Engines and the store are built when the app is
created and disposed on shutdown.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from ade.api import configurations, documents, health, runs, workspaces
from ade.api.dependencies import build_services
from ade.api.logs import configure_logging
from ade.api.middleware import RequestContextMiddleware
from ade.api.openapi import install_openapi, operation_id
from ade.api.problems import install_handlers
from ade.api.settings import ApiSettings, load_settings
from ade.api.version import ade_version
from ade.api.web.mount import install_web
from ade.storage.base import BlobStore

API_TITLE = "ADE API"
DOCUMENTED_ORDER = ("health", "workspaces", "documents", "configurations", "runs")
"""The order of the groups in the docs (routes are matched in another order)."""


def create_app(
    *,
    database_url: str | None = None,
    store: BlobStore | None = None,
    settings: ApiSettings | None = None,
    configure_logs: bool = True,
) -> FastAPI:
    settings = settings or load_settings()
    if configure_logs:
        configure_logging(settings.log_format, settings.log_level)
    services = build_services(settings, database_url, store)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Everything that lives as long as the process (modules, the app, its routes and
        # schemas, SQLAlchemy's metadata: ~100,000 objects) leaves the garbage collector's
        # view. Its full collections then look only at what requests left behind, instead of
        # stopping the event loop for ~60 ms while they walk the whole heap.
        gc.freeze()
        try:
            yield
        finally:
            services.dispose()

    app = FastAPI(
        title=API_TITLE,
        version=ade_version(),
        description="Upload spreadsheets, run extractions, download clean tables.",
        openapi_url="/api/openapi.json",
        # No Swagger UI: FastAPI's loads its script and style from a CDN (blank offline, and
        # no CSP can hold it without 'unsafe-inline'). /api/docs is a page of ade.api.web that
        # points to the OpenAPI document instead.
        docs_url=None,
        redoc_url=None,
        generate_unique_id_function=operation_id,
        openapi_tags=[{"name": name} for name in DOCUMENTED_ORDER],
        lifespan=lifespan,
    )
    app.state.services = services
    install_handlers(app)
    install_openapi(app)
    app.add_middleware(RequestContextMiddleware)
    # Routes are tried in order, each at a cost (several microseconds a route in FastAPI 0.165):
    # runs first, because polling a run's status is what clients do most.
    for module in (health, runs, workspaces, documents, configurations):
        app.include_router(module.router)
    install_web(app)  # the pages people use, at / (outside the OpenAPI schema)
    return app
