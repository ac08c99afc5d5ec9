"""Helpers for the queue tests: a migrated database, a local store, seeded
workspace/configuration/documents, runs enqueued, worker processes, and a gated engine.

The gated engine (``gated_extract``) lets a test hold a run "mid-run" without any timing
guess: it announces itself with a file in ``$ADE_TEST_GATE`` and waits for a ``release`` file
before running the real engine.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import time
import uuid
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, select

from ade.db.configuration_spec import default_configuration
from ade.db.engine import create_engine
from ade.db.migrate import upgrade
from ade.db.models import Configuration, Document, Run, RunEvent, Workspace
from ade.storage import keys
from ade.storage.base import BlobStore
from ade.storage.factory import open_store
from ade.storage.settings import load_settings as load_storage_settings
from ade.worker.queue import enqueue_run
from ade.worker.service import run_worker_process
from tests.support.processes import children, cmdline
from tests.support.worker_settings import worker_overrides

GATED_ENGINE = "tests.worker.run_queue.queue_support:gated_extract"
CHATTY_ENGINE = "tests.worker.run_queue.queue_support:chatty_gated_extract"
GATE_ENV = "ADE_TEST_GATE"

TINY_CSV = (
    b"First Name,Last Name,Email\nAda,Lovelace,ADA@example.com\nAlan,Turing,alan@example.com\n"
)


def gated_extract(input_path: Any, spec: Any, output_dir: Any, on_event: Any = None) -> Any:
    """The real engine, after waiting for ``$ADE_TEST_GATE/release``."""
    from ade.worker.engine.pipeline import extract

    gate = Path(os.environ[GATE_ENV])
    (gate / f"started-{os.getpid()}-{uuid.uuid4().hex[:6]}").touch()
    while not (gate / "release").exists():
        time.sleep(0.02)
    return extract(input_path, spec, output_dir, on_event=on_event)


def chatty_gated_extract(input_path: Any, spec: Any, output_dir: Any, on_event: Any = None) -> Any:
    """Like :func:`gated_extract`, but busy while it waits: a ``test.waiting`` event every
    20 ms (so events keep coming while a test takes the database away), their running count in
    ``$ADE_TEST_GATE/emitted-<file name>``, and ``finished-<file name>`` once the real engine
    is done."""
    from ade.worker.engine.pipeline import extract

    gate = Path(os.environ[GATE_ENV])
    name = Path(input_path).name
    (gate / f"started-{os.getpid()}-{uuid.uuid4().hex[:6]}").touch()
    emitted = 0
    while not (gate / "release").exists():
        emitted += 1
        on_event({"seq": emitted, "event": "test.waiting", "n": emitted, "file": name})
        (gate / f"emitted-{name}").write_text(str(emitted))
        time.sleep(0.02)
    summary = extract(input_path, spec, output_dir, on_event=on_event)
    (gate / f"finished-{name}").touch()
    return summary


DISK_FULL_ENGINE = "tests.worker.run_queue.queue_support:disk_full_extract"


def disk_full_extract(input_path: Any, spec: Any, output_dir: Any, on_event: Any = None) -> Any:
    """An engine whose disk is full: the machine's fault, not the document's."""
    import errno

    raise OSError(errno.ENOSPC, "No space left on device", str(output_dir))


def hold_scratch(root: str, worker_id: str, ready: str) -> None:
    """A stand-in worker process: claims its scratch folder, starts a run in it, and waits
    (until killed)."""
    from ade.worker.scratch import ScratchSpace

    scratch = ScratchSpace(Path(root), worker_id)
    scratch.open()
    with scratch.run_folder(uuid.uuid4(), 1) as folder:
        (folder / "input.csv").write_bytes(b"a,b\n1,2\n")
        Path(ready).touch()
        while True:
            time.sleep(1)


def emitted(gate: Path, name: str) -> int:
    """How many ``test.waiting`` events the chatty engine emitted for the file ``name``."""
    path = gate / f"emitted-{name}"
    return int(path.read_text() or 0) if path.exists() else 0


def migrate(url: str) -> None:
    upgrade(url, echo=lambda _message: None)


def local_store(root: Path) -> BlobStore:
    return open_store(load_storage_settings(**local_storage_overrides(root)))


def local_storage_overrides(root: Path) -> dict[str, Any]:
    return {"storage_backend": "local", "storage_path": str(root)}


@dataclass
class Seed:
    """A workspace with the default configuration, ready to take documents and runs."""

    engine: Engine
    store: BlobStore
    workspace_id: uuid.UUID
    configuration_id: uuid.UUID

    @classmethod
    def create(cls, url: str, store: BlobStore, spec: dict[str, Any] | None = None) -> Seed:
        engine = create_engine(url)
        workspace_id, configuration_id = uuid.uuid4(), uuid.uuid4()
        if spec is None:
            spec = default_configuration().model_dump(mode="json")
        with engine.begin() as connection:
            connection.execute(
                insert(Workspace).values(
                    id=workspace_id, slug=f"ws-{workspace_id.hex[:8]}", name="Test"
                )
            )
            connection.execute(
                insert(Configuration).values(
                    id=configuration_id,
                    workspace_id=workspace_id,
                    name="default",
                    status="active",
                    spec=spec,
                )
            )
        return cls(engine, store, workspace_id, configuration_id)

    def document(self, content: bytes = TINY_CSV, name: str = "people.csv") -> uuid.UUID:
        document_id = uuid.uuid4()
        key = keys.document_key(self.workspace_id, document_id)
        self.store.write(key, content)
        with self.engine.begin() as connection:
            connection.execute(
                insert(Document).values(
                    id=document_id,
                    workspace_id=self.workspace_id,
                    original_filename=name,
                    content_type="text/csv",
                    byte_size=len(content),
                    sha256=hashlib.sha256(content).hexdigest(),
                    blob_key=key,
                )
            )
        return document_id

    def enqueue(
        self, document_id: uuid.UUID, count: int = 1, max_attempts: int = 3
    ) -> list[uuid.UUID]:
        with self.engine.begin() as connection:
            return [
                enqueue_run(
                    connection,
                    workspace_id=self.workspace_id,
                    document_id=document_id,
                    configuration_id=self.configuration_id,
                    max_attempts=max_attempts,
                )
                for _ in range(count)
            ]

    def run(self, run_id: uuid.UUID) -> Any:
        with self.engine.connect() as connection:
            return connection.execute(select(Run).where(Run.id == run_id)).one()

    def runs(self) -> list[Any]:
        with self.engine.connect() as connection:
            return list(connection.execute(select(Run)).all())

    def set_status(self, run_id: uuid.UUID, status: str) -> None:
        from sqlalchemy import update

        with self.engine.begin() as connection:
            connection.execute(update(Run).where(Run.id == run_id).values(status=status))

    def event_types(self, run_id: uuid.UUID) -> list[str]:
        with self.engine.connect() as connection:
            return list(
                connection.execute(
                    select(RunEvent.type).where(RunEvent.run_id == run_id).order_by(RunEvent.seq)
                ).scalars()
            )

    def events(self, run_id: uuid.UUID) -> list[Any]:
        with self.engine.connect() as connection:
            return list(
                connection.execute(
                    select(RunEvent).where(RunEvent.run_id == run_id).order_by(RunEvent.seq)
                ).all()
            )

    def event_seqs(self, run_id: uuid.UUID) -> list[int]:
        with self.engine.connect() as connection:
            return list(
                connection.execute(
                    select(RunEvent.seq).where(RunEvent.run_id == run_id).order_by(RunEvent.seq)
                ).scalars()
            )


def start_worker_process(
    url: str,
    storage: dict[str, Any],
    *,
    drain: bool = True,
    **settings: Any,
) -> BaseProcess:
    context = multiprocessing.get_context("spawn")
    process = context.Process(
        target=run_worker_process,
        args=(url, worker_overrides(**settings), storage, drain),
        name="ade-test-worker",
    )
    process.start()
    return process


def gate_started(gate: Path) -> list[Path]:
    return sorted(gate.glob("started-*"))


def engine_children(pid: int) -> set[int]:
    """The engine child processes of ``pid`` (multiprocessing's resource tracker excluded)."""
    return {child for child in children(pid) if "spawn_main" in cmdline(child)}
