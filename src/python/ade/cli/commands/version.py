"""ADE's version, read from the one `ade/VERSION` file that also versions every distribution."""

from __future__ import annotations

from importlib.resources import files


def ade_version() -> str:
    """The release this code belongs to; the same file sets the wheels' versions at build time."""
    return (files("ade") / "VERSION").read_text(encoding="utf-8").strip()
