"""ade.storage: the only code that touches blob storage (local filesystem or S3).

Deliberately light: importing the package imports neither boto3 nor pydantic; the names below are
resolved on first use.

    from ade.storage import open_store, keys
    store = open_store()
    info = store.write(keys.document_key(workspace_id, document_id), upload_file, max_bytes=...)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ade.storage.base import BlobInfo, BlobStore, ChunkStream
from ade.storage.errors import (
    BlobNotFound,
    BlobTooLarge,
    InvalidKey,
    StorageError,
    StorageMisconfigured,
    StorageUnavailable,
)

if TYPE_CHECKING:
    from ade.storage.factory import open_store
    from ade.storage.settings import StorageSettings, load_settings

__all__ = [
    "BlobInfo",
    "BlobNotFound",
    "BlobStore",
    "BlobTooLarge",
    "ChunkStream",
    "InvalidKey",
    "StorageError",
    "StorageMisconfigured",
    "StorageSettings",
    "StorageUnavailable",
    "load_settings",
    "open_store",
]

_LAZY = {
    "open_store": "ade.storage.factory",
    "StorageSettings": "ade.storage.settings",
    "load_settings": "ade.storage.settings",
}


def __getattr__(name: str) -> Any:
    # PEP 562: settings pull in pydantic; defer that to first use so `ade --help` stays fast.
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'ade.storage' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
