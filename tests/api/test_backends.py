"""The main flows on every backend pair: {SQLite, PostgreSQL} x {local, S3}."""

from __future__ import annotations

import hashlib
import os

from tests.api.conftest import UPLOAD_LIMIT, Api


def test_document_and_run_flow(backend_api: Api) -> None:
    api = backend_api
    content = os.urandom(UPLOAD_LIMIT - 10)  # several chunks, S3 multipart-sized parts aside
    upload = api.upload(api.a, content, "people.csv", process="true")
    assert upload.status_code == 201, upload.text
    document, run = upload.json()["document"], upload.json()["run"]
    assert document["sha256"] == hashlib.sha256(content).hexdigest()
    url = api.a.url(f"/documents/{document['id']}/content")
    assert api.client.get(url, headers=api.a.headers).content == content
    partial = api.client.get(url, headers={**api.a.headers, "Range": "bytes=100-199"})
    assert partial.status_code == 206 and partial.content == content[100:200]
    assert (
        api.client.get(
            url, headers={**api.a.headers, "Range": f"bytes={len(content)}-"}
        ).status_code
        == 416
    )

    # isolation
    assert (
        api.client.get(url.replace("tenant-a", "tenant-b"), headers=api.b.headers).status_code
        == 404
    )
    assert api.client.get(api.b.url(f"/runs/{run['id']}"), headers=api.b.headers).status_code == 404

    # too large: nothing stored
    big = api.upload(api.a, b"\0" * (UPLOAD_LIMIT + 1))
    assert big.status_code == 413
    assert list(api.store.list("documents/")) == [f"documents/{api.a.id}/{document['id']}"]

    listing = api.client.get(api.a.url("/runs"), headers=api.a.headers, params={"status": "queued"})
    assert [r["id"] for r in listing.json()["items"]] == [run["id"]]
    cancelled = api.client.post(api.a.url(f"/runs/{run['id']}/cancel"), headers=api.a.headers)
    assert cancelled.json()["status"] == "cancelled"
    assert api.client.get("/ready").json() == {"status": "ready", "database": "ok", "storage": "ok"}
