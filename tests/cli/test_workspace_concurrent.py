"""Two `ade workspace create` at once on one SQLite file both succeed (they wait their turn).

The test holds SQLite's write lock itself, with a committed-to-be workspace, while both
processes start: each reads (is its slug taken?) and then waits to write. When the test commits,
their read snapshots are stale; a deferred transaction then fails at once with "database is
locked", an immediate one simply waits for the lock and goes on.
"""

from __future__ import annotations

import time

from ade.api.admin import create_workspace
from ade.db import migrate
from ade.db.engine import create_engine, create_session_factory
from tests.support.db_cli import start_ade


def test_two_concurrent_workspace_creates_both_succeed(sqlite_url: str) -> None:
    migrate.upgrade(sqlite_url)
    engine = create_engine(sqlite_url, null_pool=True, sqlite_begin="BEGIN IMMEDIATE")
    try:
        with create_session_factory(engine)() as session:
            create_workspace(session, "Holder")  # takes the write lock until commit
            processes = [
                start_ade("workspace", "create", f"Team {n}", "--database-url", sqlite_url)
                for n in (1, 2)
            ]
            time.sleep(4.0)  # let both read and reach their first write
            assert all(p.poll() is None for p in processes), [
                p.communicate() for p in processes if p.poll() is not None
            ]
            session.commit()
        results = [process.communicate(timeout=120) for process in processes]
        assert [p.returncode for p in processes] == [0, 0], results
        with create_session_factory(engine)() as session:
            from ade.api.admin import list_workspaces

            slugs = sorted(w.slug for w in list_workspaces(session))
        assert slugs == ["holder", "team-1", "team-2"]
    finally:
        engine.dispose()
