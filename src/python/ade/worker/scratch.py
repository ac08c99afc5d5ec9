"""Per-run scratch space: every local file a run needs, under one folder, never left behind.

Layout under the scratch root (``ADE_WORKER_SCRATCH_DIR``, default ``<ADE_DATA_DIR>/worker``)::

    <worker>.lock             flock-ed by its worker process for as long as it lives
    <worker>/                 that worker's folder
        <run id>-<attempt>/   one run's downloaded input and engine output

A run's folder is removed when the run ends, whatever the ending. A worker that is SIGKILL-ed
cannot remove anything, so every worker, when it starts, removes the folders of workers that
are gone. Several worker processes may share one machine and one root: a worker is gone exactly
when nobody holds its lock file's ``flock`` (the kernel drops it when the process dies, however
it dies), so a live worker's folders are never touched.

The lock file is created under a temporary name, locked, and only then renamed into place, so a
lock file visible under its final name is always either held or abandoned, never "about to be
locked". Clean-up removes the folder before the lock file; the worker creates them the other way
round; so a folder without a lock file is always a leftover.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import re
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

log = logging.getLogger("ade.worker.scratch")

LOCK_SUFFIX = ".lock"
STALE_NEW_LOCK_SECONDS = 60.0
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def folder_name(worker_id: str) -> str:
    """The worker's folder name: its id (``host:pid:random``) in file-name-safe characters."""
    return _UNSAFE.sub("-", worker_id).strip(".-") or "worker"


def _try_lock(path: Path) -> int | None:
    """An open descriptor holding ``path``'s exclusive flock, or None if someone holds it."""
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def remove_dead(root: Path) -> list[Path]:
    """Remove the folders of workers that no longer run under ``root``; return what went."""
    if not root.is_dir():
        return []
    removed: list[Path] = []
    for lock in sorted(root.glob("*" + LOCK_SUFFIX)):
        if lock.name.startswith("."):
            # A starting worker's ".new-*" lock, perhaps not flock-ed yet: locking and removing
            # it here would fail that worker's start-up. Only old ones go, further down.
            continue
        fd = _try_lock(lock)
        if fd is None:
            continue  # a live worker's
        try:
            folder = lock.with_suffix("")
            if folder.exists():
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder)
            lock.unlink(missing_ok=True)
        finally:
            os.close(fd)
    for folder in sorted(root.iterdir()):
        if folder.name.startswith(".") or not folder.is_dir():
            continue
        if not folder.with_name(folder.name + LOCK_SUFFIX).exists():
            shutil.rmtree(folder, ignore_errors=True)  # its worker died while cleaning it up
            removed.append(folder)
    for stale in root.glob(".new-*" + LOCK_SUFFIX):  # a worker died before renaming its lock
        # A starting worker holds its new lock file for microseconds before locking it: only
        # an old one is a leftover.
        with contextlib.suppress(FileNotFoundError):
            if time.time() - stale.stat().st_mtime > STALE_NEW_LOCK_SECONDS:
                stale.unlink()
    return removed


class ScratchSpace:
    """One worker process's scratch folder, locked for the process's lifetime."""

    def __init__(self, root: Path, worker_id: str) -> None:
        self.root = root
        self.folder = root / folder_name(worker_id)
        self._lock_path = root / (self.folder.name + LOCK_SUFFIX)
        self._lock_fd: int | None = None

    def open(self) -> list[Path]:
        """Clean up after dead workers, then claim this worker's folder; return what was
        removed. Raises OSError if the root cannot be created or written."""
        self.root.mkdir(parents=True, exist_ok=True)
        removed = remove_dead(self.root)
        if removed:
            log.info(
                "removed %d scratch folder(s) of stopped workers under %s", len(removed), self.root
            )
        temporary = self.root / f".new-{uuid.uuid4().hex}{LOCK_SUFFIX}"
        fd = os.open(temporary, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.rename(temporary, self._lock_path)
            self.folder.mkdir()
        except BaseException:
            os.close(fd)
            temporary.unlink(missing_ok=True)
            raise
        self._lock_fd = fd
        return removed

    @contextlib.contextmanager
    def run_folder(self, run_id: uuid.UUID, attempt: int) -> Iterator[Path]:
        """A fresh, empty folder for one run attempt, removed when the block ends."""
        folder = self.folder / f"{run_id}-{attempt}"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        try:
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def close(self) -> None:
        """Remove this worker's folder and lock file (normal shutdown)."""
        if self._lock_fd is None:
            return
        shutil.rmtree(self.folder, ignore_errors=True)
        self._lock_path.unlink(missing_ok=True)
        os.close(self._lock_fd)
        self._lock_fd = None
