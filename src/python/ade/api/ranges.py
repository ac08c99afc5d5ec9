"""HTTP ``Range`` requests (RFC 9110 section 14) for downloads: one byte range per request.

Multiple ranges (``bytes=0-1,5-6``) are answered with the whole body (200), which the RFC
allows and which avoids multipart/byteranges. A range that is malformed or lies beyond the end
answers 416 with ``Content-Range: bytes */size`` so the client learns the real size.
"""

from __future__ import annotations

import re

from ade.api.problems import ApiError

_RANGE = re.compile(r"bytes=(\d*)-(\d*)\Z")


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """``(start, end_inclusive)`` to serve, or None for the whole body; 416 when unsatisfiable."""
    if header is None:
        return None
    value = header.strip()
    if value.startswith("bytes=") and "," in value:
        return None
    match = _RANGE.match(value.replace(" ", ""))
    if match is None or (match.group(1) == "" and match.group(2) == ""):
        raise _unsatisfiable(size, "malformed Range header: expected bytes=START-END")
    first, last = match.group(1), match.group(2)
    if first == "":
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise _unsatisfiable(size, "empty suffix range")
        return max(size - suffix, 0), size - 1
    start = int(first)
    end = int(last) if last else size - 1
    if end < start:
        raise _unsatisfiable(size, "range end before its start")
    if start >= size:
        raise _unsatisfiable(size, f"range starts at {start}, beyond the {size}-byte body")
    return start, min(end, size - 1)


def _unsatisfiable(size: int, detail: str) -> ApiError:
    return ApiError(
        416, detail, code="range-not-satisfiable", headers={"Content-Range": f"bytes */{size}"}
    )
