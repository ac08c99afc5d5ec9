"""Blob key layout and validation: the ONE place that builds and checks keys.

Services never format keys themselves; they call the builders below with ids, so the layout can
change in one place and no caller can smuggle ``../`` into a key.

Layout::

    documents/{workspace_id}/{document_id}
    runs/{workspace_id}/{run_id}/output.xlsx
    runs/{workspace_id}/{run_id}/tables/{n}.csv
    runs/{workspace_id}/{run_id}/summary.json
    runs/{workspace_id}/{run_id}/log.ndjson

:func:`owner_of` reads the layout back (which document or run a key belongs to), for the
garbage collector that removes blobs no database row points at.

Keys are deliberately a small alphabet (``[A-Za-z0-9._-]`` segments joined by ``/``): it is a
valid file name on every filesystem and a valid S3 key everywhere, and whitelisting is what makes
the long list of traversal tricks (``..``, ``%2e%2e``, ``\\``, NUL, ``C:``...) fail by
construction. The explicit checks before the whitelist exist to give a precise message.
Segments starting with ``.`` are reserved for the backends' own temporary objects.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal
from urllib.parse import unquote
from uuid import UUID

from ade.storage.errors import InvalidKey

MAX_KEY_BYTES = 512
"""Leaves room for an S3 prefix inside S3's 1024-byte key limit."""

MAX_SEGMENT_BYTES = 255
"""NAME_MAX of common filesystems."""

_SEGMENT = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*\Z")


def _fail(key: str, reason: str) -> InvalidKey:
    return InvalidKey(f"invalid blob key {key!r}: {reason}")


def _check_structure(key: str, shown: str) -> None:
    """Checks that apply to both the raw key and its percent-decoded form."""
    if any(unicodedata.category(ch) == "Cc" for ch in key):
        raise _fail(shown, "contains a control character (NUL, newline...)")
    if "\\" in key:
        raise _fail(shown, "contains a backslash")
    if key.startswith("/"):
        raise _fail(shown, "is an absolute path")
    if key.endswith("/"):
        raise _fail(shown, "ends with '/'")
    segments = key.split("/")
    if any(seg == "" for seg in segments):
        raise _fail(shown, "has an empty path segment ('//')")
    if any(seg in (".", "..") for seg in segments):
        raise _fail(shown, "contains a '.' or '..' segment")


def validate_key(key: str) -> str:
    """Return ``key`` unchanged if it is a safe blob key, else raise :class:`InvalidKey`."""
    if not isinstance(key, str):
        raise InvalidKey(f"invalid blob key {key!r}: not a string")
    if not key:
        raise InvalidKey("invalid blob key '': empty")
    if len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        raise _fail(key[:40] + "...", f"longer than {MAX_KEY_BYTES} bytes")
    _check_structure(key, key)
    if "%" in key:
        # Decode first (repeatedly: %252e is %2e once decoded) so the message names the trick;
        # then refuse anyway, because some layer (a proxy, a URL router) may decode it later.
        decoded = key
        for _ in range(5):
            step = unquote(decoded)
            if step == decoded:
                break
            decoded = step
        _check_structure(decoded, key)
        raise _fail(key, "contains '%' (percent-encoding is not allowed in keys)")
    for seg in key.split("/"):
        if len(seg.encode("utf-8")) > MAX_SEGMENT_BYTES:
            raise _fail(key, f"has a segment longer than {MAX_SEGMENT_BYTES} bytes")
        if seg.startswith("."):
            raise _fail(key, f"segment {seg!r} starts with '.' (reserved for the store)")
        if not _SEGMENT.match(seg):
            raise _fail(key, f"segment {seg!r} has characters outside [A-Za-z0-9._-]")
    return key


def validate_prefix(prefix: str) -> str:
    """Validate a listing prefix: ``""`` (everything) or a key prefix, optionally ending in ``/``.

    The last segment may be partial (``runs/ws/run/tab`` matches ``.../tables/...``).
    """
    if prefix == "":
        return prefix
    validate_key(prefix[:-1] if prefix.endswith("/") else prefix)
    return prefix


def _id(value: UUID | str, what: str) -> str:
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, str):
        try:
            parsed = UUID(value)
        except ValueError:
            pass
        else:
            # Only the canonical spelling: "{...}", "urn:uuid:" and upper case would build
            # different keys for the same id.
            if str(parsed) == value:
                return value
    raise InvalidKey(f"invalid {what} {value!r}: expected a UUID")


def document_key(workspace_id: UUID | str, document_id: UUID | str) -> str:
    """Key of an uploaded document's original bytes."""
    return f"documents/{_id(workspace_id, 'workspace id')}/{_id(document_id, 'document id')}"


def run_prefix(workspace_id: UUID | str, run_id: UUID | str) -> str:
    """Prefix (ending in ``/``) under which every artifact of one run lives; for listing."""
    return f"runs/{_id(workspace_id, 'workspace id')}/{_id(run_id, 'run id')}/"


def run_output_key(workspace_id: UUID | str, run_id: UUID | str) -> str:
    """The run's normalized workbook."""
    return run_prefix(workspace_id, run_id) + "output.xlsx"


def run_table_key(workspace_id: UUID | str, run_id: UUID | str, n: int) -> str:
    """The run's ``n``-th extracted table as CSV (``n`` counts from 1)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise InvalidKey(f"invalid table number {n!r}: expected an integer >= 1")
    return run_prefix(workspace_id, run_id) + f"tables/{n}.csv"


def run_summary_key(workspace_id: UUID | str, run_id: UUID | str) -> str:
    """The run's machine-readable summary."""
    return run_prefix(workspace_id, run_id) + "summary.json"


def run_log_key(workspace_id: UUID | str, run_id: UUID | str) -> str:
    """The run's event log, one JSON object per line."""
    return run_prefix(workspace_id, run_id) + "log.ndjson"


@dataclass(frozen=True, slots=True)
class KeyOwner:
    """The row a blob key belongs to by the layout above: a document, or a run (for every one
    of its artifacts)."""

    kind: Literal["document", "run"]
    workspace_id: UUID
    id: UUID


def _canonical_uuid(text: str) -> UUID | None:
    try:
        value = UUID(text)
    except ValueError:
        return None
    return value if str(value) == text else None


def owner_of(key: str) -> KeyOwner | None:
    """Which document or run ``key`` belongs to; None for a key this layout never builds."""
    parts = key.split("/")
    if len(parts) < 3:
        return None
    workspace, item = _canonical_uuid(parts[1]), _canonical_uuid(parts[2])
    if workspace is None or item is None:
        return None
    if parts[0] == "documents" and len(parts) == 3:
        return KeyOwner("document", workspace, item)
    if parts[0] == "runs" and len(parts) >= 4:
        return KeyOwner("run", workspace, item)
    return None
