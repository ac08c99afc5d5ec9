"""Engines for the engine child's limits: each misbehaves on a file named for it and runs the
real engine on any other file, so one EngineProcess can fail a run and then serve the next."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

MISBEHAVING_ENGINE = "tests.worker.run_queue.limit_engines:misbehaving_extract"
CYCLIC_BYTES = 192 * 1024 * 1024


def misbehaving_extract(input_path: Any, spec: Any, output_dir: Any, on_event: Any = None) -> Any:
    """``hungry*``: allocate until the memory ceiling says no; ``abort*``: die as Rust code
    does when an allocation fails; ``hang*``: never return; ``cyclic*``: leave 192 MiB of
    garbage in a reference cycle and run the real engine; anything else: the real engine."""
    from ade.worker.engine.pipeline import extract

    name = Path(input_path).name
    if name.startswith("hungry"):
        hoard = []
        while True:
            hoard.append(bytearray(64 * 1024 * 1024))
    if name.startswith("abort"):
        os.abort()
    if name.startswith("hang"):
        threading.Event().wait()
    if name.startswith("cyclic"):
        garbage: list[Any] = [b"x" * (CYCLIC_BYTES)]  # written, so resident
        garbage.append(garbage)  # a reference cycle: only the garbage collector frees it
    return extract(input_path, spec, output_dir, on_event=on_event)
