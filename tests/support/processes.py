"""What /proc says about a test's child processes (Linux only; no extra dependency)."""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path


def alive(pid: int) -> bool:
    """Running, not a zombie: an orphan's exit status waits for init, which reaps it later."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def children(pid: int) -> set[int]:
    """Live processes whose parent is ``pid`` (from /proc: no extra dependency)."""
    found = set()
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(
                line.split(":\t", 1) for line in status.read_text().splitlines() if ":\t" in line
            )
        except OSError:  # the process ended while we looked
            continue
        if fields.get("PPid", "").strip() == str(pid) and fields.get("State", "")[:1] != "Z":
            found.add(int(status.parent.name))
    return found


def cmdline(pid: int) -> str:
    """The process's command line, arguments joined by spaces ("" once it has gone)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except OSError:
        return ""


def mapped_files(pid: int) -> str:
    """The paths of every file mapped into the process (its shared libraries among them), one
    per line: how a test tells which C extensions a server really loaded."""
    lines = Path(f"/proc/{pid}/maps").read_text().splitlines()
    return "\n".join(sorted({line.split(None, 5)[5] for line in lines if len(line.split()) == 6}))


def descendants(pid: int) -> set[int]:
    """Every live process below ``pid`` (children, their children, ...)."""
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        below = set().union(*(children(parent) for parent in frontier)) - found
        found |= below
        frontier = below
    return found


def _status_kib(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def peak_rss(pid: int) -> int:
    """The process's resident-memory high-water mark in bytes (VmHWM; 0 once it has gone)."""
    return _status_kib(pid, "VmHWM:") * 1024


def rss(pid: int) -> int:
    """The process's resident memory now in bytes (VmRSS; 0 once it has gone)."""
    return _status_kib(pid, "VmRSS:") * 1024


def reset_peak_rss(pid: int) -> None:
    """Set the process's high-water mark back to its current resident size (Linux 4.0+,
    ``clear_refs`` 5), so a long-lived process's peak can be read per piece of work."""
    with contextlib.suppress(OSError):  # gone, or not ours
        Path(f"/proc/{pid}/clear_refs").write_text("5")


class PeakSampler:
    """Samples the high-water marks of a process (``root``) and of every process below it
    (``below``: the largest one's) in a thread while the block runs, and once more at its end.

    A high-water mark is read rather than the current size, so only what a process gains in
    its last ``interval`` before it exits can be missed. (``wait4``'s ``ru_maxrss`` cannot
    replace this: a child inherits its parent's mark at fork, so it never reads below the
    size of the process that started it.)"""

    def __init__(self, root: int, interval: float = 0.02) -> None:
        self.root_pid = root
        self.interval = interval
        self.root = 0
        self.below = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def sample(self) -> None:
        self.root = max(self.root, peak_rss(self.root_pid))
        for pid in descendants(self.root_pid):
            self.below = max(self.below, peak_rss(pid))

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def __enter__(self) -> PeakSampler:
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()
