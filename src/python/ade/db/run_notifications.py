"""The wake-up signal between the services that create runs and the workers that claim them.

Both the API (creating runs) and the worker (requeueing them) must send it, and the worker
listens for it; services share code only through ade.db, so the channel lives here, once.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

RUNS_CHANNEL = "ade_runs"
"""PostgreSQL LISTEN/NOTIFY channel: a notification means "a run may be claimable now"."""


def notify_runs(connection: Connection, payload: str = "") -> None:
    """``NOTIFY ade_runs`` on PostgreSQL (delivered at commit); nothing on SQLite, which polls."""
    if connection.dialect.name == "postgresql":
        connection.execute(
            text("SELECT pg_notify(:channel, :payload)"),
            {"channel": RUNS_CHANNEL, "payload": payload},
        )
