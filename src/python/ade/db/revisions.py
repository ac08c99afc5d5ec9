"""Read the packaged revision graph and a database's version table without importing Alembic.

Why: ``ade db migrate`` on an up-to-date database (every deploy, every container start) only
has to compare two small sets of strings. Importing Alembic and loading the revision modules to
learn the head costs more than the rest of that command together, so this module reads the
``revision``/``down_revision`` literals of each file in ``migrations/versions`` with ``ast``
(no import, no execution) and the ``alembic_version`` table with SQLAlchemy Core.

Anything unusual (a non-literal assignment, a missing file) returns None and the caller falls
back to Alembic's own ``ScriptDirectory``; a test proves both agree.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from sqlalchemy import Connection, text

VERSION_TABLE = "alembic_version"


@dataclass(frozen=True)
class RevisionGraph:
    """Every known revision and the heads (revisions nothing revises)."""

    revisions: frozenset[str]
    heads: frozenset[str]


def versions_dir() -> Path:
    return Path(str(resources.files("ade.db") / "migrations" / "versions"))


@cache
def packaged_graph() -> RevisionGraph | None:
    """The revision graph from the files' literals, or None if it cannot be read that way."""
    folder = versions_dir()
    if not folder.is_dir():
        return None
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in sorted(folder.glob("*.py")):
        values = _literals(path)
        if values is None or not isinstance(values.get("revision"), str):
            return None
        revisions.add(str(values["revision"]))
        down = values.get("down_revision")
        if down is None:
            continue
        if isinstance(down, str):
            parents.add(down)
        elif isinstance(down, tuple | list) and all(isinstance(item, str) for item in down):
            parents.update(down)
        else:
            return None
    if not revisions or not parents <= revisions:
        return None
    return RevisionGraph(frozenset(revisions), frozenset(revisions - parents))


def _literals(path: Path) -> dict[str, object] | None:
    try:
        tree = ast.parse(path.read_bytes(), filename=str(path))
    except (OSError, SyntaxError, ValueError):
        return None
    values: dict[str, object] = {}
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            name, value = node.target.id, node.value
        elif (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
        ):
            name, value = node.targets[0].id, node.value
        else:
            continue
        if name in ("revision", "down_revision") and value is not None:
            try:
                values[name] = ast.literal_eval(value)
            except ValueError:
                return None
    return values


def read_current(connection: Connection) -> tuple[str, ...]:
    """The revision(s) recorded in the database; ``()`` for an empty (unversioned) database.

    Ends its transaction, so it holds no lock while the caller waits for the migration lock.
    """
    try:
        if not connection.dialect.has_table(connection, VERSION_TABLE):
            return ()
        rows = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}"))  # noqa: S608
        return tuple(sorted(str(row[0]) for row in rows))
    finally:
        connection.rollback()
