"""Local-filesystem blob store: one file per key under a root folder (the default backend).

Atomicity: a write streams into a temporary file in the destination folder (same filesystem, so
the final step is a rename), fsyncs it, ``os.replace``-s it over the key's file and fsyncs the
folder so the rename itself survives a crash. Readers hold an open file, so a concurrent replace
never changes the bytes they are reading. Temporary files start with ``.``, which valid keys
never do, so listings never show them and a crash leaves only ignorable ``.tmp-*`` files.

Containment: every key is validated (:mod:`ade.storage.keys`) and then the joined path is
resolved (following symlinks) and must still lie inside the resolved root; a symlink pointing
out of the root is refused for reads and writes alike.

sha256 in ``stat``: computed by reading the file. The alternatives were a sidecar file (a second
file that cannot be renamed atomically together with the blob, so it can go stale) or extended
attributes (not on every filesystem, lost by ``cp``/backup tools). The blob itself is the only
source of truth; ``write`` already returns the digest, so callers that need it cheaply store it
(the database does) and ``stat``'s digest is for verification, where reading is the point.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import tempfile
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from ade.storage.base import (
    CHUNK_SIZE,
    BlobEntry,
    BlobInfo,
    BlobStore,
    ChunkStream,
    HashingReader,
    Leftover,
    Source,
    check_range,
    effective_limit,
)
from ade.storage.errors import (
    BlobNotFound,
    InvalidKey,
    StorageError,
    StorageMisconfigured,
    StorageUnavailable,
)
from ade.storage.keys import validate_key, validate_prefix


def _os_error(error: OSError, what: str) -> StorageError:
    """Map an OSError from our own file operations to the library's error types."""
    reason = error.strerror or type(error).__name__
    if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return StorageMisconfigured(f"cannot {what}: {reason} ({error.filename})")
    if error.errno in (errno.ENOSPC, errno.EDQUOT, errno.EIO):
        return StorageUnavailable(f"cannot {what}: {reason}")
    return StorageError(f"cannot {what}: {reason}")


TEMP_PREFIX = ".tmp-"
TEMP_SUFFIX = ".part"
PROBE_PREFIX = ".ade-check-"


def _is_temporary(name: str) -> bool:
    """A name only this backend's own writes and probes use (valid keys never start with '.')."""
    return (name.startswith(TEMP_PREFIX) and name.endswith(TEMP_SUFFIX)) or name.startswith(
        PROBE_PREFIX
    )


