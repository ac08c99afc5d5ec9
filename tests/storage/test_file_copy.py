"""The local store's kernel copy of plain-file sources: same bytes, same digest, same limits."""

from __future__ import annotations

import errno
import hashlib
import os
from pathlib import Path
from typing import Any

import pytest

from ade.storage import BlobTooLarge, file_copy
from ade.storage.local import LocalBlobStore


@pytest.fixture()
def store(tmp_path: Path) -> LocalBlobStore:
    return LocalBlobStore(tmp_path / "storage")


@pytest.fixture()
def small_segments(monkeypatch: pytest.MonkeyPatch) -> int:
    """Segments of 64 KiB, so a file of a few hundred KiB crosses several of them."""
    monkeypatch.setattr(file_copy, "SEGMENT_SIZE", 64 * 1024)
    return 64 * 1024


@pytest.fixture()
def copies(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Byte counts of the kernel copies that ran (records, does not replace, the real call)."""
    counts: list[int] = []
    real = file_copy.copy_and_hash

    def recording(*args: Any, **kwargs: Any) -> int:
        counts.append(real(*args, **kwargs))
        return counts[-1]

    monkeypatch.setattr(file_copy, "copy_and_hash", recording)
    return counts


def _source(tmp_path: Path, size: int) -> tuple[Path, bytes]:
    data = os.urandom(size)
    path = tmp_path / "source.bin"
    path.write_bytes(data)
    return path, data


def _refuse_cross_device(*_: Any) -> int:
    """What an old kernel, or a pair of filesystems it will not copy between, answers."""
    raise OSError(errno.EXDEV, "Invalid cross-device link")


def _stored(store: LocalBlobStore, key: str) -> bytes:
    with store.open(key) as chunks:
        return b"".join(chunks)


def test_file_spanning_several_segments_is_stored_whole(
    store: LocalBlobStore, tmp_path: Path, small_segments: int, copies: list[int]
) -> None:
    path, data = _source(tmp_path, 5 * small_segments + 123)
    with open(path, "rb") as source:
        info = store.write("docs/a.bin", source)
        assert source.tell() == len(data)  # consumed, as a user-space copy would leave it
    assert copies == [len(data)]  # the kernel path ran
    assert (info.size, info.sha256) == (len(data), hashlib.sha256(data).hexdigest())
    assert _stored(store, "docs/a.bin") == data
    assert store.stat("docs/a.bin") == info


def test_partly_read_file_is_stored_from_where_its_reader_stands(
    store: LocalBlobStore, tmp_path: Path, copies: list[int]
) -> None:
    path, data = _source(tmp_path, 100_000)
    with open(path, "rb") as source:
        source.read(10)  # the BufferedReader has read ahead far beyond byte 10
        info = store.write("a", source)
    assert copies == [len(data) - 10]
    assert _stored(store, "a") == data[10:]
    assert info.sha256 == hashlib.sha256(data[10:]).hexdigest()


@pytest.mark.skipif(not Path("/proc/version").exists(), reason="needs Linux's /proc")
def test_file_that_claims_size_zero_but_has_content_is_stored_whole(
    store: LocalBlobStore, copies: list[int]
) -> None:
    expected = Path("/proc/version").read_bytes()  # st_size 0, content ~150 bytes
    with open("/proc/version", "rb") as source:
        info = store.write("version", source)
    assert copies == []
    assert expected and _stored(store, "version") == expected
    assert info.size == len(expected)


def test_empty_file(store: LocalBlobStore, tmp_path: Path) -> None:
    path, _ = _source(tmp_path, 0)
    with open(path, "rb") as source:
        info = store.write("empty", source)
    assert (info.size, _stored(store, "empty")) == (0, b"")


def test_file_over_the_limit_is_refused_before_a_byte_is_written(
    store: LocalBlobStore, tmp_path: Path, copies: list[int]
) -> None:
    store.write("a", b"previous")
    path, data = _source(tmp_path, 1000)
    with open(path, "rb") as source, pytest.raises(BlobTooLarge):
        store.write("a", source, max_bytes=999)
    assert copies == []
    assert _stored(store, "a") == b"previous"  # the old blob stands
    assert [p.name for p in (tmp_path / "storage").iterdir()] == ["a"]  # no temporary left


def test_file_exactly_at_the_limit_is_stored(store: LocalBlobStore, tmp_path: Path) -> None:
    path, data = _source(tmp_path, 1000)
    with open(path, "rb") as source:
        assert store.write("a", source, max_bytes=1000).size == 1000


def test_file_that_grows_past_the_limit_during_the_copy_is_refused(
    store: LocalBlobStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The size is checked before the copy and again after it: a growing file cannot slip by."""
    path, _ = _source(tmp_path, 1000)
    real = file_copy.copy_and_hash

    def grow_first(*args: Any, **kwargs: Any) -> int:
        with open(path, "ab") as more:
            more.write(b"x" * 500)
        return real(*args, **kwargs)

    monkeypatch.setattr(file_copy, "copy_and_hash", grow_first)
    with open(path, "rb") as source, pytest.raises(BlobTooLarge):
        store.write("a", source, max_bytes=1200)
    assert not store.exists("a")
    assert list((tmp_path / "storage").iterdir()) == []


@pytest.mark.parametrize(
    ("refusing", "copied_in_kernel"),
    [(["copy_file_range"], True), (["copy_file_range", "sendfile"], False)],
    ids=["sendfile takes over", "the Python loop takes over"],
)
def test_when_the_kernel_refuses_another_path_stores_the_same_bytes(
    store: LocalBlobStore,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    small_segments: int,
    copies: list[int],
    refusing: list[str],
    copied_in_kernel: bool,
) -> None:
    for call in refusing:
        monkeypatch.setattr(os, call, _refuse_cross_device)
    path, data = _source(tmp_path, 3 * small_segments + 7)
    with open(path, "rb") as source:
        info = store.write("a", source)
    assert copies == ([len(data)] if copied_in_kernel else [])
    assert _stored(store, "a") == data
    assert (info.size, info.sha256) == (len(data), hashlib.sha256(data).hexdigest())


def test_a_disk_error_midway_fails_the_write_and_keeps_the_old_blob(
    store: LocalBlobStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_segments: int
) -> None:
    store.write("a", b"previous")
    real = os.copy_file_range
    calls = []

    def fail_second(*args: Any) -> int:
        calls.append(args)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(*args)

    monkeypatch.setattr(os, "copy_file_range", fail_second)
    path, _ = _source(tmp_path, 3 * small_segments)
    with open(path, "rb") as source, pytest.raises(Exception, match="No space left"):
        store.write("a", source)
    assert _stored(store, "a") == b"previous"
    assert [p.name for p in (tmp_path / "storage").iterdir()] == ["a"]


def test_sources_that_are_not_plain_files_take_the_python_path(
    store: LocalBlobStore, tmp_path: Path, copies: list[int]
) -> None:
    read_end, write_end = os.pipe()
    with open(write_end, "wb") as pipe_in:
        pipe_in.write(b"through a pipe")
    with open(read_end, "rb") as pipe_out:
        assert store.write("pipe", pipe_out).size == len(b"through a pipe")
    assert copies == []
    assert _stored(store, "pipe") == b"through a pipe"
