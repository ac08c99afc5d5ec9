"""What every request needs: database connections and the blob store, held on ``app.state``.

Engines come from :func:`ade.db.engine.create_engine` (the one place that builds them). On
both backends reads are autocommit (each statement is its own snapshot, as under PostgreSQL's
READ COMMITTED, and WAL lets a SQLite read run beside a writer): no BEGIN and ROLLBACK around
every read. Writes are transactions; on SQLite they start with ``BEGIN IMMEDIATE`` so a
read-then-write transaction (activate a configuration, create a run) takes the write lock up
front and waits for it (busy timeout) instead of failing with "database is locked" on a stale
snapshot. SQLite has an engine for each; on PostgreSQL reads use the write engine's pool in
autocommit mode, so a process never holds more server connections than one pool allows.

Where database work runs (:meth:`Services.read`, :meth:`Services.write`):

- A SQLite read runs on the event loop itself. It is a lookup in a local file, mostly in the
  page cache, and WAL means a reader never waits for a writer: it costs tens of microseconds,
  less than handing it to a worker thread and back (measured: a thread hop per dependency was
  most of the cost of an authenticated read, see ``benchmarks/api_load.py``).
- A PostgreSQL read crosses a network and may wait for a connection or a slow server, so it
  runs in a worker thread: the event loop (and ``/health``) never stalls on the database.
- Every write runs in a worker thread: on SQLite it may wait up to the busy timeout for the
  write lock, on PostgreSQL for row locks.
- On PostgreSQL no more threads work on the database at once than the pool keeps connections:
  beyond that, every read opened and closed a server connection of its own (measured: a fifth
  of the requests per second, and a PostgreSQL backend started per request).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, TypeVar

import anyio.to_thread
from fastapi import Depends, Request
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from ade.api.settings import ApiSettings
from ade.storage.base import BlobStore

T = TypeVar("T")


@dataclass
class Services:
    settings: ApiSettings
    read_engine: Engine
    write_engine: Engine
    read_sessions: sessionmaker[Session]
    write_sessions: sessionmaker[Session]
    store: BlobStore
    reads_inline: bool
    """True on SQLite: :meth:`read` runs on the event loop (see the module docstring)."""
    recorded_key_uses: dict[uuid.UUID, datetime] = field(default_factory=dict)
    """When this process last wrote each API key's ``last_used_at`` (``ade.api.auth``)."""
    database_threads: int | None = None
    """How many worker threads may use the database at once; None: AnyIO's default (SQLite)."""
    _loop_connection: Connection | None = field(default=None, repr=False)
    _limiter: anyio.CapacityLimiter | None = field(default=None, repr=False)

    async def read(self, work: Callable[[Connection], T]) -> T:
        """``work(connection)``: Core statements on a read connection (``ade.api.lookups``).

        A Session and ORM objects would cost several times the query for rows that only become
        JSON. Each statement sees the latest committed data; a read of several statements must
        not rely on one snapshot across them (order them so that it need not).
        """
        if self.reads_inline:
            return self._read_on_loop(work)
        return await self._in_thread(self._read, work)

    def _read(self, work: Callable[[Connection], T]) -> T:
        with self.read_engine.connect() as connection:
            return work(connection)

    def _read_on_loop(self, work: Callable[[Connection], T]) -> T:
        """The event loop runs one read at a time (``work`` never awaits), so it keeps one
        connection rather than taking one from the pool and giving it back for every read."""
        connection = self._loop_connection
        if connection is None or connection.invalidated:
            connection = self._loop_connection = self.read_engine.connect()
        try:
            return work(connection)
        finally:
            if not connection.invalidated:  # an invalidated one is replaced by the next read
                connection.rollback()  # no BEGIN was issued: this only resets SQLAlchemy's state

    async def write(self, work: Callable[[Session], T]) -> T:
        """``work(session)`` in a write session, in a worker thread; ``work`` commits."""
        return await self._in_thread(self._write, work)

    async def _in_thread(self, function: Callable[[Callable[[Any], T]], T], work: Any) -> T:
        if self.database_threads is not None and self._limiter is None:
            self._limiter = anyio.CapacityLimiter(self.database_threads)  # needs a running loop
        return await anyio.to_thread.run_sync(function, work, limiter=self._limiter)

    def _write(self, work: Callable[[Session], T]) -> T:
        with self.write_sessions() as session:
            return work(session)

    def dispose(self) -> None:
        if self._loop_connection is not None:
            self._loop_connection.close()
            self._loop_connection = None
        self.write_engine.dispose()
        if self.read_engine.pool is not self.write_engine.pool:
            self.read_engine.dispose()


def build_services(
    settings: ApiSettings, database_url: str | None, store: BlobStore | None
) -> Services:
    from ade.db.engine import (
        POSTGRES_POOL_SIZE,
        create_engine,
        create_session_factory,
        resolve_database_url,
    )

    url = resolve_database_url(database_url)
    sqlite = url.get_backend_name() == "sqlite"
    write_engine = create_engine(url, sqlite_begin="BEGIN IMMEDIATE")
    if sqlite:
        read_engine = create_engine(url, autocommit=True)
    else:
        read_engine = write_engine.execution_options(isolation_level="AUTOCOMMIT")
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
        reads_inline=sqlite,
        database_threads=None if sqlite else POSTGRES_POOL_SIZE,
    )


async def get_services(request: Request) -> Services:
    # async: no I/O, so FastAPI need not hop to a worker thread to call it
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def write_session(services: ServicesDep) -> Iterator[Session]:
    """A session for handlers that write (they run in a worker thread); the handler commits,
    anything else is rolled back."""
    with services.write_sessions() as session:
        yield session


WriteSession = Annotated[Session, Depends(write_session)]
