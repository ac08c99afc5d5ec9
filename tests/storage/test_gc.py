"""Storage garbage collection on both backends: what an interrupted upload leaves behind is
found and removed; what a database row points at, what is too young and what ADE never wrote
are kept. Plus `ade storage gc` end to end."""

from __future__ import annotations

import hashlib
import os
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, insert

from ade.db.column_types import utcnow
from ade.db.configuration_spec import default_configuration
from ade.db.engine import create_engine
from ade.db.migrate import upgrade
from ade.db.models import Configuration, Document, Run, Workspace
from ade.storage import keys
from ade.storage.base import BlobStore
from ade.storage.local import LocalBlobStore
from ade.worker.storage_gc import collect_garbage
from tests.storage.conftest import Harness
from tests.support.db_cli import ade

MiB = 1024 * 1024
NOW = timedelta(0)


class Rows:
    """A migrated SQLite database with one workspace, to give blobs (or not) their rows."""

    def __init__(self, url: str) -> None:
        upgrade(url, echo=lambda _line: None)
        self.engine: Engine = create_engine(url)
        self.workspace = uuid.uuid4()
        self.configuration = uuid.uuid4()
        with self.engine.begin() as connection:
            connection.execute(insert(Workspace).values(id=self.workspace, slug="ws", name="W"))
            connection.execute(
                insert(Configuration).values(
                    id=self.configuration,
                    workspace_id=self.workspace,
                    name="default",
                    status="active",
                    spec=default_configuration().model_dump(mode="json"),
                )
            )

    def document(self, store: BlobStore, row: bool = True, deleted: bool = False) -> str:
        document_id = uuid.uuid4()
        key = keys.document_key(self.workspace, document_id)
        content = f"a,b\n{document_id},2\n".encode()
        store.write(key, content)
        if row:
            with self.engine.begin() as connection:
                connection.execute(
                    insert(Document).values(
                        id=document_id,
                        workspace_id=self.workspace,
                        original_filename="a.csv",
                        content_type="text/csv",
                        byte_size=len(content),
                        sha256=hashlib.sha256(content).hexdigest(),
                        blob_key=key,
                        deleted_at=utcnow() if deleted else None,
                    )
                )
        return key

    def run_artifacts(self, store: BlobStore, document_key: str, row: bool = True) -> list[str]:
        run_id = uuid.uuid4()
        written = [
            keys.run_output_key(self.workspace, run_id),
            keys.run_table_key(self.workspace, run_id, 1),
            keys.run_log_key(self.workspace, run_id),
        ]
        for key in written:
            store.write(key, b"artifact")
        if row:
            owner = keys.owner_of(document_key)
            assert owner is not None
            with self.engine.begin() as connection:
                connection.execute(
                    insert(Run).values(
                        id=run_id,
                        workspace_id=self.workspace,
                        document_id=owner.id,
                        configuration_id=self.configuration,
                        status="succeeded",
                        output_blob_key=written[0],
                    )
                )
        return written


def interrupted_writes(harness: Harness, tmp_path: Path) -> list[str]:
    """Leave what a killed process leaves: a temporary part file (local) or a temporary object
    and a multipart upload never completed (S3). Returns their names as the store reports them."""
    store = harness.store
    if isinstance(store, LocalBlobStore):
        folder = Path(store.location) / "documents" / "some-workspace"
        folder.mkdir(parents=True, exist_ok=True)
        part = folder / ".tmp-killed.part"
        part.write_bytes(b"x" * 1000)
        return ["documents/some-workspace/.tmp-killed.part"]
    from ade.storage.s3 import TMP_FOLDER, S3BlobStore

    assert isinstance(store, S3BlobStore)
    client, bucket = store._client, store.bucket
    prefix = store._prefix
    client.put_object(Bucket=bucket, Key=f"{prefix}{TMP_FOLDER}killed-copy", Body=b"x" * 1000)
    upload = client.create_multipart_upload(Bucket=bucket, Key=f"{prefix}{TMP_FOLDER}killed")
    client.upload_part(
        Bucket=bucket,
        Key=f"{prefix}{TMP_FOLDER}killed",
        UploadId=upload["UploadId"],
        PartNumber=1,
        Body=b"y" * (5 * MiB),
    )
    return [f"{TMP_FOLDER}killed-copy", f"{TMP_FOLDER}killed"]


def test_leftovers_are_listed_with_their_age_and_removed(harness: Harness, tmp_path: Path) -> None:
    store = harness.store
    store.write("documents/kept", b"a real blob")
    names = interrupted_writes(harness, tmp_path)
    found = list(store.leftovers())
    assert sorted(leftover.name for leftover in found) == sorted(names)
    for leftover in found:
        age = datetime.now(UTC) - leftover.modified
        # moto answers a fixed date from 2010 for every multipart upload's "Initiated".
        assert age >= timedelta(0) and (age < timedelta(minutes=5) or leftover.kind == "multipart")
    assert [entry.key for entry in store.entries()] == ["documents/kept"]
    for leftover in found:
        store.remove_leftover(leftover)
        store.remove_leftover(leftover)  # already gone: a no-op
    assert list(store.leftovers()) == []
    assert harness.open_uploads() == []
    assert [name for name in harness.raw_objects() if "kept" not in name] == []
    assert store.read_bytes("documents/kept") == b"a real blob"


