"""Untrusted file names: cleaning them for storage and quoting them for downloads.

A client's file name is metadata only: blob keys are built from ids (``ade.storage.keys``), so
no name can reach a path. Still, names are echoed in listings and ``Content-Disposition``, so
they are reduced to a harmless display name: path components stripped (both ``/`` and ``\\``),
control and format characters (NUL, newlines, bidi overrides) removed, Unicode normalized (NFC),
leading dots removed (no hidden files when saved), and length bounded.
"""

from __future__ import annotations

import mimetypes
import re
import unicodedata
from urllib.parse import quote

MAX_FILENAME_CHARS = 200
DEFAULT_FILENAME = "upload"
_CONTENT_TYPE = re.compile(
    r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,63}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\Z"
)


def sanitize_filename(name: str | None) -> str:
    if not name:
        return DEFAULT_FILENAME
    name = unicodedata.normalize("NFC", name)
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co"))
    name = " ".join(name.split())  # collapse whitespace runs, strip the ends
    name = name.lstrip(".").strip()
    if name in ("", ".", ".."):
        return DEFAULT_FILENAME
    if len(name) > MAX_FILENAME_CHARS:
        stem, dot, ext = name.rpartition(".")
        if dot and 0 < len(ext) <= 16:
            name = stem[: MAX_FILENAME_CHARS - len(ext) - 1] + "." + ext
        else:
            name = name[:MAX_FILENAME_CHARS]
    return name


def clean_content_type(declared: str | None, filename: str) -> str:
    """The declared media type if well-formed (parameters dropped), else a guess from the name."""
    if declared:
        main = declared.split(";", 1)[0].strip().lower()
        if _CONTENT_TYPE.match(main) and main != "application/octet-stream":
            return main
    guessed, _ = mimetypes.guess_type(filename, strict=False)
    return guessed or "application/octet-stream"


def content_disposition(filename: str, disposition: str = "attachment") -> str:
    """RFC 6266: an ASCII fallback ``filename`` plus the exact name as ``filename*`` (UTF-8)."""
    fallback = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    fallback = re.sub(r"[^A-Za-z0-9 ._()-]", "_", fallback).strip() or "download"
    encoded = quote(filename, safe="")
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"
