"""``serve()``: run the API under uvicorn, after checking the database is migrated.

uvicorn gets the factory's import string (``ade.api.app:create_app``, ``factory=True``) so
``workers > 1`` works: each worker process builds its own app, engines and store. The database
URL reaches the workers through ``ADE_DATABASE_URL``.
"""

from __future__ import annotations

import os
import signal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ade.api.settings import ApiSettings

APP_FACTORY = "ade.api.app:create_app"
HTTP_PROTOCOL = "ade.api.http_protocol:NoDelayHttpToolsProtocol"
"""httptools (a C parser, ~1.4x the requests/s of h11) with Nagle off (see the module)."""
EVENT_LOOP = "asyncio"
"""The standard library's event loop, not uvloop (what uvicorn picks when it is installed).
Measured with wrk (benchmarks/api_load.py): the same requests per second, but at 64
connections on a saturated server uvloop left a few percent of requests waiting 0.2 to 1 s
(p99 550 ms) while asyncio served them in turn (p99 35 ms)."""


class NotReady(Exception):
    """The service cannot start; the message is one line."""


def check_database(database_url: str | None = None) -> None:
    """Raise :class:`NotReady` unless the database is reachable and at the code's head."""
    from ade.db.errors import DatabaseError
    from ade.db.migrate import require_head

    try:
        require_head(database_url, migrate_with="ade api migrate")
    except DatabaseError as error:
        raise NotReady(str(error)) from None


def serve(settings: ApiSettings | None = None, database_url: str | None = None) -> None:
    """Check the database, then serve until SIGINT/SIGTERM (graceful shutdown by uvicorn).

    Listens on ``settings.api_host``/``api_port`` with ``settings.api_workers`` processes;
    without ``settings`` they are read from the environment (``ADE_API_*``).
    """
    import uvicorn

    from ade.api.logs import uvicorn_log_config
    from ade.api.settings import load_settings
    from ade.storage.factory import open_store

    if settings is None:
        settings = load_settings()
    check_database(database_url)
    if database_url is not None:
        os.environ["ADE_DATABASE_URL"] = database_url
    open_store()  # invalid storage settings: fail here, with one line, not in every worker
    # uvicorn shuts down gracefully on SIGTERM, then re-raises the signal with the handler that
    # was installed before it started; a no-op handler makes a clean stop exit with status 0.
    signal.signal(signal.SIGTERM, lambda _signum, _frame: None)
    uvicorn.run(
        APP_FACTORY,
        factory=True,
        host=settings.api_host,
        port=settings.api_port,
        workers=settings.api_workers,
        access_log=False,  # ade.api's middleware logs one line per request, with its id
        log_level=settings.log_level,
        log_config=uvicorn_log_config(settings.log_format, settings.log_level),
        proxy_headers=True,
        server_header=False,
        http=HTTP_PROTOCOL,
        loop=EVENT_LOOP,
    )
