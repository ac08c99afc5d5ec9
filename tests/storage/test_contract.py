"""The blob-store contract: every test here runs unchanged against each backend.

`harness` is parametrized over the local filesystem (tmp_path) and S3 (HTTP to a moto server
in a child process); see conftest.py.
"""

from __future__ import annotations

import hashlib
import io
import threading
import tracemalloc
from collections.abc import Iterator

import pytest

from ade.storage import BlobNotFound, BlobTooLarge, InvalidKey
from ade.storage.base import BlobStore
from tests.storage.conftest import Harness

MiB = 1024 * 1024
KEY = "documents/ws/doc-1"


def pattern(size: int, seed: int = 0, chunk: int = MiB) -> Iterator[bytes]:
    """Deterministic, non-repeating-per-chunk bytes, generated lazily (never all in memory)."""
    produced = 0
    n = 0
    while produced < size:
        block = hashlib.sha256(f"{seed}:{n}".encode()).digest() * (chunk // 32)
        block = block[: min(chunk, size - produced)]
        produced += len(block)
        n += 1
        yield block


def digest_of(chunks: Iterator[bytes]) -> tuple[int, str]:
    hasher = hashlib.sha256()
    size = 0
    for chunk in chunks:
        hasher.update(chunk)
        size += len(chunk)
    return size, hasher.hexdigest()


class Boom(Exception):
    """Raised by a source stream midway."""


def failing(size_before: int) -> Iterator[bytes]:
    yield from pattern(size_before, seed=99)
    raise Boom("source broke")


# -- round trips -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "payload",
    [b"", b"x", b"hello world\n" * 1000, bytes(range(256)) * 5000],
    ids=["empty", "one-byte", "12kB", "1.2MB"],
)
def test_round_trip_reports_size_and_sha256(store: BlobStore, payload: bytes) -> None:
    info = store.write(KEY, io.BytesIO(payload))
    assert (info.key, info.size, info.sha256) == (
        KEY,
        len(payload),
        hashlib.sha256(payload).hexdigest(),
    )
    assert store.read_bytes(KEY) == payload
    assert store.stat(KEY) == info


def test_write_accepts_bytes_and_iterables(store: BlobStore) -> None:
    assert store.write("a/bytes", b"abc").size == 3
    assert store.write("a/iter", iter([b"ab", b"", b"c"])).size == 3
    assert store.read_bytes("a/iter") == b"abc"


def test_multipart_sized_round_trip(store: BlobStore) -> None:
    size = 12 * MiB + 123  # three 5 MiB parts in the S3 run, the last one short
    info = store.write(KEY, pattern(size))
    assert (info.size, info.sha256) == digest_of(pattern(size))
    with store.open(KEY) as chunks:
        assert digest_of(chunks) == (size, info.sha256)
    assert store.stat(KEY) == info


def test_overwrite_replaces_content(store: BlobStore) -> None:
    store.write(KEY, b"old content")
    info = store.write(KEY, b"new")
    assert store.read_bytes(KEY) == b"new"
    assert store.stat(KEY) == info


@pytest.mark.parametrize(
    ("offset", "length"),
    [
        (0, None),
        (0, 10),
        (5, 10),
        (1000, None),
        (1000, 24),
        (1020, 100),
        (1024, None),
        (2000, 5),
        (7, 0),
    ],
)
def test_byte_ranges_behave_like_slicing(store: BlobStore, offset: int, length: int | None) -> None:
    payload = bytes(range(256)) * 4  # 1024 bytes
    store.write(KEY, payload)
    end = None if length is None else offset + length
    assert store.read_bytes(KEY, offset, length) == payload[offset:end]


def test_range_inside_a_large_blob(store: BlobStore) -> None:
    size = 7 * MiB
    store.write(KEY, pattern(size))
    whole = b"".join(pattern(size))
    offset = 5 * MiB - 17
    assert store.read_bytes(KEY, offset, 2 * MiB) == whole[offset : offset + 2 * MiB]


def test_negative_range_is_rejected(store: BlobStore) -> None:
    store.write(KEY, b"abc")
    with pytest.raises(ValueError):
        store.open(KEY, -1)
    with pytest.raises(ValueError):
        store.open(KEY, 0, -1)


def test_stat_and_exists(store: BlobStore) -> None:
    assert not store.exists(KEY)
    store.write(KEY, b"abc")
    assert store.exists(KEY)
    assert not store.exists("documents/ws")  # a prefix is not a blob
    assert store.stat(KEY).size == 3
    assert store.size(KEY) == 3


def test_size_of_a_prefix_or_a_missing_key_is_not_found(store: BlobStore) -> None:
    store.write(KEY, b"abc")
    for missing in ("documents/ws", "documents/ws/missing"):
        with pytest.raises(BlobNotFound):
            store.size(missing)


def test_missing_blob_raises_not_found(store: BlobStore) -> None:
    with pytest.raises(BlobNotFound, match="documents/ws/missing"):
        store.open("documents/ws/missing")
    with pytest.raises(BlobNotFound):
        store.stat("documents/ws/missing")
    with pytest.raises(BlobNotFound):
        store.read_bytes("documents/ws/missing", 3, 0)
    assert not store.exists("documents/ws/missing")


def test_delete_is_idempotent(store: BlobStore) -> None:
    store.delete(KEY)  # missing: fine
    store.write(KEY, b"abc")
    store.delete(KEY)
    store.delete(KEY)
    assert not store.exists(KEY)
    with pytest.raises(BlobNotFound):
        store.stat(KEY)


