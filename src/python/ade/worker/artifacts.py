"""A run's files in blob storage: the document downloaded in, the engine's outputs uploaded out.

Outputs go to the run's keys (:mod:`ade.storage.keys`); a later attempt of the same run simply
overwrites them, and nothing points at them until the run is recorded succeeded.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ade.storage import keys
from ade.storage.base import BlobInfo, BlobStore
from ade.worker.engine.output import SUMMARY_NAME, TABLES_DIR, XLSX_NAME
from ade.worker.errors import RunInterrupted
from ade.worker.queue import ClaimedRun

_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")


def safe_filename(name: str) -> str:
    """A local file name for the downloaded document that keeps its extension for humans."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = _UNSAFE.sub("_", base).strip(" .")[:120]
    return cleaned or "document"


def check(interrupted: Callable[[], str | None]) -> None:
    """Raise :class:`RunInterrupted` if the run must stop."""
    reason = interrupted()
    if reason is not None:
        raise RunInterrupted(reason)


def blob_info(info: BlobInfo) -> dict[str, Any]:
    return {"key": info.key, "size": info.size, "sha256": info.sha256}


def download(store: BlobStore, run: ClaimedRun, folder: Path) -> Path:
    """The run's document, streamed into ``folder`` under a readable name."""
    folder.mkdir()
    target = folder / safe_filename(run.document_name)
    with store.open(run.document_key) as chunks, target.open("wb") as handle:
        for chunk in chunks:
            handle.write(chunk)
    return target


def upload(
    store: BlobStore, run: ClaimedRun, folder: Path, interrupted: Callable[[], str | None]
) -> tuple[dict[str, Any], BlobInfo]:
    """Upload the engine's outputs; return the summary's ``artifacts`` and the main output
    (the workbook, or the summary when there is none)."""
    workspace, run_id = run.workspace_id, run.id
    plan: list[tuple[str, Path, str]] = []
    tables = sorted(
        (p for p in (folder / TABLES_DIR).glob("*.csv") if p.stem.isdigit()),
        key=lambda p: int(p.stem),
    )
    for path in tables:
        plan.append(("table", path, keys.run_table_key(workspace, run_id, int(path.stem))))
    xlsx = folder / XLSX_NAME
    if xlsx.exists():
        plan.append(("xlsx", xlsx, keys.run_output_key(workspace, run_id)))
    plan.append(("summary", folder / SUMMARY_NAME, keys.run_summary_key(workspace, run_id)))
    artifacts: dict[str, Any] = {"tables": []}
    output: BlobInfo | None = None
    for kind, path, key in plan:
        check(interrupted)
        with path.open("rb") as handle:
            info = store.write(key, handle)
        if kind == "table":
            artifacts["tables"].append({"number": int(path.stem), **blob_info(info)})
        else:
            artifacts[kind] = blob_info(info)
        if kind == "xlsx" or (kind == "summary" and output is None):
            output = info
    assert output is not None
    return artifacts, output
