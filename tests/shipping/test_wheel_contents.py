"""Each wheel holds its own package and nothing else, with its migrations and metadata."""

from __future__ import annotations

import re
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

from tests.shipping.artifacts import version, wheel

OWNED = {
    "ade-db": ("ade/db/",),
    "ade-storage": ("ade/storage/",),
    "ade-backend": ("ade/api/", "ade/worker/", "ade/cli/"),
}


def _names(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as archive:
        return archive.namelist()


def _metadata(path: Path) -> dict[str, list[str]]:
    with zipfile.ZipFile(path) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        message = Parser().parsestr(archive.read(name).decode())
    fields: dict[str, list[str]] = {}
    for key, value in message.items():
        fields.setdefault(key, []).append(value)
    fields["_body"] = [str(message.get_payload())]
    return fields


@pytest.mark.parametrize("distribution", sorted(OWNED))
def test_wheel_holds_only_its_own_package(distribution: str) -> None:
    files = [n for n in _names(wheel(distribution)) if ".dist-info/" not in n]
    assert files, f"{distribution} wheel is empty"
    strays = [n for n in files if not n.startswith(OWNED[distribution])]
    assert strays == [], f"{distribution} carries files of another package: {strays}"


def test_ade_db_ships_its_migrations() -> None:
    files = set(_names(wheel("ade-db")))
    for required in (
        "ade/db/alembic.ini",
        "ade/db/migrations/env.py",
        "ade/db/migrations/script.py.mako",
        "ade/db/default_configuration.json",
    ):
        assert required in files, f"ade-db wheel misses {required}"
    revisions = [
        n for n in files if n.startswith("ade/db/migrations/versions/") and n.endswith(".py")
    ]
    assert revisions, "ade-db wheel has no Alembic revisions"


def test_ade_backend_ships_the_web_pages_assets() -> None:
    """Templates and static files are package data: a wheel without them serves no page."""
    from ade.api.web.pages import HERE  # the source tree's web package (a resource dependency)

    expected = {
        f"ade/api/web/{path.relative_to(HERE).as_posix()}"
        for folder in ("templates", "static")
        for path in (HERE / folder).iterdir()
    }
    assert {"ade/api/web/static/ade.js", "ade/api/web/templates/run.html"} <= expected
    missing = expected - set(_names(wheel("ade-backend")))
    assert missing == set(), f"ade-backend wheel misses {sorted(missing)}"


@pytest.mark.parametrize("distribution", sorted(OWNED))
def test_wheel_metadata_is_complete(distribution: str) -> None:
    meta = _metadata(wheel(distribution))
    assert meta["Name"] == [distribution]
    assert meta["Version"] == [version()]
    assert meta["Summary"][0].strip()
    assert meta["License"][0].strip()
    assert meta["Requires-Python"] == [">=3.11,<3.12"]
    assert any("Python :: 3.11" in c for c in meta["Classifier"])
    assert distribution in meta["_body"][0], "the long description is missing"


def test_backend_requires_the_libraries_instead_of_copying_them() -> None:
    requires = _metadata(wheel("ade-backend"))["Requires-Dist"]
    # Spelled `ade-db (==0.1.0)` or `ade-db==0.1.0` depending on the setuptools version.
    pinned = {r.replace(" ", "").replace("(", "").replace(")", "") for r in requires}
    assert f"ade-db=={version()}" in pinned
    assert f"ade-storage=={version()}" in pinned
    assert not any(r.startswith("boto3") for r in pinned), "boto3 belongs to ade-storage"


def test_ade_db_offers_postgresql_as_an_extra() -> None:
    meta = _metadata(wheel("ade-db"))
    assert "postgresql" in meta["Provides-Extra"]
    psycopg = [r for r in meta["Requires-Dist"] if r.startswith("psycopg")]
    assert psycopg and all("extra ==" in r for r in psycopg), psycopg


def _is_type_stubs(requirement: str) -> bool:
    name = re.split(r"[ \[;(<>=!~]", requirement, maxsplit=1)[0].lower()
    return name.startswith("types-") or name.endswith("-stubs")


@pytest.mark.parametrize("distribution", sorted(OWNED))
def test_wheel_does_not_require_type_stubs(distribution: str) -> None:
    """Stubs serve mypy in this repo; a user installing a wheel must not download them."""
    requires = _metadata(wheel(distribution)).get("Requires-Dist", [])
    assert requires  # every ADE wheel needs something; an empty list would prove nothing
    assert [r for r in requires if _is_type_stubs(r)] == []
