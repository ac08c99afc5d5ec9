"""Copy a regular file into the local store inside the kernel, hashing the bytes that landed.

Copying through Python moves every byte across the kernel boundary twice (read into a buffer,
then write it out); on the 2-core VM of the README's benchmark a 1 GiB local write took 1.7-4 s
that way although sha256 itself runs at 0.9-1.3 GB/s there. Here
``copy_file_range`` (or ``sendfile`` where the two files sit on different filesystems) copies in
the kernel, one segment at a time, on a helper thread that also starts each segment's writeback;
meanwhile this thread hashes each finished segment by reading it back from the destination. The
write then costs about one sha256 pass, and the digest is that of the stored bytes (also when
the source changes during the copy), which is the store's guarantee.

Only plain binary files (``open(path, "rb")``) of non-zero size take this path; everything else
(pipes, sockets, ``io.BytesIO``, spooled uploads, iterators, ``/proc`` files) goes through
:meth:`HashingReader.copy_to`'s user-space loop. Where the kernel cannot copy between the two
files at all, nothing is written and the caller falls back to that loop.
"""

from __future__ import annotations

import errno
import io
import os
import queue
import stat
import threading
from typing import IO, Any, NamedTuple

SEGMENT_SIZE = 32 * 1024 * 1024
"""Bytes per kernel copy: large enough that a syscall is cheap beside it, small enough that
hashing starts at once and writeback proceeds in steps."""

_HASH_BUFFER_SIZE = 1024 * 1024

# What copy_file_range/sendfile answer when they cannot copy between these two files: an old
# kernel, a filesystem without support, two filesystems they will not copy between.
_UNSUPPORTED = {errno.ENOSYS, errno.EXDEV, errno.EINVAL, errno.EOPNOTSUPP, errno.EBADF}


class Unsupported(Exception):
    """The kernel cannot copy between these two files; nothing was written."""


class FileSource(NamedTuple):
    """A plain binary file ready for a kernel copy: where to copy from, and how much is there."""

    file: io.BufferedReader | io.BufferedRandom | io.FileIO
    fd: int
    offset: int
    remaining: int


def regular_file_source(source: object) -> FileSource | None:
    """``source`` as a :class:`FileSource` if it is a plain binary file, else None.

    The offset is the file object's logical position (``tell()`` accounts for its read-ahead
    buffer), so a partly consumed file is copied from where its reader stands.
    """
    if not isinstance(source, io.BufferedReader | io.BufferedRandom | io.FileIO):
        return None
    try:
        fd = source.fileno()
        status = os.fstat(fd)
        # A zero size may be a lie: /proc and /sys files report 0 and still have content, and
        # the kernel copy trusts the size. The user-space loop reads them correctly.
        if not stat.S_ISREG(status.st_mode) or status.st_size == 0:
            return None
        offset = source.tell()
        return FileSource(source, fd, offset, status.st_size - offset)
    except (OSError, ValueError):  # closed, unseekable, or not backed by a descriptor
        return None


def writable_regular_file(out: IO[bytes]) -> int | None:
    """The descriptor of ``out`` if the copy can both write it and read it back, else None."""
    try:
        fd = out.fileno()
        if not (out.readable() and stat.S_ISREG(os.fstat(fd).st_mode)):
            return None
        return fd
    except (OSError, ValueError, AttributeError):
        return None


def _kernel_copy(src_fd: int, dst_fd: int, count: int, src_offset: int, dst_offset: int) -> int:
    """Copy up to ``count`` bytes at the given offsets; 0 at the end of the source."""
    try:
        return os.copy_file_range(src_fd, dst_fd, count, src_offset, dst_offset)
    except OSError as error:
        if error.errno not in _UNSUPPORTED:
            raise
    # sendfile copies between any two filesystems but writes at the destination's position.
    os.lseek(dst_fd, dst_offset, os.SEEK_SET)
    try:
        return os.sendfile(dst_fd, src_fd, src_offset, count)
    except OSError as error:
        if error.errno in _UNSUPPORTED:
            raise Unsupported(str(error)) from None
        raise


def copy_and_hash(
    src_fd: int,
    src_offset: int,
    dst_fd: int,
    dst_offset: int,
    digest: Any,
    max_bytes: int | None,
) -> int:
    """Copy the source from ``src_offset`` to its end into ``dst_fd``; return the byte count.

    ``digest`` (a hashlib object) is updated with the destination's bytes in order. At most
    ``max_bytes + 1`` bytes are copied when a limit is given, so the caller can tell "exactly at
    the limit" from "over it" without copying a huge file first. Raises :class:`Unsupported`
    (before any byte is written) when the kernel cannot copy between these files.
    """
    if not hasattr(os, "copy_file_range"):  # not Linux: no kernel copy
        raise Unsupported("os.copy_file_range is not available")
    segments: queue.SimpleQueue[tuple[int, int] | BaseException | None] = queue.SimpleQueue()
    stop = threading.Event()

    def copy_segments() -> None:
        copied = 0
        try:
            while not stop.is_set():
                want = SEGMENT_SIZE
                if max_bytes is not None:
                    want = min(want, max_bytes + 1 - copied)
                    if want <= 0:
                        break
                count = _kernel_copy(src_fd, dst_fd, want, src_offset + copied, dst_offset + copied)
                if count == 0:
                    break
                # Start this segment's writeback now, while the other thread hashes it, so the
                # caller's final fsync finds little left to do.
                os.fdatasync(dst_fd)
                segments.put((copied, count))
                copied += count
        except BaseException as error:  # handed to the hashing thread, which re-raises it
            segments.put(error)
        finally:
            segments.put(None)

    copier = threading.Thread(target=copy_segments, name="ade-storage-copy", daemon=True)
    copier.start()
    buffer = memoryview(bytearray(_HASH_BUFFER_SIZE))
    total = 0
    try:
        while (segment := segments.get()) is not None:
            if isinstance(segment, Unsupported) and total:
                # copied some and then could not go on: not a clean "nothing written" any more
                raise OSError(errno.EIO, f"the kernel copy stopped midway: {segment}")
            if isinstance(segment, BaseException):
                raise segment
            start, count = segment
            position, end = dst_offset + start, dst_offset + start + count
            while position < end:
                got = os.preadv(dst_fd, [buffer[: min(len(buffer), end - position)]], position)
                if got == 0:
                    raise OSError(errno.EIO, "the copied file is shorter than what was copied")
                digest.update(buffer[:got])
                position += got
            total += count
    finally:
        stop.set()
        copier.join()  # never leave a thread writing into a file the caller is about to close
    return total
