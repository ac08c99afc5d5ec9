"""HTTP ``Range`` requests (RFC 9110 section 14) for downloads: one byte range per request.

What the RFC allows a server to do, this one does, so the rule fits in the header's description:

- one well-formed byte range (``bytes=START-END``, ``bytes=START-``, ``bytes=-SUFFIX``) that
  overlaps the body: 206 with that part;
- a well-formed range that cannot be satisfied (it starts at or beyond the end, or asks for a
  suffix of 0 bytes): 416 with ``Content-Range: bytes */size`` so the client learns the size;
- anything else (several ranges, another unit, a malformed value, an end before its start):
  the header is ignored and the whole body is served (200), as RFC 9110 permits.
"""

from __future__ import annotations

import re

from ade.api.problems import ApiError

_RANGE = re.compile(r"bytes=(\d*)-(\d*)\Z")
RANGE_DESCRIPTION = (
    "One byte range: `bytes=START-END`, `bytes=START-` or `bytes=-SUFFIX` answers 206, or 416 if "
    "it starts beyond the end. Any other value is ignored (the whole body, 200)."
)


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """``(start, end_inclusive)`` to serve, or None for the whole body; 416 when unsatisfiable."""
    if header is None:
        return None
    match = _RANGE.match(header.strip().replace(" ", ""))
    if match is None:
        return None
    first, last = match.group(1), match.group(2)
    if first == "":
        if last == "":
            return None
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise _unsatisfiable(size, "empty suffix range")
        return max(size - suffix, 0), size - 1
    start = int(first)
    if last and int(last) < start:
        return None
    if start >= size:
        raise _unsatisfiable(size, f"range starts at {start}, beyond the {size}-byte body")
    return start, min(int(last) if last else size - 1, size - 1)


def _unsatisfiable(size: int, detail: str) -> ApiError:
    return ApiError(
        416, detail, code="range-not-satisfiable", headers={"Content-Range": f"bytes */{size}"}
    )
