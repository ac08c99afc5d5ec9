"""Build the configured blob store: the one place that picks the backend.

The S3 backend is imported only when selected, so the local default (and ``import ade.storage``)
never pays for importing boto3.
"""

from __future__ import annotations

from ade.storage.base import BlobStore
from ade.storage.settings import StorageSettings, load_settings


def open_store(settings: StorageSettings | None = None) -> BlobStore:
    """The blob store described by ``settings`` (default: read from the environment).

    Raises :class:`~ade.storage.errors.StorageMisconfigured` for invalid settings. Building a
    store does no I/O; call :meth:`BlobStore.check` to prove it is reachable and writable.
    """
    if settings is None:
        settings = load_settings()
    if settings.storage_backend == "s3":
        from ade.storage.s3 import S3BlobStore

        return S3BlobStore(settings)
    from ade.storage.local import LocalBlobStore

    return LocalBlobStore(settings.local_root, max_object_bytes=settings.storage_max_object_bytes)
