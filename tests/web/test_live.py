"""The browser tests' own guard: CI never skips them silently."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.web.live import chromium_or_skip


def test_a_missing_browser_fails_in_ci_and_skips_with_the_fix_elsewhere(tmp_path: Path) -> None:
    missing = str(tmp_path / "no-chromium")
    with pytest.raises(pytest.fail.Exception, match="apt-get install -y chromium"):
        chromium_or_skip(missing, in_ci=True)
    with pytest.raises(pytest.skip.Exception, match="apt-get install -y chromium"):
        chromium_or_skip(missing, in_ci=False)
    assert chromium_or_skip(__file__, in_ci=True) == __file__  # any existing file will do
