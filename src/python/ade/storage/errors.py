"""The storage library's own exception types.

Callers (API, worker, CLI) catch these instead of botocore or OSError types, so swapping the
backend never changes error handling. Every message is a single line: the CLI prints
``str(error)`` as-is and the API logs it, and neither should have to re-format it.
"""

from __future__ import annotations


def _one_line(message: str) -> str:
    # Backend messages (botocore, OSError) sometimes contain newlines; collapse all whitespace
    # runs so the "one clear line" rule holds no matter where the text came from.
    return " ".join(message.split())


class StorageError(Exception):
    """Base class of every error raised by ``ade.storage``."""

    def __init__(self, message: str) -> None:
        super().__init__(_one_line(message))


class InvalidKey(StorageError, ValueError):
    """A blob key (or id used to build one) is malformed or would escape the store."""


class BlobNotFound(StorageError):
    """No blob exists under the key."""

    def __init__(self, key: str) -> None:
        super().__init__(f"blob not found: {key}")
        self.key = key


class BlobTooLarge(StorageError):
    """A write exceeded its size limit; the write was aborted and left nothing behind."""

    def __init__(self, key: str, limit: int) -> None:
        super().__init__(f"blob {key} exceeds the size limit of {limit} bytes; nothing was stored")
        self.key = key
        self.limit = limit


class StorageUnavailable(StorageError):
    """The store could not be reached or kept failing after retries (transient by nature)."""


class StorageMisconfigured(StorageError):
    """Settings or the store's setup are wrong (missing bucket, bad credentials, bad path)."""
