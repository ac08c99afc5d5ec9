"""Local-backend-only behaviour: symlinks, temporary files, readers during replace, root errors."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
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


def _as_unprivileged_user(check: Callable[[], None]) -> str:
    """Run ``check`` in a forked child that is "nobody" when the tests run as root (root ignores
    permissions); return what it raised, as ``"Type: message"``, or "" if it raised nothing."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: report through the pipe, never return into pytest
        outcome = ""
        try:
            if os.geteuid() == 0:
                os.setgroups([])
                os.setgid(65534)
                os.setuid(65534)
            check()
        except BaseException as error:
            outcome = f"{type(error).__name__}: {error}"
        os.write(write_end, outcome.encode())
        os._exit(0)
    os.close(write_end)
    with open(read_end, "rb") as pipe:
        outcome = pipe.read().decode()
    os.waitpid(pid, 0)
    return outcome


def test_read_only_root_is_misconfigured() -> None:
    # A folder "nobody" can reach: pytest's own tmp_path is private to the user running it.
    base = Path(tempfile.mkdtemp(prefix="ade-ro-"))
    try:
        base.chmod(0o755)
        root = base / "ro"
        root.mkdir()
        root.chmod(0o555)
        outcome = _as_unprivileged_user(LocalBlobStore(root).check)
        assert outcome.startswith("StorageMisconfigured:")
        assert "Permission denied" in outcome
        assert list(root.iterdir()) == []  # the failed probe left nothing behind
    finally:
        (base / "ro").chmod(0o755)
        shutil.rmtree(base)