def _modified(status: os.stat_result) -> datetime:
    return datetime.fromtimestamp(status.st_mtime, UTC)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class LocalBlobStore(BlobStore):
    """Blobs as files under ``root`` (created on first write)."""

    backend = "local"

    def __init__(self, root: Path, max_object_bytes: int | None = None) -> None:
        self._root = Path(os.path.abspath(root))
        self._max_object_bytes = max_object_bytes

    @property
    def location(self) -> str:
        return str(self._root)

    def _resolved_root(self) -> Path:
        root = self._root.resolve()
        if root.exists() and not root.is_dir():
            raise StorageMisconfigured(f"storage root {self._root} is not a folder")
        return root

    def _path(self, key: str) -> Path:
        """The file for ``key``, after proving it lies inside the root (symlinks resolved)."""
        validate_key(key)
        root = self._resolved_root()
        target = (root / key).resolve()
        if target == root or not target.is_relative_to(root):
            raise InvalidKey(f"invalid blob key {key!r}: resolves outside the storage root")
        return target

    # -- writing -------------------------------------------------------------------------------

    def _write_file(self, target: Path, reader: HashingReader, what: str) -> None:
        parent = target.parent
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise StorageError(f"cannot {what}: a blob exists where a folder is needed") from None
        except OSError as error:
            raise _os_error(error, what) from None
        try:
            fd, tmp_name = tempfile.mkstemp(dir=parent, prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX)
        except OSError as error:
            raise _os_error(error, what) from None
        tmp = Path(tmp_name)
        try:
            with open(fd, "w+b") as out:  # readable too: a file copy reads back what it hashes
                reader.copy_to(out)  # BufferedWriter: loops over short writes for us
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, target)
        except BaseException as error:
            tmp.unlink(missing_ok=True)
            if reader.error is not None or not isinstance(error, OSError):
                raise  # the source's own failure (or the size limit): propagate unchanged
            if isinstance(error, IsADirectoryError):
                raise StorageError(f"cannot {what}: a folder exists under that key") from None
            raise _os_error(error, what) from None
        try:
            _fsync_dir(parent)
        except OSError as error:
            raise _os_error(error, what) from None

    def write(self, key: str, source: Source, max_bytes: int | None = None) -> BlobInfo:
        target = self._path(key)
        reader = HashingReader(source, key, effective_limit(max_bytes, self._max_object_bytes))
        self._write_file(target, reader, f"write {key}")
        return reader.info()

    # -- reading -------------------------------------------------------------------------------

    def open(self, key: str, offset: int = 0, length: int | None = None) -> ChunkStream:
        check_range(offset, length)
        path = self._path(key)
        try:
            handle = open(path, "rb")  # noqa: SIM115 - closed by the ChunkStream
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise BlobNotFound(key) from None
        except OSError as error:
            raise _os_error(error, f"read {key}") from None
        try:
            if offset:
                handle.seek(offset)
        except OSError as error:
            handle.close()
            raise _os_error(error, f"read {key}") from None

        def chunks() -> Iterator[bytes]:
            remaining = length
            while remaining is None or remaining > 0:
                size = CHUNK_SIZE if remaining is None else min(CHUNK_SIZE, remaining)
                try:
                    chunk = handle.read(size)
                except OSError as error:
                    raise _os_error(error, f"read {key}") from None
                if not chunk:
                    return
                if remaining is not None:
                    remaining -= len(chunk)
                yield chunk

        return ChunkStream(chunks(), handle.close)

    def stat(self, key: str) -> BlobInfo:
        path = self._path(key)
        try:
            with open(path, "rb") as handle:
                # size and digest from the same open file: consistent even during a replace
                size = os.fstat(handle.fileno()).st_size
                digest = hashlib.file_digest(handle, "sha256").hexdigest()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise BlobNotFound(key) from None
        except OSError as error:
            raise _os_error(error, f"stat {key}") from None
        return BlobInfo(key=key, size=size, sha256=digest)

    def size(self, key: str) -> int:
        path = self._path(key)
        try:
            status = path.stat()
        except (FileNotFoundError, NotADirectoryError):
            raise BlobNotFound(key) from None
        except OSError as error:
            raise _os_error(error, f"stat {key}") from None
        if not stat.S_ISREG(status.st_mode):
            raise BlobNotFound(key)  # a folder of other keys, not a blob
        return status.st_size

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        path = self._path(key)
        try:
            path.unlink()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return  # not a blob: nothing to delete
        except OSError as error:
            raise _os_error(error, f"delete {key}") from None

    def list(self, prefix: str = "") -> Iterator[str]:
        validate_prefix(prefix)
        root = self._resolved_root()
        start = root / prefix.rpartition("/")[0]
        if not start.is_dir():
            return iter(())
        keys = []
        # followlinks=False: a symlinked folder is never walked, so listing cannot leave the root
        for folder, dirs, files in os.walk(start, followlinks=False):
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            relative = Path(folder).relative_to(root).as_posix()
            for name in files:
                if name.startswith("."):
                    continue  # temporary files and probes
                key = name if relative == "." else f"{relative}/{name}"
                if key.startswith(prefix):
                    keys.append(key)
        return iter(sorted(keys))

    def entries(self, prefix: str = "") -> Iterator[BlobEntry]:
        root = self._resolved_root()
        for key in self.list(prefix):
            try:
                status = (root / key).stat()
            except FileNotFoundError:
                continue  # deleted since the listing
            except OSError as error:
                raise _os_error(error, f"stat {key}") from None
            yield BlobEntry(key=key, size=status.st_size, modified=_modified(status))

    def leftovers(self) -> Iterator[Leftover]:
        root = self._resolved_root()
        if not root.is_dir():
            return
        for folder, dirs, files in os.walk(root, followlinks=False):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in sorted(files):
                if not _is_temporary(name):
                    continue
                path = Path(folder) / name
                try:
                    status = path.lstat()
                except FileNotFoundError:
                    continue  # its write just finished (renamed) or failed (removed)
                yield Leftover(
                    kind="temporary",
                    name=path.relative_to(root).as_posix(),
                    size=status.st_size,
                    modified=_modified(status),
                )

    def remove_leftover(self, leftover: Leftover) -> None:
        root = self._resolved_root()
        path = root / leftover.name
        if (
            leftover.kind != "temporary"
            or not _is_temporary(path.name)
            or not path.parent.resolve().is_relative_to(root)
        ):
            raise InvalidKey(f"not a temporary file of this store: {leftover.name!r}")
        try:
            path.unlink(missing_ok=True)
        except OSError as error:
            raise _os_error(error, f"delete {leftover.name}") from None

    def check(self) -> None:
        what = f"write to storage root {self._root}"
        try:
            self._root.mkdir(parents=True, exist_ok=True)
        except FileExistsError:
            raise StorageMisconfigured(f"storage root {self._root} is not a folder") from None
        except OSError as error:
            raise _os_error(error, what) from None
        root = self._resolved_root()
        probe = root / f"{PROBE_PREFIX}{uuid.uuid4().hex}"
        payload = b"ade storage check\n"
        reader = HashingReader(payload, probe.name, None)
        self._write_file(probe, reader, what)
        try:
            if probe.read_bytes() != payload:
                raise StorageError(f"storage root {self._root} returned different bytes")
        except OSError as error:
            raise _os_error(error, f"read from storage root {self._root}") from None
        finally:
            probe.unlink(missing_ok=True)
