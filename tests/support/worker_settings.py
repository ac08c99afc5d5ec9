"""Worker settings for tests that run the real worker: short leases and backoff."""

from __future__ import annotations

from typing import Any


def worker_overrides(**extra: Any) -> dict[str, Any]:
    """Short leases and backoff so tests stay quick (no timing assertions)."""
    base: dict[str, Any] = {
        "lease_seconds": 5.0,
        "heartbeat_seconds": 0.25,
        "poll_seconds": 0.02,
        "poll_max_seconds": 0.2,
        "sweep_seconds": 0.3,
        "retry_base_seconds": 0.05,
        "retry_max_seconds": 0.2,
        "grace_seconds": 10.0,
        "event_flush_seconds": 0.1,
    }
    base.update(extra)
    return base
