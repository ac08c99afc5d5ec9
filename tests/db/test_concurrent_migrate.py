"""Two `ade db migrate` processes at once (two deploys starting together) on both backends.

The test holds the migration lock itself while starting both processes, so they are certain
to contend: neither may finish while the lock is held, then exactly one applies the migrations,
the other waits and finds nothing to do, and both exit 0.
"""

from __future__ import annotations

import fcntl
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import make_url, text

from ade.db import migrate
from ade.db.engine import create_engine
from tests.support.db_cli import start_ade
from tests.support.waiting import wait_for

HEAD = migrate.heads()[0]


def _blocked_flocks(lock_file: Path) -> int:
    """Processes blocked in flock() on ``lock_file`` (Linux lists them in /proc/locks as
    ``N: -> FLOCK ADVISORY WRITE <pid> <major>:<minor>:<inode> 0 EOF``)."""
    inode = lock_file.stat().st_ino
    lines = Path("/proc/locks").read_text().splitlines()
    return sum(
        1 for line in lines if " -> FLOCK " in line and line.split()[6].endswith(f":{inode}")
    )


def _waiting_for_advisory_locks(url: str) -> int:
    """Sessions of this database waiting for an advisory lock (pg_locks, not granted)."""
    engine = create_engine(url, null_pool=True)
    try:
        with engine.connect() as connection:
            waiting: int = connection.execute(
                text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                    " AND database = (SELECT oid FROM pg_database"
                    " WHERE datname = current_database())"
                )
            ).scalar_one()
            return waiting
    finally:
        engine.dispose()


@contextmanager
def _hold_migration_lock(url: str) -> Iterator[Callable[[], int]]:
    """Hold the lock `ade db migrate` takes; yields how many processes wait for it now."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        assert parsed.database is not None
        path = Path(parsed.database)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path.with_name(path.name + ".migrate.lock"), "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield lambda: _blocked_flocks(Path(handle.name))
        return
    engine = create_engine(url, null_pool=True)
    try:
        with engine.connect() as connection:
            key = {"key": migrate.ADVISORY_LOCK_KEY}
            connection.execute(text("SELECT pg_advisory_lock(:key)"), key)
            connection.commit()
            yield lambda: _waiting_for_advisory_locks(url)
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), key)
            connection.commit()
    finally:
        engine.dispose()


def test_two_concurrent_migrations_end_with_one_correct_schema(db_url: str) -> None:
    with _hold_migration_lock(db_url) as waiting:
        processes = [start_ade("db", "migrate", "--database-url", db_url) for _ in range(2)]
        # Both reach the lock and wait there (no fixed pause: the event itself).
        wait_for(
            lambda: waiting() == 2 or any(process.poll() is not None for process in processes),
            "both migrations to wait for the lock",
            timeout=120,
        )
        assert all(process.poll() is None for process in processes), "a migrate ran unlocked"
    results = [process.communicate(timeout=120) for process in processes]
    codes = [process.returncode for process in processes]
    assert codes == [0, 0], results
    stderr = [err for _out, err in results]
    assert sum("applied 0001" in err for err in stderr) == 1, stderr
    assert sum(f"already at head ({HEAD})" in err for err in stderr) == 1, stderr
    assert migrate.current(db_url).at_head
    migrate.check(db_url)


def test_unsynchronized_start_also_converges(db_url: str) -> None:
    processes = [start_ade("db", "migrate", "--database-url", db_url) for _ in range(2)]
    results = [process.communicate(timeout=120) for process in processes]
    assert [process.returncode for process in processes] == [0, 0], results
    assert sum("applied 0001" in err for _out, err in results) == 1, results
    migrate.check(db_url)
