"""Two `ade db migrate` processes at once (two deploys starting together) on both backends.

The test holds the migration lock itself while starting both processes, so they are certain
to contend: neither may finish while the lock is held, then exactly one applies the migrations,
the other waits and finds nothing to do, and both exit 0.
"""

from __future__ import annotations

import fcntl
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import make_url, text

from ade.db import migrate
from ade.db.engine import create_engine
from tests.support.db_cli import start_ade

HEAD = migrate.heads()[0]


@contextmanager
def _hold_migration_lock(url: str) -> Iterator[None]:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        assert parsed.database is not None
        path = Path(parsed.database)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path.with_name(path.name + ".migrate.lock"), "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield
        return
    engine = create_engine(url, null_pool=True)
    try:
        with engine.connect() as connection:
            key = {"key": migrate.ADVISORY_LOCK_KEY}
            connection.execute(text("SELECT pg_advisory_lock(:key)"), key)
            connection.commit()
            yield
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), key)
            connection.commit()
    finally:
        engine.dispose()


def test_two_concurrent_migrations_end_with_one_correct_schema(db_url: str) -> None:
    with _hold_migration_lock(db_url):
        processes = [start_ade("db", "migrate", "--database-url", db_url) for _ in range(2)]
        time.sleep(1.0)  # let both reach the lock; correctness does not depend on this pause
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
