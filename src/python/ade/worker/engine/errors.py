"""The one exception the engine raises for a failure that retrying cannot fix.

A run that fails with an EngineError is failed at once (no retry): the file or the configuration
is wrong, and running again gives the same answer (``too_large``: the file exceeds a limit set
to protect the host, e.g. a decompression bomb; see :mod:`ade.worker.engine.zip_limits`).
`code` is stable and machine-readable (the worker stores it on the run); `message` is one line
meant for people.
"""

from __future__ import annotations

from typing import Literal

ErrorCode = Literal[
    "file_not_found",
    "empty_file",
    "unreadable_file",
    "unsupported_format",
    "sheet_not_found",
    "no_table_found",
    "invalid_configuration",
    "too_large",
]


class EngineError(Exception):
    """A deterministic extraction failure with a stable code and a one-line message."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        one_line = " ".join(message.split())
        super().__init__(f"{code}: {one_line}")
        self.code: ErrorCode = code
        self.message = one_line
