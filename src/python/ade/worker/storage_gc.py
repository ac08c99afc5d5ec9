"""Storage garbage collection: blobs no database row points at, and what interrupted writes left.

Where they come from: the API killed between writing an upload's blob and inserting its row
(the blob is complete, no document knows it); a process killed mid-write (a local ``.tmp-*.part``
file, an S3 temporary object, an S3 multipart upload never completed and billed until aborted);
a workspace deleted with its rows.

The rules that make it safe to run at any time, beside a live API and workers:

- Only things older than ``older_than`` are judged. An upload's blob appears (atomically) when
  its bytes are complete, and its row is inserted right after; a blob that has been there for
  longer than the threshold without a row will never get one. Temporary files and multipart
  uploads in progress are younger than the threshold, however large the upload.
- The storage listing is taken *before* the database is read, so a row committed while the pass
  runs still protects its blob.
- Which row owns a key is read from the key itself (:func:`ade.storage.keys.owner_of`): a
  document's blob is kept while a ``documents`` row (deleted or not: runs still use it) has that
  key; a run's artifacts are kept while the ``runs`` row exists. A key ADE never builds (a
  foreign object in the bucket) is never touched.

This module lives in the worker, not in ``ade.storage``, because it needs both libraries and
``ade.storage`` must not know the database. ``ade storage gc`` runs it once; the worker runs it
every ``ADE_WORKER_GC_INTERVAL_SECONDS`` (one worker at a time on PostgreSQL).
"""

from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy import Engine, func, select, text

from ade.db.models import Document, Run
from ade.storage import keys
from ade.storage.base import BlobStore, Leftover

log = logging.getLogger("ade.worker.gc")

GC_LOCK_KEY = 0x0ADE_6C_0001
"""``pg_try_advisory_lock`` key: one periodic pass at a time across all workers."""


@dataclass(frozen=True)
class Garbage:
    """One thing the pass removes (or, in a dry run, would remove)."""

    kind: Literal["orphan", "temporary", "multipart"]
    name: str
    size: int | None
    age: timedelta


@dataclass
class GcReport:
    garbage: list[Garbage] = field(default_factory=list)
    referenced: int = 0
    """Blobs old enough to judge that a row points at (kept)."""
    young: int = 0
    """Blobs and leftovers newer than the threshold (not judged)."""
    foreign: int = 0
    """Keys outside ADE's layout (never touched)."""
    removed: int = 0
    dry_run: bool = False

    @property
    def orphans(self) -> list[Garbage]:
        return [item for item in self.garbage if item.kind == "orphan"]

    @property
    def leftovers(self) -> list[Garbage]:
        return [item for item in self.garbage if item.kind != "orphan"]

    @property
    def garbage_bytes(self) -> int:
        return sum(item.size or 0 for item in self.garbage)


@dataclass(frozen=True)
class _References:
    document_keys: frozenset[str]
    run_ids: frozenset[uuid.UUID]
    output_keys: frozenset[str]


def _references(db: Engine) -> _References:
    with db.connect() as connection:
        documents = connection.execute(select(Document.blob_key)).scalars()
        document_keys = frozenset(documents)
        run_ids = frozenset(connection.execute(select(Run.id)).scalars())
        outputs = connection.execute(
            select(Run.output_blob_key).where(Run.output_blob_key.is_not(None))
        ).scalars()
        output_keys = frozenset(key for key in outputs if key is not None)
    return _References(document_keys, run_ids, output_keys)


def _referenced(key: str, owner: keys.KeyOwner, references: _References) -> bool:
    if key in references.document_keys or key in references.output_keys:
        return True
    return owner.kind == "run" and owner.id in references.run_ids


def collect_garbage(
    db: Engine,
    store: BlobStore,
    older_than: timedelta,
    *,
    dry_run: bool = False,
    stop: threading.Event | None = None,
) -> GcReport:
    """Find (and unless ``dry_run`` remove) orphan blobs and stale leftovers; see the module
    docstring for what is safe. ``stop`` ends a long pass early (worker shutdown)."""
    now = datetime.now(UTC)
    cutoff = now - older_than
    report = GcReport(dry_run=dry_run)
    old_blobs = []
    for entry in store.entries():  # listed before the database is read: see the docstring
        if entry.modified > cutoff:
            report.young += 1
        else:
            old_blobs.append(entry)
    leftovers: list[Leftover] = []
    for leftover in store.leftovers():
        if leftover.modified > cutoff:
            report.young += 1
        else:
            leftovers.append(leftover)
    references = _references(db)
    orphans = []
    for entry in old_blobs:
        owner = keys.owner_of(entry.key)
        if owner is None:
            report.foreign += 1
        elif _referenced(entry.key, owner, references):
            report.referenced += 1
        else:
            orphans.append(entry)
            report.garbage.append(Garbage("orphan", entry.key, entry.size, now - entry.modified))
    for leftover in leftovers:
        report.garbage.append(
            Garbage(leftover.kind, leftover.name, leftover.size, now - leftover.modified)
        )
    if dry_run:
        return report
    for entry in orphans:
        if stop is not None and stop.is_set():
            return report
        store.delete(entry.key)
        report.removed += 1
    for leftover in leftovers:
        if stop is not None and stop.is_set():
            return report
        store.remove_leftover(leftover)
        report.removed += 1
    return report


def periodic_pass(
    db: Engine, store: BlobStore, older_than: timedelta, stop: threading.Event
) -> GcReport | None:
    """One pass from a worker, unless another worker's pass holds the PostgreSQL lock (None)."""
    if db.dialect.name != "postgresql":
        return collect_garbage(db, store, older_than, stop=stop)
    with db.connect() as connection:
        locked = connection.execute(select(func.pg_try_advisory_lock(GC_LOCK_KEY))).scalar()
        connection.commit()
        if not locked:
            return None
        try:
            return collect_garbage(db, store, older_than, stop=stop)
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": GC_LOCK_KEY})
            connection.commit()
