"""Documents over HTTP: streamed upload, hostile names, limits, listing, download, Range."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator

from tests.api.conftest import UPLOAD_LIMIT, Api


def blobs(api: Api) -> list[str]:
    return list(api.store.list("documents/"))


def test_upload_then_download_roundtrip(api: Api) -> None:
    content = os.urandom(300_000)
    response = api.upload(api.a, content, "report.xlsx")
    assert response.status_code == 201, response.text
    document = response.json()["document"]
    assert document["byte_size"] == len(content)
    assert document["sha256"] == hashlib.sha256(content).hexdigest()
    assert document["filename"] == "report.xlsx"
    assert response.json()["run"] is None

    download = api.client.get(
        api.a.url(f"/documents/{document['id']}/content"), headers=api.a.headers
    )
    assert download.status_code == 200
    assert download.content == content
    assert download.headers["content-type"] == "text/csv; charset=utf-8"  # as declared
    assert download.headers["content-length"] == str(len(content))
    assert download.headers["accept-ranges"] == "bytes"
    assert "filename*=UTF-8''report.xlsx" in download.headers["content-disposition"]


def test_raw_body_upload_with_filename_query(api: Api) -> None:
    response = api.client.post(
        api.a.url("/documents"),
        headers={**api.a.headers, "Content-Type": "application/octet-stream"},
        params={"filename": "raw.csv"},
        content=b"x,y\n1,2\n",
    )
    assert response.status_code == 201, response.text
    document = response.json()["document"]
    assert document["filename"] == "raw.csv"
    assert document["content_type"] == "text/csv"  # guessed from the name


def test_unicode_name_in_content_disposition(api: Api) -> None:
    name = 'Résumé \u2013 2024 "final".csv'
    document = api.upload(api.a, b"a\n1\n", name).json()["document"]
    assert document["filename"] == name
    response = api.client.get(
        api.a.url(f"/documents/{document['id']}/content"), headers=api.a.headers
    )
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="')
    assert "filename*=UTF-8''R%C3%A9sum%C3%A9%20%E2%80%93%202024%20%22final%22.csv" in disposition
    assert disposition.isascii()


def test_hostile_file_names_are_sanitized_and_never_reach_keys(api: Api) -> None:
    cases = {
        "../../etc/passwd": "passwd",
        "..\\..\\windows\\system32\\evil.exe": "evil.exe",
        "/absolute/path/a.csv": "a.csv",
        "a\x00b\r\nc.csv": "abc.csv",
        "\u202egnp.exe": "gnp.exe",  # right-to-left override removed
        ".hidden": "hidden",
        "..": "upload",
        "": "upload",
        "x" * 1000 + ".csv": "x" * 196 + ".csv",
    }
    for raw, expected in cases.items():
        response = api.upload(api.a, b"data", raw)
        assert response.status_code == 201, (raw, response.text)
        document = response.json()["document"]
        assert document["filename"] == expected, raw
    for key in blobs(api):
        parts = key.split("/")
        assert parts[0] == "documents" and parts[1] == api.a.id and len(parts) == 3


def test_upload_over_the_limit_is_413_and_stores_nothing(api: Api) -> None:
    response = api.upload(api.a, b"\0" * (UPLOAD_LIMIT + 1), "big.bin")
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert "nothing was stored" in response.json()["detail"]
    assert blobs(api) == []
    listing = api.client.get(api.a.url("/documents"), headers=api.a.headers).json()
    assert listing["items"] == []


def test_upload_exactly_at_the_limit_is_accepted(api: Api) -> None:
    assert api.upload(api.a, b"\1" * UPLOAD_LIMIT).status_code == 201


def test_declared_content_length_over_limit_is_refused_upfront(api: Api) -> None:
    response = api.client.post(
        api.a.url("/documents"),
        headers={**api.a.headers, "Content-Type": "application/octet-stream"},
        content=b"\0" * (UPLOAD_LIMIT * 3),
    )
    assert response.status_code == 413
    assert blobs(api) == []


def test_raw_upload_over_the_limit_is_413(api: Api) -> None:
    def chunks() -> Iterator[bytes]:  # no Content-Length: chunked transfer
        for _ in range(3):
            yield b"\0" * (UPLOAD_LIMIT // 2 + 1)

    response = api.client.post(
        api.a.url("/documents"),
        headers={**api.a.headers, "Content-Type": "application/octet-stream"},
        content=chunks(),
    )
    assert response.status_code == 413
    assert blobs(api) == []


def test_empty_upload_is_rejected(api: Api) -> None:
    response = api.upload(api.a, b"", "empty.csv")
    assert response.status_code == 400
    assert response.json()["detail"] == "the uploaded file is empty"
    raw = api.client.post(
        api.a.url("/documents"),
        headers={**api.a.headers, "Content-Type": "application/octet-stream"},
        content=b"",
    )
    assert raw.status_code == 400
    assert blobs(api) == []


def test_multipart_without_file_part_is_422(api: Api) -> None:
    response = api.client.post(
        api.a.url("/documents"),
        headers=api.a.headers,
        data={"other": "value"},
        files={"notfile": ("a.csv", b"abc")},
    )
    assert response.status_code == 422
    assert "'file'" in response.json()["detail"]


def test_malformed_or_truncated_multipart_is_400(api: Api) -> None:
    headers = {**api.a.headers, "Content-Type": "multipart/form-data; boundary=XYZ"}
    truncated = b'--XYZ\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\nabc'
    response = api.client.post(api.a.url("/documents"), headers=headers, content=truncated)
    assert response.status_code == 400
    garbage = api.client.post(api.a.url("/documents"), headers=headers, content=b"\x00garbage")
    assert garbage.status_code in (400, 422)
    no_boundary = api.client.post(
        api.a.url("/documents"),
        headers={**api.a.headers, "Content-Type": "multipart/form-data"},
        content=b"abc",
    )
    assert no_boundary.status_code == 400
    assert blobs(api) == []


def test_two_file_parts_are_refused(api: Api) -> None:
    response = api.client.post(
        api.a.url("/documents"),
        headers=api.a.headers,
        files=[("file", ("a.csv", b"a")), ("file", ("b.csv", b"b"))],
    )
    assert response.status_code == 400
    assert blobs(api) == []


def test_range_requests(api: Api) -> None:
    content = bytes(range(256)) * 4
    document = api.upload(api.a, content).json()["document"]
    url = api.a.url(f"/documents/{document['id']}/content")

    def get(range_header: str):
        return api.client.get(url, headers={**api.a.headers, "Range": range_header})

    partial = get("bytes=10-19")
    assert partial.status_code == 206
    assert partial.content == content[10:20]
    assert partial.headers["content-range"] == f"bytes 10-19/{len(content)}"
    assert get("bytes=1000-").content == content[1000:]
    assert get("bytes=-5").content == content[-5:]
    assert get("bytes=1020-5000").content == content[1020:]
    # not one well-formed byte range: ignored, the whole body (RFC 9110 allows either)
    for ignored in ("bytes=0-0,5-6", "bytes=9-3", "bytes=abc", "items=0-1", "bytes=-", "@JFK"):
        response = get(ignored)
        assert (response.status_code, response.content) == (200, content), ignored
    for unsatisfiable in ("bytes=1024-", "bytes=5000-6000", "bytes=-0"):
        response = get(unsatisfiable)
        assert response.status_code == 416, unsatisfiable
        assert response.headers["content-range"] == f"bytes */{len(content)}"
        assert response.headers["content-type"] == "application/problem+json"


def test_list_newest_first_with_cursor_and_name_filter(api: Api) -> None:
    ids = [api.upload(api.a, b"x", f"file-{i}.csv").json()["document"]["id"] for i in range(7)]
    api.upload(api.a, b"x", "100%_odd.csv")
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = api.client.get(api.a.url("/documents"), headers=api.a.headers, params=params).json()
        seen += [item["id"] for item in page["items"] if item["filename"].startswith("file-")]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(ids))
    named = api.client.get(
        api.a.url("/documents"), headers=api.a.headers, params={"name": "FILE-3"}
    )
    assert [item["filename"] for item in named.json()["items"]] == ["file-3.csv"]
    # LIKE wildcards in the filter are literal characters
    odd = api.client.get(api.a.url("/documents"), headers=api.a.headers, params={"name": "%_"})
    assert [item["filename"] for item in odd.json()["items"]] == ["100%_odd.csv"]


def test_cursors_that_no_page_could_return_are_422(api: Api) -> None:
    for cursor in (
        "garbage",
        "!!!",
        "1-" + "A" * 32,  # hex digits are lowercase
        "1-" + "a" * 31,
        "1" * 18 + "-" + "a" * 32,  # beyond the year 9999
        "-" + "a" * 32,
    ):
        response = api.client.get(
            api.a.url("/documents"), headers=api.a.headers, params={"cursor": cursor}
        )
        assert response.status_code == 422, cursor
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["errors"][0]["location"] == ["query", "cursor"]


def test_every_cursor_the_schema_allows_names_a_position(api: Api) -> None:
    for name in ("a.csv", "b.csv"):
        api.upload(api.a, name=name)

    def names(cursor: str) -> list[str]:
        response = api.client.get(
            api.a.url("/documents"), headers=api.a.headers, params={"cursor": cursor}
        )
        assert response.status_code == 200, response.text
        return [item["filename"] for item in response.json()["items"]]

    assert names("9" * 17 + "-" + "f" * 32) == ["b.csv", "a.csv"]  # after the year 5000
    assert names("0-" + "0" * 32) == []  # 1970: nothing is older
    assert names("") == ["b.csv", "a.csv"]  # empty: the first page


def test_soft_delete_hides_the_document(api: Api) -> None:
    document = api.upload(api.a).json()["document"]
    url = api.a.url(f"/documents/{document['id']}")
    assert api.client.delete(url, headers=api.a.headers).status_code == 204
    assert api.client.get(url, headers=api.a.headers).status_code == 404
    assert api.client.get(url + "/content", headers=api.a.headers).status_code == 404
    assert api.client.delete(url, headers=api.a.headers).status_code == 404
    assert api.client.get(api.a.url("/documents"), headers=api.a.headers).json()["items"] == []
    assert len(blobs(api)) == 1  # soft: the bytes stay for the runs that used them


def test_upload_with_process_creates_a_queued_run(api: Api) -> None:
    body = api.upload(api.a, process="true").json()
    run = body["run"]
    assert run["status"] == "queued"
    assert run["attempt_count"] == 0
    assert run["document_id"] == body["document"]["id"]
    active = api.client.get(
        api.a.url("/configurations"), headers=api.a.headers, params={"status": "active"}
    ).json()["items"]
    assert run["configuration_id"] == active[0]["id"]
