"""The engine child: a long-lived ``spawn``-ed process per worker slot that runs extractions.

Why a child at all: a run must be stoppable at any moment (cancel, lost lease, shutdown) and the
engine is CPU-bound Python that cannot be interrupted from a thread. Killing a process is the
only reliable stop. Why long-lived: starting Python and importing openpyxl/pydantic costs far
more than a tiny run, so one child serves run after run and is only replaced after a kill or
a crash.

Never orphaned: the child ignores SIGINT/SIGTERM (the parent decides when it stops), exits when
its pipe to the parent closes, and a watchdog thread exits it if the parent dies (its parent
pid changes), so a SIGKILL-ed worker leaves no engine behind.

A reply can only belong to its own run. Two rules, in the manner of Celery's prefork pool:

- Every job carries a *token* (run id, attempt and a fresh nonce) and every message the child
  sends back repeats it; the parent drops any message whose token is not the current job's.
- A child is handed a new job only when it is known idle: it has sent the terminal reply of its
  previous job. Any other way out of :meth:`EngineProcess.run` (cancel, lost lease, shutdown,
  a database outage, an exception in a callback) kills the child, and the next job starts a
  fresh one with a fresh pipe, so no late message of an abandoned run can be read at all.

Limits (:class:`~ade.worker.settings.EngineLimits`): the child holds itself to a memory
ceiling (``RLIMIT_DATA``) and the engine to the ZIP limits of
:mod:`ade.worker.engine.zip_limits`; the parent kills a child whose run outlasts the wall-clock
limit. Either way the run fails with ``too_large`` (deterministic: the same file would again),
the child is replaced, and the slot goes on with its next run. A child that lives on collects
what each run left once it has replied (its imports frozen out of the collections first), so
a big run's leftovers do not stay resident against the next run's ceiling.

Protocol on the pipe (parent -> child): ``("run", token, input, spec, output_dir)`` or
``("stop",)``. Child -> parent: ``("event", token, dict)`` while running, then exactly one of
``("done", token, summary, engine_seconds)``, ``("engine_error", token, code, message)`` or
``("error", token, code, message, transient)``.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import logging
import multiprocessing
import os
import resource
import signal
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from ade.worker.engine.errors import EngineError
from ade.worker.errors import (
    EngineCrashed,
    Failure,
    RunFailed,
    RunInterrupted,
    engine_failure,
    one_line,
)
from ade.worker.settings import EngineLimits

log = logging.getLogger("ade.worker.child")

KILL_WAIT_SECONDS = 5.0
TOO_LARGE = "too_large"
# How a process dies when an allocation fails under the memory ceiling where Python cannot
# raise MemoryError: Rust code (calamine, the workbook writer) aborts.
_OUT_OF_MEMORY_EXIT = -signal.SIGABRT


def _watch_parent(parent_pid: int) -> None:
    while True:
        time.sleep(0.5)
        if os.getppid() != parent_pid:
            os._exit(1)


def _resolve(reference: str) -> Callable[..., Any]:
    module_name, _, name = reference.partition(":")
    function: Callable[..., Any] = getattr(importlib.import_module(module_name), name)
    return function


def _unexpected(error: BaseException) -> tuple[str, str, bool]:
    """Code, message and transience of an exception that is not an EngineError.

    Disk full or out of memory is the machine's state, not the document's: worth another
    attempt. Anything else is a bug that would fail the same way again.
    """
    message = f"{type(error).__name__}: {one_line(str(error))}"
    if isinstance(error, MemoryError):
        return "out_of_memory", message, True
    if isinstance(error, OSError):
        return "io_error", message, True
    return "internal_error", message, False


def _apply_limits(limits: EngineLimits) -> None:
    """Hold this process (and the workbook writer it starts, which inherits the limit) to the
    memory ceiling, and the engine to the ZIP limits. RLIMIT_DATA rather than RLIMIT_AS: it
    counts what the process can actually fill (heap, private mappings), not the address space
    that thread stacks and allocator arenas merely reserve."""
    from ade.worker.engine import zip_limits

    zip_limits.configure(limits.zip)
    if limits.memory_bytes:
        resource.setrlimit(resource.RLIMIT_DATA, (limits.memory_bytes, limits.memory_bytes))


def _over_memory(limits: EngineLimits) -> tuple[str, str, bool]:
    """The failure of a run that reached the memory ceiling: the same file would again."""
    return (
        TOO_LARGE,
        f"the run needed more memory than the engine's limit of {limits.memory_bytes >> 20} MiB "
        "(ADE_WORKER_ENGINE_MEMORY_MIB); split the file, or save it as CSV",
        False,
    )


def _run_job(
    engine: Callable[..., Any],
    limits: EngineLimits,
    connection: Connection,
    message: tuple[Any, ...],
) -> tuple[Any, ...]:
    """Run one job and return its terminal reply (events are sent as they come)."""
    from ade.db.configuration_spec import ConfigurationSpec

    _, token, input_path, spec_data, output_dir = message

    def on_event(event: dict[str, Any]) -> None:
        connection.send(("event", token, event))

    started = time.perf_counter()
    try:
        spec = ConfigurationSpec.model_validate(spec_data)
        summary = engine(input_path, spec, output_dir, on_event=on_event)
        data = summary.as_dict() if hasattr(summary, "as_dict") else dict(summary)
        return ("done", token, data, time.perf_counter() - started)
    except BaseException as error:
        if isinstance(error, EngineError):
            return ("engine_error", token, error.code, error.message)
        if isinstance(error, MemoryError) and limits.memory_bytes:
            return ("error", token, *_over_memory(limits))
        return ("error", token, *_unexpected(error))


def child_main(
    connection: Connection,
    engine_ref: str,
    parent_pid: int,
    limits: EngineLimits | None = None,
) -> None:
    """Entry point of the child process (module-level so ``spawn`` can import it)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True).start()
    limits = limits or EngineLimits()
    _apply_limits(limits)
    import ade.db.configuration_spec  # noqa: F401  (imported before the freeze below)

    engine = _resolve(engine_ref)
    # What the imports made lives as long as the child: keep it out of the collections below,
    # so that each costs about what a run left behind.
    gc.collect()
    gc.freeze()

    while True:
        try:
            message = connection.recv()
        except (EOFError, OSError):
            return
        if message[0] != "run":
            return
        reply = _run_job(engine, limits, connection, message)
        try:
            connection.send(reply)
        except (EOFError, OSError):
            return
        # The run's summary and much of what it built are reference cycles (a 20,000-column
        # CSV's left ~150 MiB): the long-lived child would keep them resident until some
        # later allocation woke the collector, and they would count against the next run's
        # memory ceiling. Collected once the parent has the reply, while it uploads outputs.
        del reply, message
        gc.collect()


