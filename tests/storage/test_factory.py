"""open_store: the one place that picks the backend."""

from __future__ import annotations

from pathlib import Path

import pytest

from ade.storage import StorageMisconfigured, open_store
from ade.storage.local import LocalBlobStore
from ade.storage.s3 import S3BlobStore
from ade.storage.settings import StorageSettings


def test_local_is_the_default(tmp_path: Path) -> None:
    store = open_store(StorageSettings(data_dir=tmp_path))
    assert isinstance(store, LocalBlobStore)
    assert store.backend == "local"
    assert store.location == str(tmp_path / "storage")


def test_s3_when_selected(s3_settings: StorageSettings) -> None:
    store = open_store(s3_settings)
    assert isinstance(store, S3BlobStore)
    store.check()


def test_environment_errors_surface_as_misconfigured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADE_STORAGE_BACKEND", "s3")
    monkeypatch.delenv("ADE_S3_BUCKET", raising=False)
    with pytest.raises(StorageMisconfigured, match="ADE_S3_BUCKET is required"):
        open_store()


def test_store_wide_size_limit_applies(tmp_path: Path) -> None:
    from ade.storage import BlobTooLarge

    store = open_store(StorageSettings(data_dir=tmp_path, storage_max_object_bytes=10))
    store.write("a/b", b"0123456789")
    with pytest.raises(BlobTooLarge):
        store.write("a/b", b"0123456789A")
    with pytest.raises(BlobTooLarge):
        store.write("a/b", b"0123456789A", max_bytes=100)  # a call cannot raise the cap
    assert store.write("a/c", b"01234", max_bytes=5).size == 5
