"""Worker ids: ``host:pid:random``, unique per process start, readable in ``runs.claimed_by``."""

from __future__ import annotations

import os
import socket
import uuid


def new_worker_id() -> str:
    host = socket.gethostname().split(".", 1)[0][:100] or "host"
    return f"{host}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
