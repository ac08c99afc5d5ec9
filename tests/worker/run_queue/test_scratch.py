"""Scratch space: a run's files live under the worker's locked folder and are removed after the
run; what a SIGKILL-ed worker left is removed when a worker starts, never a live worker's."""

from __future__ import annotations

import multiprocessing
import os
import signal
import uuid
from collections.abc import Iterator
from multiprocessing.process import BaseProcess
from pathlib import Path

import pytest

from ade.worker.scratch import ScratchSpace, folder_name, remove_dead
from tests.support.waiting import wait_for
from tests.worker.run_queue.queue_support import hold_scratch


@pytest.fixture()
def holders() -> Iterator[list[BaseProcess]]:
    started: list[BaseProcess] = []
    yield started
    for process in started:
        if process.is_alive():
            process.kill()
        process.join(10)


def hold(root: Path, worker_id: str, holders: list[BaseProcess]) -> BaseProcess:
    ready = root.parent / f"ready-{uuid.uuid4().hex}"
    process = multiprocessing.get_context("spawn").Process(
        target=hold_scratch, args=(str(root), worker_id, str(ready))
    )
    process.start()
    holders.append(process)
    wait_for(ready.exists, f"{worker_id} to start a run in its scratch folder")
    return process


def test_start_up_removes_dead_workers_folders_and_keeps_live_ones(
    tmp_path: Path, holders: list[BaseProcess]
) -> None:
    root = tmp_path / "scratch"
    live = hold(root, "host:100:live", holders)
    dead = hold(root, "host:200:dead", holders)
    assert dead.pid is not None
    os.kill(dead.pid, signal.SIGKILL)
    dead.join(10)
    dead_folder = root / folder_name("host:200:dead")
    assert any(dead_folder.iterdir())  # a SIGKILL removes nothing: the run's files are stranded
    leftover = root / "host-300-crashed-while-cleaning"  # a folder whose lock file is gone
    (leftover / "run").mkdir(parents=True)

    scratch = ScratchSpace(root, "host:400:new")
    removed = scratch.open()
    try:
        assert sorted(removed) == sorted([dead_folder, leftover])
        assert not dead_folder.exists() and not leftover.exists()
        assert not (root / (dead_folder.name + ".lock")).exists()
        live_folder = root / folder_name("host:100:live")
        assert [p.name for p in live_folder.iterdir()]  # the live worker's run is untouched
        assert live.is_alive()
    finally:
        scratch.close()
    assert sorted(p.name for p in root.iterdir()) == ["host-100-live", "host-100-live.lock"]


def test_a_run_folder_is_removed_whatever_the_ending(tmp_path: Path) -> None:
    scratch = ScratchSpace(tmp_path / "scratch", "host:1:me")
    scratch.open()
    try:
        run_id = uuid.uuid4()
        with scratch.run_folder(run_id, 1) as folder:
            (folder / "output").mkdir()
            (folder / "output" / "big.xlsx").write_bytes(b"x" * 1000)
        assert not folder.exists()
        with pytest.raises(RuntimeError), scratch.run_folder(run_id, 2) as folder:
            (folder / "input.csv").write_text("a\n")
            raise RuntimeError("the run failed")
        assert not folder.exists()
        assert list(scratch.folder.iterdir()) == []
    finally:
        scratch.close()
    assert list((tmp_path / "scratch").iterdir()) == []


def test_a_scratch_root_that_cannot_be_created_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(OSError):
        ScratchSpace(blocker / "scratch", "host:1:me").open()


def test_a_starting_workers_new_lock_file_is_left_alone(tmp_path: Path) -> None:
    """Found by CI: three workers starting at once, one failed with ENOENT on renaming its lock.

    A starting worker creates ".new-<hex>.lock" and flock-s it a moment later; a neighbour's
    clean-up in that moment took it for a dead worker's lock and removed it.
    """
    root = tmp_path / "worker"
    root.mkdir()
    starting = root / f".new-{uuid.uuid4().hex}.lock"
    starting.touch()  # created, not yet locked: what the neighbour sees in the race
    assert remove_dead(root) == []
    assert starting.exists()
