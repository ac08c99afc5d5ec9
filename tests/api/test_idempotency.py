"""Idempotency-Key on document upload and run creation: a retry after a lost response gets the
first response back, never a duplicate; a different request with the same key is refused; a
key left in progress by a killed API process is taken over. Plus the real thing: the API
SIGKILL-ed mid-upload, the client retrying with its key against the restarted server."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

from ade.api.idempotency import KEY_TTL
from ade.db.column_types import utcnow
from ade.db.models import Document, IdempotencyKey, Run
from ade.storage.local import LocalBlobStore
from tests.api.conftest import Api, Tenant, make_tenant, migrate
from tests.api.test_server import start_server
from tests.support.db_cli import ade
from tests.support.waiting import wait_for

PEOPLE = b"First Name,Last Name\nAda,Lovelace\nAlan,Turing\n"


def upload(
    api: Api, tenant: Tenant, key: str | bytes | None, content: bytes = PEOPLE, **params: Any
) -> Any:
    headers: dict[str, Any] = {**tenant.headers}
    if key is not None:
        headers["Idempotency-Key"] = key
    return api.client.post(
        tenant.url("/documents"),
        headers=headers,
        files={"file": ("people.csv", content, "text/csv")},
        params=params,
    )


def count(api: Api, model: Any) -> int:
    with api.session() as session:
        return int(session.scalar(select(func.count()).select_from(model)))


def activate_default(api: Api, tenant: Tenant) -> str:
    from ade.db.configuration_spec import default_configuration

    created = api.client.post(
        tenant.url("/configurations"),
        headers=tenant.headers,
        json={
            "name": "default",
            "spec": default_configuration().model_dump(mode="json"),
            "activate": True,
        },
    )
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def test_a_retried_upload_gets_the_same_document_and_run(api: Api) -> None:
    activate_default(api, api.a)
    first = upload(api, api.a, "upload-1", process="true")
    assert first.status_code == 201, first.text
    assert "Idempotent-Replayed" not in first.headers
    again = upload(api, api.a, "upload-1", process="true")
    assert again.status_code == 201, again.text
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()  # same document and run ids, same statuses
    assert first.json()["run"]["status"] == "queued"
    assert count(api, Document) == 1 and count(api, Run) == 1
    assert len(list(api.store.list("documents/"))) == 1
    # The structured-field spelling of the header is the same key.
    quoted = upload(api, api.a, '"upload-1"', process="true")
    assert quoted.json() == first.json()


def test_the_same_key_for_a_different_request_is_refused(api: Api) -> None:
    activate_default(api, api.a)
    assert upload(api, api.a, "k").status_code == 201
    blobs = sorted(api.store.list("documents/"))
    for different in (
        upload(api, api.a, "k", content=PEOPLE + b"Grace,Hopper\n"),  # another file
        upload(api, api.a, "k", process="true"),  # other parameters
    ):
        assert different.status_code == 422, different.text
        assert different.json()["type"] == "urn:ade:problem:idempotency-key-reused"
    document = upload(api, api.a, None).json()["document"]["id"]
    run = api.client.post(
        api.a.url("/runs"),
        headers={**api.a.headers, "Idempotency-Key": "k"},  # another operation
        json={"document_id": document},
    )
    assert run.status_code == 422, run.text
    assert count(api, Run) == 0
    assert len(sorted(api.store.list("documents/"))) == len(blobs) + 1  # only the keyless one


def test_keys_belong_to_their_workspace(api: Api) -> None:
    first = upload(api, api.a, "shared-key")
    other = upload(api, api.b, "shared-key")
    assert first.status_code == other.status_code == 201
    assert first.json()["document"]["id"] != other.json()["document"]["id"]


def test_a_retried_run_creation_gets_the_same_run(api: Api) -> None:
    activate_default(api, api.a)
    document = upload(api, api.a, None).json()["document"]["id"]
    headers = {**api.a.headers, "Idempotency-Key": "run-1"}
    first = api.client.post(api.a.url("/runs"), headers=headers, json={"document_id": document})
    again = api.client.post(api.a.url("/runs"), headers=headers, json={"document_id": document})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    assert count(api, Run) == 1
    other = upload(api, api.a, None, content=PEOPLE + b"x,y\n").json()["document"]["id"]
    refused = api.client.post(api.a.url("/runs"), headers=headers, json={"document_id": other})
    assert refused.status_code == 422


def test_a_failed_request_frees_its_key(api: Api) -> None:
    """Only successes are remembered: after an error the client may fix its request and send
    it again with the same key."""
    headers = {**api.a.headers, "Idempotency-Key": "after-fix"}
    wrong = api.client.post(
        api.a.url("/runs"), headers=headers, json={"document_id": str(uuid.uuid4())}
    )
    assert wrong.status_code == 404, wrong.text
    document = upload(api, api.a, None).json()["document"]["id"]
    fixed = api.client.post(api.a.url("/runs"), headers=headers, json={"document_id": document})
    assert fixed.status_code == 201, fixed.text
    assert count(api, Run) == 1 and count(api, IdempotencyKey) == 1


def mark_in_progress(api: Api, tenant: Tenant, key: str, owner: str, locked_for: float) -> None:
    """What a request in progress leaves: a key held by ``owner`` for ``locked_for`` seconds."""
    now = utcnow()
    with api.session() as session:
        session.add(
            IdempotencyKey(
                id=uuid.uuid4(),
                workspace_id=uuid.UUID(tenant.id),
                key=key,
                operation="upload_document",
                owner=owner,
                locked_until=now + timedelta(seconds=locked_for),
                created_at=now,
                expires_at=now + KEY_TTL,
            )
        )
        session.commit()


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_a_request_still_in_progress_gets_409_with_retry_after(api: Api) -> None:
    host = socket.gethostname()
    mark_in_progress(api, api.a, "busy-here", f"{host}:1:live", 30)  # pid 1 is alive
    mark_in_progress(api, api.a, "busy-elsewhere", "other-host:4242:abcd", 30)
    for key in ("busy-here", "busy-elsewhere"):
        response = upload(api, api.a, key)
        assert response.status_code == 409, response.text
        assert response.json()["type"] == "urn:ade:problem:idempotency-key-in-use"
        assert 1 <= int(response.headers["Retry-After"]) <= 30
    assert count(api, Document) == 0


def test_a_key_left_by_a_dead_api_process_is_taken_over(api: Api) -> None:
    host = socket.gethostname()
    mark_in_progress(api, api.a, "killed-here", f"{host}:{dead_pid()}:gone", 30)
    mark_in_progress(api, api.a, "lapsed-elsewhere", "other-host:4242:abcd", -1)
    for key in ("killed-here", "lapsed-elsewhere"):
        response = upload(api, api.a, key)
        assert response.status_code == 201, response.text
        assert upload(api, api.a, key).json() == response.json()
    assert count(api, Document) == 2


def test_an_expired_key_is_forgotten(api: Api) -> None:
    first = upload(api, api.a, "old-key").json()
    with api.session() as session:
        session.execute(update(IdempotencyKey).values(expires_at=utcnow() - timedelta(seconds=1)))
        session.commit()
    later = upload(api, api.a, "old-key").json()
    assert later["document"]["id"] != first["document"]["id"]
    assert count(api, IdempotencyKey) == 1


@pytest.mark.parametrize("bad", [b'""', "é-not-ascii".encode("latin-1"), b"x" * 256, b"tab\tin"])
def test_a_malformed_key_is_a_400(api: Api, bad: bytes) -> None:
    response = upload(api, api.a, bad)
    assert response.status_code in (400, 422), response.text
    assert count(api, Document) == 0


def test_openapi_declares_the_header(api: Api) -> None:
    paths = api.client.get("/api/openapi.json").json()["paths"]
    for path in ("/api/v1/workspaces/{workspace}/documents", "/api/v1/workspaces/{workspace}/runs"):
        parameters = paths[path]["post"]["parameters"]
        [header] = [p for p in parameters if p["name"] == "Idempotency-Key"]
        assert header["in"] == "header" and not header["required"]
        assert "422" in header["description"] and "409" in header["description"]


# -- the real thing: a killed server mid-upload ---------------------------------------------


def stalling_body(content: bytes, half_sent: threading.Event, killed: threading.Event) -> Any:
    """The upload as a client streams it, stalling halfway until the server has been killed."""
    half = len(content) // 2
    for start in range(0, len(content), 64 * 1024):
        if start >= half:
            half_sent.set()
            killed.wait(60)
        yield content[start : start + 64 * 1024]


def test_api_killed_mid_upload_then_retried_with_the_same_key(
    tmp_path: Path, sqlite_url: str
) -> None:
    migrate(sqlite_url)
    tenant = make_tenant(sqlite_url, "Tenant", "tenant")
    storage = tmp_path / "data" / "storage"
    content = PEOPLE + b"".join(b"Name%d,Surname%d\n" % (n, n) for n in range(200_000))
    headers = {**tenant.headers, "Idempotency-Key": "retry-me", "Content-Type": "text/csv"}
    url = tenant.url("/documents") + "?filename=people.csv"

    server, base = start_server(tmp_path, sqlite_url)
    half_sent, killed = threading.Event(), threading.Event()

    def kill_with_a_partial_file_on_disk() -> None:
        half_sent.wait(60)
        wait_for(lambda: list(storage.rglob(".tmp-*.part")), "the upload's partial file")
        os.kill(server.pid, signal.SIGKILL)
        server.wait(30)
        killed.set()

    killer = threading.Thread(target=kill_with_a_partial_file_on_disk)
    killer.start()
    try:
        with httpx.Client(base_url=base, timeout=60) as client, pytest.raises(httpx.TransportError):
            # The client sees a dropped connection, never a response.
            client.post(url, headers=headers, content=stalling_body(content, half_sent, killed))
    finally:
        killer.join(60)
        server.kill()
        server.communicate(timeout=30)
    partial = [p for p in storage.rglob(".tmp-*.part")]
    assert partial, "the killed upload left its partial file"

    server, base = start_server(tmp_path, sqlite_url)
    try:
        with httpx.Client(base_url=base, timeout=60) as client:
            retried = client.post(url, headers=headers, content=content)
            assert retried.status_code == 201, retried.text
            again = client.post(url, headers=headers, content=content)
            assert again.json() == retried.json()
    finally:
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=30)
    document = retried.json()["document"]
    store = LocalBlobStore(storage)
    [key] = store.list("documents/")
    assert store.stat(key).sha256 == document["sha256"]

    gc = ade(
        "storage",
        "gc",
        "--older-than",
        "0s",
        "--database-url",
        sqlite_url,
        env={"ADE_DATA_DIR": str(tmp_path / "data")},
    )
    assert gc.returncode == 0, gc.stderr
    assert [line.split("\t")[1] for line in gc.stdout.splitlines()] == ["temporary"]
    assert list(storage.rglob(".tmp-*")) == []
    assert list(store.list("documents/")) == [key]