@dataclass(frozen=True)
class EngineJob:
    """One extraction for the child: ``label`` names the run and attempt (``run-id/2``)."""

    label: str
    input_path: str
    spec: dict[str, Any]
    output_dir: str


@dataclass(frozen=True)
class EngineResult:
    summary: dict[str, Any]
    engine_seconds: float


class EngineProcess:
    """One slot's engine child, started on first use and replaced after a kill or crash."""

    def __init__(self, engine_ref: str, limits: EngineLimits | None = None) -> None:
        self._engine_ref = engine_ref
        self.limits = limits or EngineLimits()
        """Read when a child starts (memory, ZIP) and when a job starts (wall clock)."""
        self._process: BaseProcess | None = None
        self._connection: Connection | None = None
        self.discarded = 0
        """Messages dropped because they carried another job's token (always 0 by design)."""

    @property
    def pid(self) -> int | None:
        """The running child's process id (None before the first run or after a kill)."""
        return self._process.pid if self._process is not None else None

    def start(self) -> None:
        if self._process is not None and self._process.is_alive():
            return
        self.kill()
        context = multiprocessing.get_context("spawn")
        parent_end, child_end = context.Pipe()
        process = context.Process(
            target=child_main,
            args=(child_end, self._engine_ref, os.getpid(), self.limits),
            name="ade-engine",
            daemon=True,
        )
        process.start()
        child_end.close()
        self._process, self._connection = process, parent_end

    def run(
        self,
        job: EngineJob,
        on_event: Callable[[dict[str, Any]], None],
        interrupted: Callable[[], str | None],
        tick: Callable[[], None],
        poll_seconds: float = 0.1,
    ) -> EngineResult:
        """Run one extraction; raise RunFailed (EngineError), EngineCrashed or RunInterrupted.

        ``interrupted()`` is polled while waiting; a non-None reason kills the child at once.
        ``tick()`` is called after every poll or message, so callers can flush events on time.
        Unless the child sent this job's terminal reply, it is killed before this returns or
        raises, whatever the reason (see the module docstring).
        """
        self.start()
        assert self._connection is not None and self._process is not None
        connection, process = self._connection, self._process
        token = f"{job.label}:{uuid.uuid4().hex[:12]}"
        idle = False
        timeout = self.limits.timeout_seconds
        deadline = time.monotonic() + timeout if timeout else None
        try:
            try:
                connection.send(("run", token, job.input_path, job.spec, job.output_dir))
            except (EOFError, OSError):
                raise EngineCrashed("the engine process is gone") from None
            while True:
                tick()
                reason = interrupted()
                if reason is not None:
                    raise RunInterrupted(reason)
                if deadline is not None and time.monotonic() > deadline:
                    raise RunFailed(self._timed_out())
                try:
                    ready = connection.poll(poll_seconds)
                    message = connection.recv() if ready else None
                except (EOFError, OSError):
                    message, ready = None, True
                if message is None and (ready or not process.is_alive()):
                    raise self._died(process)
                if message is None:
                    continue
                if message[1] != token:
                    # Cannot happen while the rules above hold; if it ever does, the message
                    # belongs to another run and must not be read as this one's.
                    self.discarded += 1
                    log.error("dropped a message of another job (%s) in %s", message[1], token)
                    continue
                kind = message[0]
                if kind == "event":
                    on_event(message[2])
                    continue
                idle = True  # a terminal reply: the child now waits for its next job
                if kind == "done":
                    return EngineResult(summary=message[2], engine_seconds=float(message[3]))
                if kind == "engine_error":
                    raise RunFailed(engine_failure(str(message[2]), str(message[3])))
                # A child that ran out of memory is replaced: its heap may be fragmented.
                idle = message[2] != TOO_LARGE
                raise RunFailed(Failure(str(message[2]), str(message[3]), bool(message[4])))
        finally:
            if not idle:
                self.kill()

    def _died(self, process: BaseProcess) -> EngineCrashed | RunFailed:
        """Why the child is gone: under a memory ceiling, an abort is the ceiling (a failure
        of this file); anything else (killed from outside) is worth another attempt."""
        process.join(KILL_WAIT_SECONDS)
        code = process.exitcode
        if self.limits.memory_bytes and code == _OUT_OF_MEMORY_EXIT:
            _, message, transient = _over_memory(self.limits)
            name = signal.Signals(-code).name
            return RunFailed(
                Failure(TOO_LARGE, f"the engine process stopped ({name}): {message}", transient)
            )
        return EngineCrashed(f"the engine process died (exit code {code})")

    def _timed_out(self) -> Failure:
        seconds = self.limits.timeout_seconds
        return Failure(
            TOO_LARGE,
            f"the extraction took longer than the engine's limit of {seconds:g} s "
            "(ADE_WORKER_ENGINE_TIMEOUT_SECONDS) and was stopped; split the file, or raise the "
            "limit",
            False,
        )

    def kill(self) -> None:
        """Kill the child (if any) and wait for it, so it is never left running."""
        process, self._process = self._process, None
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()
        if process is None:
            return
        if process.is_alive():
            process.kill()
        process.join(KILL_WAIT_SECONDS)
        if process.exitcode is not None:
            process.close()

    def close(self) -> None:
        """Stop the child politely (end of service), killing it if it does not exit."""
        if self._connection is not None and self._process is not None:
            with contextlib.suppress(EOFError, OSError):
                self._connection.send(("stop",))
            self._process.join(1.0)
        self.kill()
