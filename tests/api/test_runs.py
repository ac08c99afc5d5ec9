"""Runs: create, list with filters and cursors, cancel, outputs and the event log.

A worker's completion is simulated here by writing what the worker writes (output blobs, the
run row, run_events) through ade.db and ade.storage; test_end_to_end.py uses the real worker.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from sqlalchemy import update

from ade.db.column_types import utcnow
from ade.db.models import Run, RunEvent
from ade.storage.keys import run_output_key, run_table_key
from tests.api.conftest import Api, Tenant


def new_run(api: Api, tenant: Tenant | None = None, **body) -> dict[str, Any]:
    tenant = tenant or api.a
    document = api.upload(tenant).json()["document"]["id"]
    response = api.client.post(
        tenant.url("/runs"), headers=tenant.headers, json={"document_id": document, **body}
    )
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def complete(
    api: Api, tenant: Tenant, run_id: str, *, xlsx: bytes, tables: list[bytes], events: int = 3
) -> None:
    info = api.store.write(run_output_key(tenant.id, run_id), xlsx)
    for n, table in enumerate(tables, start=1):
        api.store.write(run_table_key(tenant.id, run_id, n), table)
    with api.session() as session:
        session.execute(
            update(Run)
            .where(Run.id == uuid.UUID(run_id))
            .values(
                status="succeeded",
                attempt_count=1,
                started_at=utcnow(),
                finished_at=utcnow(),
                output_blob_key=info.key,
                output_byte_size=info.size,
                output_sha256=info.sha256,
                summary={"tables": len(tables)},
            )
        )
        for seq in range(1, events + 1):
            session.add(
                RunEvent(
                    id=uuid.uuid4(),
                    run_id=uuid.UUID(run_id),
                    seq=seq,
                    type="progress",
                    payload={"step": seq},
                    created_at=utcnow(),
                )
            )
        session.commit()


def test_create_defaults_to_the_active_configuration(api: Api) -> None:
    run = new_run(api)
    assert run["status"] == "queued" and run["attempt_count"] == 0
    active = api.client.get(
        api.a.url("/configurations"), headers=api.a.headers, params={"status": "active"}
    ).json()["items"][0]
    assert run["configuration_id"] == active["id"]
    got = api.client.get(api.a.url(f"/runs/{run['id']}"), headers=api.a.headers).json()
    assert got == run


def test_no_active_configuration_is_409(api: Api) -> None:
    with api.session() as session:
        from ade.db.models import Configuration

        session.execute(update(Configuration).values(status="draft"))
        session.commit()
    document = api.upload(api.a).json()["document"]["id"]
    response = api.client.post(
        api.a.url("/runs"), headers=api.a.headers, json={"document_id": document}
    )
    assert response.status_code == 409
    upload = api.upload(api.a, process="true")
    assert upload.status_code == 409
    # the refused upload left no document behind
    listing = api.client.get(api.a.url("/documents"), headers=api.a.headers).json()["items"]
    assert [item["id"] for item in listing] == [document]
    assert len(list(api.store.list("documents/"))) == 1


def test_list_filters_and_pagination(api: Api) -> None:
    runs = [new_run(api) for _ in range(5)]
    cancelled = runs[1]["id"]
    api.client.post(api.a.url(f"/runs/{cancelled}/cancel"), headers=api.a.headers)
    queued = api.client.get(
        api.a.url("/runs"), headers=api.a.headers, params={"status": "queued"}
    ).json()
    assert [r["id"] for r in queued["items"]] == [
        r["id"] for r in reversed(runs) if r["id"] != cancelled
    ]
    by_doc = api.client.get(
        api.a.url("/runs"), headers=api.a.headers, params={"document_id": runs[3]["document_id"]}
    ).json()["items"]
    assert [r["id"] for r in by_doc] == [runs[3]["id"]]
    pages, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = api.client.get(api.a.url("/runs"), headers=api.a.headers, params=params).json()
        pages.append([r["id"] for r in page["items"]])
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert [len(p) for p in pages] == [2, 2, 1]
    flat = [run_id for page_ids in pages for run_id in page_ids]
    assert flat == [r["id"] for r in reversed(runs)]


def test_cancel(api: Api) -> None:
    run = new_run(api)
    url = api.a.url(f"/runs/{run['id']}/cancel")
    cancelled = api.client.post(url, headers=api.a.headers)
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["finished_at"] is not None
    assert api.client.post(url, headers=api.a.headers).status_code == 409
    running = new_run(api)
    with api.session() as session:
        session.execute(
            update(Run)
            .where(Run.id == uuid.UUID(running["id"]))
            .values(status="running", claimed_by="w1", attempt_count=1)
        )
        session.commit()
    response = api.client.post(api.a.url(f"/runs/{running['id']}/cancel"), headers=api.a.headers)
    assert response.json()["status"] == "cancelled"


def test_output_downloads_and_events(api: Api) -> None:
    run = new_run(api)
    run_id = run["id"]
    early = api.client.get(api.a.url(f"/runs/{run_id}/output"), headers=api.a.headers)
    assert early.status_code == 409
    xlsx = b"PK\x03\x04" + b"\0" * 1000
    complete(api, api.a, run_id, xlsx=xlsx, tables=[b"a,b\n1,2\n", "é\n".encode()], events=700)

    got = api.client.get(api.a.url(f"/runs/{run_id}"), headers=api.a.headers).json()
    assert got["status"] == "succeeded" and got["summary"] == {"tables": 2}
    output = api.client.get(api.a.url(f"/runs/{run_id}/output"), headers=api.a.headers)
    assert output.status_code == 200 and output.content == xlsx
    assert output.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert f"run-{run_id}.xlsx" in output.headers["content-disposition"]
    partial = api.client.get(
        api.a.url(f"/runs/{run_id}/output"), headers={**api.a.headers, "Range": "bytes=0-3"}
    )
    assert partial.status_code == 206 and partial.content == b"PK\x03\x04"
    csv2 = api.client.get(
        api.a.url(f"/runs/{run_id}/output"),
        headers=api.a.headers,
        params={"format": "csv", "table": 2},
    )
    assert csv2.content == "é\n".encode() and csv2.headers["content-type"].startswith("text/csv")
    missing = api.client.get(
        api.a.url(f"/runs/{run_id}/output"),
        headers=api.a.headers,
        params={"format": "csv", "table": 3},
    )
    assert missing.status_code == 404
    bad = api.client.get(
        api.a.url(f"/runs/{run_id}/output"), headers=api.a.headers, params={"format": "pdf"}
    )
    assert bad.status_code == 422

    events = api.client.get(api.a.url(f"/runs/{run_id}/events"), headers=api.a.headers)
    assert events.headers["content-type"] == "application/x-ndjson"
    lines = [json.loads(line) for line in events.text.splitlines()]
    assert [e["seq"] for e in lines] == list(range(1, 701))  # more than one internal batch
    resumed = api.client.get(
        api.a.url(f"/runs/{run_id}/events"), headers=api.a.headers, params={"after": 698}
    ).text.splitlines()
    assert [json.loads(line)["seq"] for line in resumed] == [699, 700]
    assert (
        api.client.get(
            api.a.url(f"/runs/{run_id}/events"), headers=api.a.headers, params={"after": 700}
        ).text
        == ""
    )
    assert (
        api.client.get(
            api.a.url(f"/runs/{run_id}/events"), headers=api.a.headers, params={"after": -1}
        ).status_code
        == 422
    )

    with api.client.stream(
        "GET",
        api.a.url(f"/runs/{run_id}/events/stream"),
        headers={**api.a.headers, "Last-Event-ID": "695"},
    ) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        text = stream.read().decode()
    ids = [int(line[4:]) for line in text.splitlines() if line.startswith("id: ")]
    assert ids == [696, 697, 698, 699, 700]
    assert text.endswith("event: end\ndata: {}\n\n")


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_event_numbers_beyond_any_seq(request: pytest.FixtureRequest, database: str) -> None:
    """seq is a 32-bit column: PostgreSQL refused a larger bound with a server error."""
    api: Api = request.getfixturevalue("api" if database == "sqlite" else "postgres_api")
    run_id = new_run(api)["id"]
    complete(api, api.a, run_id, xlsx=b"PK", tables=[], events=2)
    events = api.a.url(f"/runs/{run_id}/events")
    last = api.client.get(events, headers=api.a.headers, params={"after": 2**31 - 1})
    assert (last.status_code, last.text) == (200, "")
    beyond = api.client.get(events, headers=api.a.headers, params={"after": 2**31})
    assert beyond.status_code == 422
    with api.client.stream(
        "GET",
        api.a.url(f"/runs/{run_id}/events/stream"),
        headers={**api.a.headers, "Last-Event-ID": "9" * 20},  # after everything: none left
    ) as stream:
        assert stream.read().decode() == "event: end\ndata: {}\n\n"


def test_cancel_is_committed_by_the_route_not_the_helper(api: Api) -> None:
    from ade.api.run_queue import cancel_run, get_run

    run = new_run(api)
    with api.session() as session:
        cancelled = cancel_run(session, get_run(session, uuid.UUID(api.a.id), uuid.UUID(run["id"])))
        assert cancelled.status == "cancelled"
        session.rollback()  # the caller decides: nothing was committed
    url = api.a.url(f"/runs/{run['id']}")
    assert api.client.get(url, headers=api.a.headers).json()["status"] == "queued"
    response = api.client.post(api.a.url(f"/runs/{run['id']}/cancel"), headers=api.a.headers)
    assert response.status_code == 200
    assert api.client.get(url, headers=api.a.headers).json()["status"] == "cancelled"


def test_cancelling_a_finished_run_changes_nothing(api: Api) -> None:
    run = new_run(api)
    complete(api, api.a, run["id"], xlsx=b"PK", tables=[])
    before = api.client.get(api.a.url(f"/runs/{run['id']}"), headers=api.a.headers).json()
    response = api.client.post(api.a.url(f"/runs/{run['id']}/cancel"), headers=api.a.headers)
    assert response.status_code == 409
    after = api.client.get(api.a.url(f"/runs/{run['id']}"), headers=api.a.headers).json()
    assert after == before and after["status"] == "succeeded"


def test_downloads_never_hash_the_blob(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """Sizes come from BlobStore.size (os.stat / HEAD), not stat(), which reads the blob."""
    run = new_run(api)
    complete(api, api.a, run["id"], xlsx=b"PK\x03\x04", tables=[b"a,b\n1,2\n"])
    with api.session() as session:  # an output written before output_byte_size existed
        session.execute(
            update(Run).where(Run.id == uuid.UUID(run["id"])).values(output_byte_size=None)
        )
        session.commit()

    def no_stat(key: str) -> None:
        raise AssertionError(f"stat({key!r}) hashes the whole blob")

    monkeypatch.setattr(api.store, "stat", no_stat)
    url = api.a.url(f"/runs/{run['id']}/output")
    csv = api.client.get(url, headers=api.a.headers, params={"format": "csv", "table": 1})
    assert csv.status_code == 200 and csv.content == b"a,b\n1,2\n"
    assert csv.headers["content-length"] == "8"
    xlsx = api.client.get(url, headers=api.a.headers)
    assert xlsx.status_code == 200 and xlsx.content == b"PK\x03\x04"
    missing = api.client.get(url, headers=api.a.headers, params={"format": "csv", "table": 2})
    assert missing.status_code == 404
