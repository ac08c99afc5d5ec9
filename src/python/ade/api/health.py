"""``/health`` (the process answers) and ``/ready`` (it can do useful work: database reachable
and storage writable). Both are unauthenticated so load balancers and orchestrators can probe."""

from __future__ import annotations

import logging

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlalchemy import text

from ade.api.dependencies import Services, ServicesDep
from ade.api.schemas import Health, Readiness

router = APIRouter(tags=["health"])
logger = logging.getLogger("ade.api.health")


@router.get("/health", response_model=Health)
async def health() -> Health:
    return Health(status="ok")


def _check(services: Services) -> Readiness:
    database = storage = "ok"
    try:
        with services.read_engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:
        database = "unavailable"
        logger.warning("readiness: database check failed: %s", " ".join(str(error).split())[:300])
    try:
        services.store.check()
    except Exception as error:
        storage = "unavailable"
        logger.warning("readiness: storage check failed: %s", " ".join(str(error).split())[:300])
    ready = database == "ok" and storage == "ok"
    return Readiness(status="ready" if ready else "unavailable", database=database, storage=storage)


@router.get(
    "/ready",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "Database or storage unreachable."}},
)
async def ready(services: ServicesDep) -> JSONResponse:
    result = await run_in_threadpool(_check, services)
    return JSONResponse(result.model_dump(), status_code=200 if result.status == "ready" else 503)
