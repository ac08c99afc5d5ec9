"""A free local TCP port for a server a test or benchmark starts (one copy, not one per file)."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A local TCP port with nothing listening (bound, then closed)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port
