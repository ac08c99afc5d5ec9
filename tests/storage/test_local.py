"""Local-backend-only behaviour: symlinks, temporary files, readers during replace, root errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ade.storage import BlobNotFound, InvalidKey, StorageError, StorageMisconfigured
from ade.storage.local import LocalBlobStore


@pytest.fixture()
def root(tmp_path: Path) -> Path:
    return tmp_path / "storage"


@pytest.fixture()
def store(root: Path) -> LocalBlobStore:
    return LocalBlobStore(root)


@pytest.fixture()
def outside(tmp_path: Path) -> Path:
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret").write_bytes(b"top secret")
    return folder


def test_symlinked_folder_escaping_the_root_is_refused(
    store: LocalBlobStore, root: Path, outside: Path
) -> None:
    root.mkdir()
    (root / "evil").symlink_to(outside, target_is_directory=True)
    with pytest.raises(InvalidKey, match="outside the storage root"):
        store.open("evil/secret")
    with pytest.raises(InvalidKey, match="outside the storage root"):
        store.write("evil/planted", b"x")
    with pytest.raises(InvalidKey):
        store.delete("evil/secret")
    assert sorted(p.name for p in outside.iterdir()) == ["secret"]
    assert (outside / "secret").read_bytes() == b"top secret"
    assert list(store.list()) == []  # symlinked folders are not walked


def test_symlinked_file_escaping_the_root_is_refused(
    store: LocalBlobStore, root: Path, outside: Path
) -> None:
    (root / "documents").mkdir(parents=True)
    (root / "documents" / "link").symlink_to(outside / "secret")
    with pytest.raises(InvalidKey):
        store.read_bytes("documents/link")
    with pytest.raises(InvalidKey):
        store.write("documents/link", b"overwrite")
    assert (outside / "secret").read_bytes() == b"top secret"


def test_root_reached_through_a_symlink_works(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "alias").symlink_to(real, target_is_directory=True)
    store = LocalBlobStore(tmp_path / "alias")
    store.write("a/b", b"ok")
    assert (real / "a" / "b").read_bytes() == b"ok"
    assert list(store.list()) == ["a/b"]


def test_reader_keeps_old_bytes_while_key_is_replaced(store: LocalBlobStore) -> None:
    store.write("a/b", b"1" * 3_000_000)
    with store.open("a/b") as chunks:
        first = next(chunks)
        store.write("a/b", b"2" * 10)
        rest = b"".join(chunks)
    assert first + rest == b"1" * 3_000_000
    assert store.read_bytes("a/b") == b"2" * 10


def test_leftover_temporary_files_are_invisible(store: LocalBlobStore, root: Path) -> None:
    store.write("a/b", b"x")
    (root / "a" / ".tmp-crashed.part").write_bytes(b"half")  # as left by a killed process
    assert list(store.list()) == ["a/b"]
    assert list(store.list("a/")) == ["a/b"]


def test_files_are_private_and_durable_layout(store: LocalBlobStore, root: Path) -> None:
    store.write("documents/w/d", b"x")
    path = root / "documents" / "w" / "d"
    assert path.read_bytes() == b"x"
    assert os.stat(path).st_mode & 0o077 == 0  # mkstemp's 0600: uploads are not world-readable


def test_key_below_an_existing_blob_is_a_clear_error(store: LocalBlobStore) -> None:
    store.write("a/b", b"x")
    with pytest.raises(StorageError, match="a blob exists where a folder is needed"):
        store.write("a/b/c", b"y")
    with pytest.raises(StorageError, match="a folder exists under that key"):
        store.write("a", b"y")
    with pytest.raises(BlobNotFound):
        store.open("a")


def test_root_that_is_a_file_is_misconfigured(tmp_path: Path) -> None:
    (tmp_path / "file").write_bytes(b"")
    store = LocalBlobStore(tmp_path / "file")
    with pytest.raises(StorageMisconfigured, match="not a folder"):
        store.check()


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores permissions")
def test_read_only_root_is_misconfigured(tmp_path: Path) -> None:
    root = tmp_path / "ro"
    root.mkdir()
    root.chmod(0o500)
    try:
        with pytest.raises(StorageMisconfigured, match="Permission denied"):
            LocalBlobStore(root).check()
    finally:
        root.chmod(0o700)