def test_list_by_prefix(store: BlobStore) -> None:
    keys = [
        "runs/w1/r1/output.xlsx",
        "runs/w1/r1/tables/1.csv",
        "runs/w1/r1/tables/2.csv",
        "runs/w1/r10/output.xlsx",
        "runs/w2/r1/output.xlsx",
        "documents/w1/d1",
    ]
    for key in keys:
        store.write(key, key.encode())
    assert list(store.list()) == sorted(keys)
    assert list(store.list("runs/w1/r1/")) == keys[:3]
    assert list(store.list("runs/w1/r1")) == keys[:4]  # a plain string prefix
    assert list(store.list("runs/w1/r1/tab")) == keys[1:3]
    assert list(store.list("runs/w3/")) == []
    assert list(store.list("nothing")) == []


def test_list_rejects_hostile_prefixes(store: BlobStore) -> None:
    for prefix in ["../", "/etc", "a//", "%2e%2e/"]:
        with pytest.raises(InvalidKey):
            store.list(prefix)


def test_check_proves_writable_and_leaves_nothing(harness: Harness) -> None:
    harness.store.check()
    assert harness.raw_objects() == []
    assert list(harness.store.list()) == []


# -- size limits and failures midway ------------------------------------------------------------


@pytest.mark.parametrize("limit", [3 * MiB, 12 * MiB], ids=["single-part", "multipart"])
def test_max_bytes_aborts_midway_and_leaves_nothing(harness: Harness, limit: int) -> None:
    store = harness.store
    pulled = 0

    def source() -> Iterator[bytes]:
        nonlocal pulled
        for chunk in pattern(40 * MiB):
            pulled += len(chunk)
            yield chunk

    with pytest.raises(BlobTooLarge, match=f"size limit of {limit} bytes") as caught:
        store.write(KEY, source(), max_bytes=limit)
    assert "\n" not in str(caught.value)
    assert pulled <= limit + MiB  # aborted at once, not after draining the source
    assert not store.exists(KEY)
    assert harness.raw_objects() == []
    assert harness.open_uploads() == []


def test_max_bytes_exact_size_is_allowed(store: BlobStore) -> None:
    assert store.write(KEY, b"x" * 100, max_bytes=100).size == 100
    with pytest.raises(BlobTooLarge):
        store.write(KEY, b"x" * 101, max_bytes=100)
    assert store.read_bytes(KEY) == b"x" * 100  # the failed write left the previous blob


@pytest.mark.parametrize("fail_after", [10, 2 * MiB, 11 * MiB], ids=["early", "1-part", "parts"])
def test_source_exception_keeps_previous_blob(harness: Harness, fail_after: int) -> None:
    store = harness.store
    previous = store.write(KEY, b"previous version")
    before = harness.raw_objects()
    with pytest.raises(Boom, match="source broke"):
        store.write(KEY, failing(fail_after))
    assert store.read_bytes(KEY) == b"previous version"
    assert store.stat(KEY) == previous
    assert harness.raw_objects() == before
    assert harness.open_uploads() == []


def test_large_object_streams_with_bounded_memory(store: BlobStore) -> None:
    size = 48 * MiB
    expected = digest_of(pattern(size))
    tracemalloc.start()
    try:
        info = store.write(KEY, pattern(size))
        _, write_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        with store.open(KEY) as chunks:
            read = digest_of(chunks)
        _, read_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (info.size, info.sha256) == expected
    assert read == expected
    # S3 run: 5 MiB parts x (2 threads + 1 read ahead) plus one part being assembled.
    assert write_peak < size // 2, f"write peak {write_peak / MiB:.1f} MiB"
    assert read_peak < 8 * MiB, f"read peak {read_peak / MiB:.1f} MiB"


def test_concurrent_writers_leave_one_complete_blob(harness: Harness) -> None:
    store = harness.store
    size = 6 * MiB + 1  # multipart in the S3 run
    digests = {seed: digest_of(pattern(size, seed)) for seed in range(4)}
    errors: list[BaseException] = []

    def writer(seed: int) -> None:
        try:
            store.write(KEY, pattern(size, seed))
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(seed,)) for seed in digests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with store.open(KEY) as chunks:
        content = digest_of(chunks)
    assert content in digests.values()
    info = store.stat(KEY)
    assert (info.size, info.sha256) == content  # digest belongs to the bytes that won
    assert list(store.list()) == [KEY]
    assert [k for k in harness.raw_objects() if "/.ade-tmp/" in k or "/.tmp-" in k] == []
    assert harness.open_uploads() == []


# -- hostile keys ------------------------------------------------------------------------------

HOSTILE_KEYS = [
    "../x",
    "a/../../x",
    "..",
    "./x",
    "/abs",
    "/etc/passwd",
    "a//b",
    "a/",
    "a\\b",
    "..\\x",
    "%2e%2e/x",
    "%2E%2E%2Fx",
    "a/%2F/b",
    "a/%252e%252e/b",
    "a\x00b",
    "a\nb",
    "",
    ".hidden",
    "a/.tmp-x.part",
    "C:/x",
    "a" * 600,
]


@pytest.mark.parametrize("key", HOSTILE_KEYS)
def test_hostile_keys_are_refused_everywhere(harness: Harness, key: str) -> None:
    store = harness.store
    with pytest.raises(InvalidKey) as caught:
        store.write(key, b"evil")
    assert "\n" not in str(caught.value)
    with pytest.raises(InvalidKey):
        store.open(key)
    with pytest.raises(InvalidKey):
        store.stat(key)
    with pytest.raises(InvalidKey):
        store.exists(key)
    with pytest.raises(InvalidKey):
        store.delete(key)
    assert harness.raw_objects() == []
