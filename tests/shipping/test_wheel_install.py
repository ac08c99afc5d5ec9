"""The wheels work where Pants is not: installed by pip into fresh virtual environments.

Third-party dependencies come from the package index, as they would for a user; nothing of
this repository is on sys.path (each command runs from an empty folder with a clean environment).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.shipping.artifacts import clean_env, fresh_venv, pip_install, run, version, wheel


@pytest.fixture(scope="module")
def pip_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pip-cache")


def test_libraries_alone_migrate_and_store(tmp_path: Path, pip_cache: Path) -> None:
    env = clean_env(tmp_path / "home", {"PIP_CACHE_DIR": str(pip_cache)})
    (tmp_path / "home").mkdir()
    python = fresh_venv(tmp_path / "venv")
    pip_install(python, [wheel("ade-db"), wheel("ade-storage")], env)

    script = textwrap.dedent(
        """
        import io, sys
        from pathlib import Path
        import ade.db, ade.storage
        from ade.db.migrate import current, upgrade
        from ade.storage.local import LocalBlobStore

        # Imported from the installed wheels, not from a checkout.
        assert "site-packages" in ade.db.__file__ and "site-packages" in ade.storage.__file__

        url = "sqlite:///" + str(Path("work/ade.sqlite").resolve())
        Path("work").mkdir()
        upgrade(url, "head")
        state = current(url)
        assert state.at_head, state

        store = LocalBlobStore(Path("work/blobs").resolve())
        info = store.write("documents/a/b.csv", io.BytesIO(b"x,y\\n1,2\\n"))
        assert store.read_bytes("documents/a/b.csv") == b"x,y\\n1,2\\n", info
        print("ok", state.current)
        """
    )
    result = run([python, "-c", script], env, cwd=tmp_path)
    assert result.stdout.startswith("ok"), result.stdout


def test_backend_console_script_migrates(tmp_path: Path, pip_cache: Path) -> None:
    (tmp_path / "home").mkdir()
    env = clean_env(
        tmp_path / "home", {"PIP_CACHE_DIR": str(pip_cache), "ADE_DATA_DIR": str(tmp_path / "data")}
    )
    python = fresh_venv(tmp_path / "venv")
    pip_install(python, [wheel("ade-backend"), wheel("ade-db"), wheel("ade-storage")], env)
    ade = tmp_path / "venv" / "bin" / "ade"

    assert run([ade, "--version"], env, cwd=tmp_path).stdout.strip() == f"ade {version()}"
    migrated = run([ade, "db", "migrate"], env, cwd=tmp_path)
    assert "0001" in migrated.stderr + migrated.stdout
    assert (tmp_path / "data" / "db" / "ade.sqlite").is_file()
    assert "(head)" in run([ade, "db", "current"], env, cwd=tmp_path).stdout
