"""ADE's version, from the one `src/python/ade/VERSION` file that also versions every wheel.

It lives in ade.api because the API states it in its OpenAPI document and the CLI, which may use
every package, prints it for `ade --version`; the services may not import the CLI.
"""

from __future__ import annotations

from importlib import metadata
from importlib.resources import files


def ade_version() -> str:
    """The release this code belongs to.

    From sources and the PEX, `ade/VERSION` sits next to the code. Wheels cannot carry a data
    file in the `ade` namespace folder, so an installed ade-backend answers from its metadata,
    whose version the build took from that same file.
    """
    version_file = files("ade") / "VERSION"
    if version_file.is_file():
        return version_file.read_text(encoding="utf-8").strip()
    return metadata.version("ade-backend")
