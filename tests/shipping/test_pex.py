"""dist/ade.pex runs with nothing but a Python 3.11: clean environment, empty HOME."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from tests.shipping.artifacts import clean_env, pex, run, version
from tests.support.processes import mapped_files


def test_pex_help_migrate_and_storage_check(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = clean_env(home, {"ADE_DATA_DIR": str(tmp_path / "data")})
    ade = pex()

    assert "Usage:" in run([ade, "--help"], env, cwd=tmp_path).stdout
    assert run([ade, "--version"], env, cwd=tmp_path).stdout.strip() == f"ade {version()}"

    database = tmp_path / "elsewhere" / "ade.sqlite"
    database.parent.mkdir()
    run([ade, "db", "migrate", "--database-url", f"sqlite:///{database}"], env, cwd=tmp_path)
    current = run([ade, "db", "current", "--database-url", f"sqlite:///{database}"], env)
    assert "(head)" in current.stdout

    blobs = tmp_path / "blobs"
    checked = run([ade, "storage", "check"], {**env, "ADE_STORAGE_PATH": str(blobs)}, cwd=tmp_path)
    assert "writable" in checked.stdout + checked.stderr
    assert blobs.is_dir()


def test_pex_serves_the_api(tmp_path: Path, unused_tcp_port: int) -> None:
    """uvicorn loads the app by name: this proves the PEX carries what no import shows."""
    import subprocess
    import time
    import urllib.request

    home = tmp_path / "home"
    home.mkdir()
    env = clean_env(home, {"ADE_DATA_DIR": str(tmp_path / "data")})
    ade = pex()
    run([ade, "db", "migrate"], env, cwd=tmp_path)
    port = unused_tcp_port
    server = subprocess.Popen(
        [str(ade), "api", "start", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, server.communicate()[0]
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as reply:
                    assert reply.status == 200
                    break
            except OSError:
                assert time.monotonic() < deadline, "the PEX's API never answered /health"
                time.sleep(0.2)
        # the web page's templates and static files are in the PEX (package data, not code)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/sign-in", timeout=10) as reply:
            page = reply.read().decode()
            assert reply.status == 200 and "API key" in page
            assert "script-src 'self'" in reply.headers["Content-Security-Policy"]
        script = page.split('<script type="module" src="', 1)[1].split('"', 1)[0]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{script}", timeout=10) as reply:
            assert reply.status == 200 and b"EventSource" in reply.read()
        # the fast HTTP parser is in the PEX too (uvicorn imports it by name)
        loaded = mapped_files(server.pid)  # venv mode execs in place: same pid
        assert "/httptools/" in loaded, loaded
    finally:
        server.terminate()
        server.wait(timeout=60)


def test_pex_carries_no_type_stubs() -> None:
    with zipfile.ZipFile(pex()) as archive:
        info = json.loads(archive.read("PEX-INFO"))
    requirements = [r.lower() for r in info["requirements"]]
    assert any(r.startswith("boto3") for r in requirements)  # the libraries themselves are in
    assert [r for r in requirements if "stubs" in r or r.startswith("types-")] == []
