"""What every request needs: database sessions and the blob store, held on ``app.state``.

Engines come from :func:`ade.db.engine.create_engine` (the one place that builds them). On
SQLite two engines are used: reads start a plain deferred transaction (WAL lets them run beside
a writer), writes start ``BEGIN IMMEDIATE`` so a read-then-write transaction (activate a
configuration, create a run) takes the write lock up front and waits for it (busy timeout)
instead of failing with "database is locked" on a stale snapshot. PostgreSQL needs only one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from ade.api.settings import ApiSettings
from ade.storage.base import BlobStore


@dataclass
class Services:
    settings: ApiSettings
    read_engine: Engine
    write_engine: Engine
    read_sessions: sessionmaker[Session]
    write_sessions: sessionmaker[Session]
    store: BlobStore

    def dispose(self) -> None:
        self.read_engine.dispose()
        if self.write_engine is not self.read_engine:
            self.write_engine.dispose()


def build_services(
    settings: ApiSettings, database_url: str | None, store: BlobStore | None
) -> Services:
    from ade.db.engine import create_engine, create_session_factory, resolve_database_url

    url = resolve_database_url(database_url)
    read_engine = create_engine(url)
    if url.get_backend_name() == "sqlite":
        write_engine = create_engine(url, sqlite_begin="BEGIN IMMEDIATE")
    else:
        write_engine = read_engine
    if store is None:
        from ade.storage.factory import open_store

        store = open_store()
    return Services(
        settings=settings,
        read_engine=read_engine,
        write_engine=write_engine,
        read_sessions=create_session_factory(read_engine),
        write_sessions=create_session_factory(write_engine),
        store=store,
    )


async def get_services(request: Request) -> Services:
    # async: no I/O, so FastAPI need not hop to a worker thread to call it
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def read_session(services: ServicesDep) -> Iterator[Session]:
    """A session for handlers that only read; rolled back (nothing to keep) at the end."""
    with services.read_sessions() as session:
        yield session


def write_session(services: ServicesDep) -> Iterator[Session]:
    """A session for handlers that write; the handler commits, anything else is rolled back."""
    with services.write_sessions() as session:
        yield session


ReadSession = Annotated[Session, Depends(read_session)]
WriteSession = Annotated[Session, Depends(write_session)]
