"""The one place that turns a database URL into engines, connections and session factories.

Why here and nowhere else: the SQLite pragmas, the transaction handling that makes SQLite DDL
atomic, the PostgreSQL pool settings and the URL checks must be identical for the API, the
worker, the CLI and the migrations. A service that built its own engine would silently miss
``foreign_keys=ON`` and let SQLite accept dangling references.

Errors are :mod:`ade.db.errors` exceptions with one-line messages that never contain the
password (URLs are shown with ``***``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import URL, Connection, Engine, event, make_url, pool
from sqlalchemy import create_engine as _sa_create_engine
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from ade.db.errors import DatabaseUnavailable, InvalidDatabaseUrl

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 30_000
"""How long a SQLite writer waits for another writer before failing with "database is locked"."""

POSTGRES_CONNECT_TIMEOUT_S = 10
POSTGRES_POOL_SIZE = 5
POSTGRES_MAX_OVERFLOW = 10
POSTGRES_POOL_RECYCLE_S = 1800

_EXAMPLES = "sqlite:///path/to/ade.sqlite or postgresql+psycopg://user:password@host:5432/ade"


def resolve_database_url(url: str | URL | None = None) -> URL:
    """Return the validated URL: ``url`` if given, else ``ADE_DATABASE_URL`` / the default.

    Only imports :mod:`ade.db.settings` (and so pydantic) when no explicit URL is given, which
    keeps ``ade db ... --database-url`` start-up lean.
    """
    if url is None:
        from ade.db.settings import load_settings

        url = load_settings().url
    return parse_url(url)


def parse_url(url: str | URL) -> URL:
    """Parse and normalize a URL; raise :class:`InvalidDatabaseUrl` with one clear line.

    ``postgresql://`` and ``postgres://`` mean psycopg 3 (the driver ADE ships); other drivers
    and backends are refused up front instead of failing later with an import error.
    """
    if isinstance(url, str):
        text = url.strip()
        if not text:
            raise InvalidDatabaseUrl(f"database URL is empty (expected e.g. {_EXAMPLES})")
        try:
            parsed = make_url(text)
        except (ArgumentError, ValueError):
            # Never echo the text: a malformed URL may still carry a password.
            raise InvalidDatabaseUrl(
                f"malformed database URL (expected e.g. {_EXAMPLES})"
            ) from None
    else:
        parsed = url
    backend, _, driver = parsed.drivername.partition("+")
    if backend in ("postgresql", "postgres"):
        if driver not in ("", "psycopg"):
            raise InvalidDatabaseUrl(
                f"unsupported PostgreSQL driver {driver!r}: use postgresql+psycopg://"
            )
        parsed = parsed.set(drivername="postgresql+psycopg")
    elif backend == "sqlite":
        if driver not in ("", "pysqlite"):
            raise InvalidDatabaseUrl(f"unsupported SQLite driver {driver!r}: use sqlite:///")
    else:
        raise InvalidDatabaseUrl(
            f"unsupported database {backend!r}: ADE supports SQLite and PostgreSQL"
            f" (e.g. {_EXAMPLES})"
        )
    return parsed


def display_url(url: str | URL) -> str:
    """The URL as it may be printed: password replaced by ``***``."""
    if isinstance(url, str):
        try:
            url = make_url(url)
        except (ArgumentError, ValueError):
            return "<malformed URL>"
    return url.render_as_string(hide_password=True)


def sqlite_file(url: URL) -> Path | None:
    """The database file of a SQLite URL, or None for in-memory databases and other backends."""
    if url.get_backend_name() != "sqlite":
        return None
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:") or "mode=memory" in database:
        return None
    return Path(database)


def create_engine(
    url: str | URL | None = None,
    *,
    null_pool: bool = False,
    sqlite_begin: str = "BEGIN",
    autocommit: bool = False,
    echo: bool = False,
) -> Engine:
    """Build an engine for ``url`` (default: the configured database) with ADE's settings.

    SQLite: WAL journal, ``foreign_keys=ON`` and a busy timeout on every connection, and real
    transactions (SQLAlchemy emits ``BEGIN`` itself instead of pysqlite's implicit, DML-only
    transactions), so DDL and savepoints are transactional like on PostgreSQL. The parent folder
    of the file is created. ``sqlite_begin="BEGIN IMMEDIATE"`` takes the write lock up front,
    for writers that read then write (a queue claim) and must not fail on a stale snapshot.

    ``autocommit=True`` opens no transaction at all: every statement is its own (SQLite: no
    ``BEGIN``; PostgreSQL: the driver's autocommit). For engines that only read, one statement
    at a time: it saves the ``BEGIN`` and ``ROLLBACK`` round trips around every read.

    PostgreSQL: pre-ping (a dropped connection is replaced, not handed out), a bounded pool and
    a connect timeout. ``null_pool=True`` opens a connection per checkout (CLI, migrations).
    """
    parsed = resolve_database_url(url)
    if sqlite_begin not in ("BEGIN", "BEGIN DEFERRED", "BEGIN IMMEDIATE", "BEGIN EXCLUSIVE"):
        raise ValueError(f"unsupported sqlite_begin {sqlite_begin!r}")
    kwargs: dict[str, Any] = {"echo": echo}
    if null_pool:
        kwargs["poolclass"] = pool.NullPool
    try:
        if parsed.get_backend_name() == "sqlite":
            path = sqlite_file(parsed)
            if path is not None:
                try:
                    path.parent.mkdir(parents=True, exist_ok=True)
                except OSError as error:
                    raise DatabaseUnavailable(
                        f"cannot create the SQLite folder {path.parent}: {error.strerror}"
                    ) from None
            kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
            engine = _sa_create_engine(parsed, **kwargs)
            begin = None if autocommit else sqlite_begin
            _install_sqlite_hooks(engine, wal=path is not None, begin=begin)
        else:
            kwargs["connect_args"] = {"connect_timeout": POSTGRES_CONNECT_TIMEOUT_S}
            kwargs["pool_pre_ping"] = True
            if autocommit:
                kwargs["isolation_level"] = "AUTOCOMMIT"
            if not null_pool:
                kwargs.update(
                    pool_size=POSTGRES_POOL_SIZE,
                    max_overflow=POSTGRES_MAX_OVERFLOW,
                    pool_recycle=POSTGRES_POOL_RECYCLE_S,
                )
            engine = _sa_create_engine(parsed, **kwargs)
    except (ArgumentError, NoSuchModuleError, ImportError) as error:
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise InvalidDatabaseUrl(
            f"cannot use database URL {display_url(parsed)}: {message}"
        ) from None
    return engine


def _install_sqlite_hooks(engine: Engine, *, wal: bool, begin: str | None) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Driver-level autocommit: pysqlite stops issuing its own implicit BEGINs (it never
        # wraps DDL or SELECTs) and the "begin" hook below decides instead.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys = ON")
            if wal:
                cursor.execute("PRAGMA journal_mode = WAL")
                cursor.execute("PRAGMA synchronous = NORMAL")
        finally:
            cursor.close()

    if begin is None:
        return

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql(begin)


def driver_message(error: BaseException) -> str:
    """The driver's own words for a database error (not SQLAlchemy's wrapper), on one line."""
    original = error.orig if isinstance(error, DBAPIError) and error.orig is not None else error
    return " ".join(str(original).split()) or type(original).__name__


def connection_error(error: BaseException, url: URL) -> DatabaseUnavailable:
    """Turn a driver error raised while connecting into a one-line, password-free message."""
    text = driver_message(error)
    # Drivers quote host, user and database, never the password; scrub it anyway, defensively.
    if url.password:
        text = text.replace(str(url.password), "***")
    text = text.removeprefix("connection failed: ")
    return DatabaseUnavailable(f"cannot connect to {display_url(url)}: {text}")


@contextmanager
def connect(engine: Engine) -> Iterator[Connection]:
    """``engine.connect()`` whose connection failures are :class:`DatabaseUnavailable`."""
    try:
        connection = engine.connect()
    except DBAPIError as error:
        raise connection_error(error, engine.url) from None
    with connection:
        yield connection


def create_session_factory(engine: Engine) -> sessionmaker[Session]:
    """The session factory services use; ``expire_on_commit=False`` so objects stay readable
    after commit (API responses are built after the transaction ends)."""
    from sqlalchemy.orm import sessionmaker

    return sessionmaker(bind=engine, expire_on_commit=False)