def test_entries_report_size_and_last_write(store: BlobStore) -> None:
    before = datetime.now(UTC) - timedelta(seconds=2)
    store.write("runs/a/b/tables/1.csv", b"12345")
    store.write("runs/a/b/output.xlsx", b"1")
    entries = list(store.entries("runs/a/b/"))
    assert [(e.key, e.size) for e in entries] == [
        ("runs/a/b/output.xlsx", 1),
        ("runs/a/b/tables/1.csv", 5),
    ]
    assert all(before <= e.modified <= datetime.now(UTC) + timedelta(seconds=2) for e in entries)


def test_gc_removes_exactly_what_no_row_references(
    harness: Harness, sqlite_url: str, tmp_path: Path
) -> None:
    store = harness.store
    rows = Rows(sqlite_url)
    referenced = rows.document(store)
    soft_deleted = rows.document(store, deleted=True)  # runs still read it: kept
    orphan = rows.document(store, row=False)  # the API died before inserting its row
    run_outputs = rows.run_artifacts(store, referenced)
    orphan_run = rows.run_artifacts(store, referenced, row=False)
    store.write("exports/2024/report.csv", b"not written by ADE")  # a foreign key: never touched
    leftovers = interrupted_writes(harness, tmp_path)

    dry = collect_garbage(rows.engine, store, NOW, dry_run=True)
    assert sorted(item.name for item in dry.orphans) == sorted([orphan, *orphan_run])
    assert sorted(item.name for item in dry.leftovers) == sorted(leftovers)
    assert (dry.referenced, dry.foreign, dry.removed) == (2 + len(run_outputs), 1, 0)
    assert store.exists(orphan) and list(store.leftovers())  # a dry run removes nothing

    report = collect_garbage(rows.engine, store, NOW)
    assert report.removed == len(dry.garbage)
    assert sorted(store.list()) == sorted(
        [referenced, soft_deleted, *run_outputs, "exports/2024/report.csv"]
    )
    assert list(store.leftovers()) == []
    assert harness.open_uploads() == []
    assert collect_garbage(rows.engine, store, NOW).garbage == []  # nothing left to find


def test_gc_never_judges_what_is_younger_than_the_threshold(
    sqlite_url: str, tmp_path: Path
) -> None:
    """An upload's blob exists a moment before its row: young blobs and temporary parts stay."""
    store = LocalBlobStore(tmp_path / "storage")
    rows = Rows(sqlite_url)
    old_orphan = rows.document(store, row=False)
    young_orphan = rows.document(store, row=False)
    part = tmp_path / "storage" / "documents" / ".tmp-uploading.part"
    part.write_bytes(b"in progress")
    two_hours_ago = time.time() - 7200
    os.utime(tmp_path / "storage" / old_orphan, (two_hours_ago, two_hours_ago))

    report = collect_garbage(rows.engine, store, timedelta(hours=1))
    assert [item.name for item in report.garbage] == [old_orphan]
    assert report.young == 2
    assert store.exists(young_orphan) and part.exists() and not store.exists(old_orphan)


def gc_cli(data: Path, *args: str, env: dict[str, Any] | None = None) -> Any:
    return ade("storage", "gc", *args, env={"ADE_DATA_DIR": str(data), **(env or {})}, timeout=120)


def test_ade_storage_gc_end_to_end(tmp_path: Path) -> None:
    data = tmp_path / "data"
    migrated = ade("db", "migrate", env={"ADE_DATA_DIR": str(data)})
    assert migrated.returncode == 0, migrated.stderr
    url = f"sqlite:///{data / 'db' / 'ade.sqlite'}"
    rows = Rows(url)
    store = LocalBlobStore(data / "storage")
    kept = rows.document(store)
    orphan = rows.document(store, row=False)
    (data / "storage" / "documents" / ".tmp-x.part").write_bytes(b"12")

    dry = gc_cli(data, "--dry-run", "--older-than", "0s")
    assert dry.returncode == 0, dry.stderr
    lines = sorted(line.split("\t") for line in dry.stdout.splitlines())
    assert [(line[0], line[1], line[4]) for line in lines] == [
        ("would-remove", "orphan", orphan),
        ("would-remove", "temporary", "documents/.tmp-x.part"),
    ]
    assert "would be removed (dry run)" in dry.stderr and dry.stderr.count("\n") == 1
    assert store.exists(orphan)

    young = gc_cli(data)  # the default threshold (24h) protects everything just written
    assert young.returncode == 0 and young.stdout == "", young.stderr
    assert store.exists(orphan)

    done = gc_cli(data, "--older-than", "0")
    assert done.returncode == 0, done.stderr
    assert sorted(line.split("\t")[1] for line in done.stdout.splitlines()) == [
        "orphan",
        "temporary",
    ]
    assert list(store.list()) == [kept]
    assert not (data / "storage" / "documents" / ".tmp-x.part").exists()


@pytest.mark.parametrize("bad", ["yesterday", "-5m", "1w", ""])
def test_ade_storage_gc_refuses_a_bad_age(tmp_path: Path, bad: str) -> None:
    result = gc_cli(tmp_path / "data", "--older-than", bad)
    assert result.returncode == 2
    assert "--older-than" in result.stderr or "expected e.g. 90s" in result.stderr


def test_ade_storage_gc_refuses_an_unmigrated_database(tmp_path: Path) -> None:
    result = gc_cli(tmp_path / "data")
    assert result.returncode == 1
    assert result.stderr.startswith("error: ") and "ade db migrate" in result.stderr
    assert result.stderr.count("\n") == 1
