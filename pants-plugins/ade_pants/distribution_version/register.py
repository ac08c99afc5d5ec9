"""Version every ADE distribution from the one `src/python/ade/VERSION` file.

BUILD files cannot read files, so without this each `python_artifact(...)` would repeat the
version. The same file ships as a resource and is what `ade --version` prints, so the wheels,
the PEX and the CLI can never disagree.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pants.backend.python.util_rules.package_dists import SetupKwargs, SetupKwargsRequest
from pants.engine.fs import DigestContents, GlobMatchErrorBehavior, PathGlobs
from pants.engine.rules import Get, collect_rules, rule
from pants.engine.target import Target
from pants.engine.unions import UnionRule
from pants.util.strutil import softwrap

VERSION_FILE = "src/python/ade/VERSION"


class AdeSetupKwargsRequest(SetupKwargsRequest):
    @classmethod
    def is_applicable(cls, target: Target) -> bool:
        return True


@rule
async def ade_setup_kwargs(request: AdeSetupKwargsRequest) -> SetupKwargs:
    kwargs = request.explicit_kwargs
    if "version" in kwargs:
        raise ValueError(
            softwrap(
                f"""
                {request.target.address} sets `version` in python_artifact(); remove it, ADE's
                version comes from {VERSION_FILE}.
                """
            )
        )
    contents = await Get(
        DigestContents,
        PathGlobs(
            [VERSION_FILE],
            glob_match_error_behavior=GlobMatchErrorBehavior.error,
            description_of_origin="the version of every ADE distribution (ade_pants plugin)",
        ),
    )
    kwargs["version"] = contents[0].content.decode().strip()
    return SetupKwargs(kwargs, address=request.target.address)


def rules() -> Iterable[Any]:
    return [*collect_rules(), UnionRule(SetupKwargsRequest, AdeSetupKwargsRequest)]
