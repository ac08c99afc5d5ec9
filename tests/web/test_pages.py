"""The pages' behaviour through the app's client: documents, configurations, the run page."""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
from typing import Any

import httpx

from ade.api.web.pages import filesize
from ade.db.column_types import utcnow
from ade.db.models import Configuration, Document, Run, RunStatus
from ade.storage.keys import run_output_key, run_table_key
from tests.api.conftest import UPLOAD_LIMIT, Api
from tests.web.conftest import csrf_of

DOCS = "/w/tenant-a/documents"
CONFIGS = "/w/tenant-a/configurations"


def _upload(client: httpx.Client, name: str, content: bytes) -> httpx.Response:
    page = client.get(DOCS)
    return client.post(
        f"{DOCS}/upload",
        params={"filename": name},
        content=content,
        headers={"X-CSRF-Token": csrf_of(page), "Content-Type": "text/csv"},
    )


def _api_documents(web: Api) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = web.client.get(
        web.a.url("/documents"), headers=web.a.headers
    ).json()["items"]
    return items


def test_upload_queues_a_run_and_answers_where_it_is(
    browser_client: httpx.Client, web: Api
) -> None:
    reply = _upload(browser_client, "staff.csv", b"Email,Name\na@x.org,Ann\n")
    assert reply.status_code == 201, reply.text
    run_url = reply.json()["run_url"]
    assert re.fullmatch(r"/w/tenant-a/runs/[0-9a-f-]{36}", run_url)
    [document] = _api_documents(web)
    assert document["filename"] == "staff.csv"
    page = browser_client.get(run_url)
    assert page.status_code == 200 and "Queued" in page.text and "waiting for a worker" in page.text
    assert 'data-live="true"' in page.text


def test_unsupported_and_too_large_uploads_store_nothing(
    browser_client: httpx.Client, web: Api
) -> None:
    refused = _upload(browser_client, "report.pdf", b"%PDF-1.7")
    assert refused.status_code == 415
    assert "cannot read this kind of file" in refused.json()["detail"]
    big = _upload(browser_client, "big.csv", b"a,b\n" + b"1,2\n" * (UPLOAD_LIMIT // 4 + 10))
    assert big.status_code == 413
    assert big.json()["detail"] == (
        "The file is larger than the upload limit of 1 MiB; nothing was stored."
    )
    empty = _upload(browser_client, "empty.csv", b"")
    assert empty.status_code == 400 and "empty" in empty.json()["detail"]
    assert _api_documents(web) == []
    assert list(web.store.list("documents/")) == []


def test_every_format_the_engine_reads_is_accepted(browser_client: httpx.Client, web: Api) -> None:
    page = browser_client.get(DOCS).text
    accept = re.search(r'accept="([^"]+)"', page)
    assert accept
    for suffix in (".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".xlsb", ".xls", ".ods", ".html"):
        assert suffix in accept.group(1).split(","), suffix
        reply = _upload(browser_client, f"staff{suffix.upper()}", b"Email,Name\na@x.org,Ann\n")
        assert reply.status_code == 201, (suffix, reply.text)
    assert "OpenDocument (.ods)" in page and "up to 1 MiB" in page
    refused = _upload(browser_client, "minutes.numbers", b"x")
    assert refused.status_code == 415
    assert "It reads CSV or text (.csv, .tsv, .txt), Excel (.xlsx" in refused.json()["detail"]


def test_sizes_are_shown_in_binary_units() -> None:
    assert [filesize(n) for n in (None, 0, 1023, 1024, 1536, 300_000, 1024**3, 5 * 1024**4)] == [
        "", "0 bytes", "1023 bytes", "1 KiB", "1.5 KiB", "293 KiB", "1 GiB", "5 TiB"
    ]  # fmt: skip


def test_documents_search_and_pages(browser_client: httpx.Client, web: Api) -> None:
    for number in range(30):
        web.upload(web.a, name=f"{'payroll' if number % 2 else 'roster'}-{number:02}.csv")
    first = browser_client.get(DOCS)
    names = re.findall(r'<td class="name">([^<]+)</td>', first.text)
    assert len(names) == 25 and names[0] == "payroll-29.csv"  # newest first
    older = re.search(r'href="([^"]*cursor=[^"]+)">Older', first.text)
    assert older
    second = browser_client.get(older.group(1).replace("&amp;", "&"))
    rest = re.findall(r'<td class="name">([^<]+)</td>', second.text)
    assert len(rest) == 5 and not set(rest) & set(names) and "Older" not in second.text
    found = browser_client.get(DOCS, params={"q": "ROSTER-1"})
    hits = re.findall(r'<td class="name">([^<]+)</td>', found.text)
    assert sorted(hits) == [
        "roster-10.csv",
        "roster-12.csv",
        "roster-14.csv",
        "roster-16.csv",
        "roster-18.csv",
    ]
    nothing = browser_client.get(DOCS, params={"q": "%"})
    assert "No document name contains" in nothing.text


def test_delete_hides_the_document(browser_client: httpx.Client, web: Api) -> None:
    document = web.upload(web.a, name="old.csv").json()["document"]["id"]
    page = browser_client.get(DOCS)
    reply = browser_client.post(f"{DOCS}/{document}/delete", data={"csrf_token": csrf_of(page)})
    assert reply.status_code == 303
    after = browser_client.get(reply.headers["location"])
    assert "old.csv" not in after.text and "was deleted" in after.text
    assert _api_documents(web) == []


def _config_form(client: httpx.Client, path: str = f"{CONFIGS}/new") -> dict[str, str]:
    page = client.get(path)
    assert page.status_code == 200
    return {"csrf_token": csrf_of(page)}


def test_configuration_errors_are_shown_next_to_the_text(
    browser_client: httpx.Client, web: Api
) -> None:
    form = _config_form(browser_client)
    broken = browser_client.post(
        CONFIGS, data={**form, "name": "Staff", "spec": '{"fields": [\n  {"name": "email",}\n]}'}
    )
    assert broken.status_code == 422
    assert "line 2, column 20" in broken.text and "not valid JSON" in broken.text
    assert "{&#34;name&#34;: &#34;email&#34;,}" in broken.text  # the text is kept for fixing
    spec = {"fields": [{"name": "email", "type": "colour"}, {"name": "Bad Name"}]}
    invalid = browser_client.post(CONFIGS, data={**form, "name": "Staff", "spec": json.dumps(spec)})
    assert invalid.status_code == 422
    errors = re.findall(r"<li><code>([^<]+)</code>: ([^<]+)</li>", invalid.text)
    locations = [where for where, _ in errors]
    assert "spec.fields[0].type" in locations and "spec.fields[1].name" in locations
    twice = {"fields": [{"name": "email", "type": "email"}, {"name": "email", "type": "email"}]}
    clash = browser_client.post(CONFIGS, data={**form, "name": "Staff", "spec": json.dumps(twice)})
    [(where, message)] = re.findall(r"<li><code>([^<]+)</code>: ([^<]+)</li>", clash.text)
    assert where == "spec" and message.startswith("fields[1]: duplicate field name")
    with web.session() as session:
        assert session.query(Configuration).count() == 2  # nothing saved (A's and B's default)


def test_create_activate_and_archive_a_configuration(
    browser_client: httpx.Client, web: Api
) -> None:
    form = _config_form(browser_client)
    spec = {"name": "staff", "fields": [{"name": "email", "type": "email", "required": True}]}
    saved = browser_client.post(
        CONFIGS, data={**form, "name": "Staff v2", "spec": json.dumps(spec), "activate": "on"}
    )
    assert saved.status_code == 303
    page = browser_client.get(saved.headers["location"])
    assert "Saved as a new configuration" in page.text and "★ Active" in page.text
    listing = browser_client.get(CONFIGS).text
    assert listing.count("★ Active") == 1
    rows = re.findall(r'<a href="(/w/tenant-a/configurations/[^"]+)">([^<]+)</a>', listing)
    default = next(url for url, name in rows if name != "Staff v2")
    staff = next(url for url, name in rows if name == "Staff v2")
    # the active one cannot be archived: no button; a forged post is refused with the reason
    assert "/archive" not in page.text and "/activate" not in page.text
    # editing it saves a copy that is not activated unless the person ticks the box
    assert '<input id="activate" name="activate" type="checkbox">' in page.text
    refused = browser_client.post(f"{staff}/archive", data=_config_form(browser_client, staff))
    assert refused.status_code == 200 and "Not done: the active configuration" in refused.text
    activated = browser_client.post(
        f"{default}/activate", data=_config_form(browser_client, default)
    )
    assert activated.status_code == 303
    assert "Not active" in browser_client.get(staff).text  # was in use: not called a draft
    assert "Draft" not in browser_client.get(CONFIGS).text
    assert f'action="{staff}/archive"' in browser_client.get(staff).text  # a draft: offered
    archived = browser_client.post(f"{staff}/archive", data=_config_form(browser_client, staff))
    assert archived.status_code == 303
    assert "Archived" in browser_client.get(staff).text


def _finished_run(
    web: Api, summary: dict[str, Any] | None, status: str = "succeeded", **fields: Any
) -> str:
    """A run as the worker leaves it, written directly (these tests are about the page)."""
    now = utcnow()
    with web.session() as session:
        configuration = (
            session.query(Configuration).filter_by(workspace_id=uuid.UUID(web.a.id)).first()
        )
        document = Document(
            id=uuid.uuid4(),
            workspace_id=uuid.UUID(web.a.id),
            original_filename="staff.xlsx",
            content_type="application/octet-stream",
            byte_size=10,
            sha256="0" * 64,
            blob_key="documents/x",
            created_at=now,
        )
        session.add(document)
        session.flush()
        run = Run(
            id=uuid.uuid4(),
            workspace_id=uuid.UUID(web.a.id),
            document_id=document.id,
            configuration_id=configuration.id,
            status=status,
            available_at=now,
            attempt_count=1,
            created_at=now,
            finished_at=now,
            summary=summary,
            **fields,
        )
        session.add(run)
        session.commit()
        return str(run.id)


def _table_csv(rows: int) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Email", "Full Name"])
    for number in range(rows):
        writer.writerow([f"p{number}@x.org", f"Person {number}"])
    return out.getvalue().encode()


SUMMARY_TODAY = {
    "file": "staff.xlsx",
    "tables_found": 1,
    "rows": 60,
    "issues": {"total": 1, "by_field": {"email": {"invalid_value": 1}}},
    "tables": [
        {
            "number": 1,
            "sheet": "Staff",
            "range": "A3:C63",
            "header_rows": [3],
            "rows": 60,
            "mapping": [
                {
                    "column": "A",
                    "header": "E-mail",
                    "field": "email",
                    "score": 0.95,
                    "reason": "mapped",
                },
                {
                    "column": "B",
                    "header": "Employer",
                    "field": None,
                    "score": 0.41,
                    "reason": "unknown_header",
                    "best_candidate": "full_name",
                },
                {
                    "column": "C",
                    "header": "Email 2",
                    "field": None,
                    "score": 0.9,
                    "reason": "duplicate",
                    "duplicate_of": "A",
                },
            ],
        }
    ],
}

SUMMARY_WITH_EVIDENCE = {
    "file": "staff.xlsx",
    "tables_found": 1,
    "rows": 60,
    "issues": {
        "total": 2,
        "by_field": {"email": {"invalid_value": 2}},
        "examples": {
            "email": [
                {
                    "row": 7,
                    "column": "A",
                    "value": "not-an-email",
                    "code": "invalid_value",
                    "message": "not an email address",
                }
            ]
        },
    },
    "tables": [
        {
            "number": 1,
            "sheet": "Staff",
            "range": "A1:C61",
            "rows": 60,
            "unmapped_columns": [{"column": "C", "header": "Notes"}],
            "mapping": [
                {
                    "column": "A",
                    "header": "Contact",
                    "field": "email",
                    "score": 0.62,
                    "reason": "mapped_by_values",
                    "evidence": {"type": "email", "matched": 0.97, "sample": 200},
                },
                {
                    "column": "B",
                    "header": "Full Name",
                    "field": None,
                    "score": 1.0,
                    "reason": "values_mismatch",
                    "evidence": {"type": "full_name", "matched": 0.12},
                },
                {
                    "column": "C",
                    "header": "Notes",
                    "field": None,
                    "reason": "kept_for_reference",
                    "confidence": "low",
                },
            ],
        }
    ],
}


def test_run_page_shows_mapping_reasons_and_preview(browser_client: httpx.Client, web: Api) -> None:
    run = _finished_run(web, SUMMARY_TODAY)
    web.store.write(run_table_key(web.a.id, run, 1), io.BytesIO(_table_csv(60)))
    page = browser_client.get(f"/w/tenant-a/runs/{run}")
    assert page.status_code == 200
    text = page.text
    assert "✔ " not in text  # the check mark comes from CSS, the word is in the page
    assert ">Succeeded<" in text and 'data-live="false"' in text
    assert "Sheet “Staff”, cells A3:C63, 60 rows, header in row 3" in text
    assert "1 table found, 60 rows, 1 issue." in text
    # Plain sentences; the reason's code only under the row's Details.
    assert "The header matches this field.<br>" not in text
    assert re.search(r'<td class="why">The header matches this field\.\s*<details>', text)
    assert "<dt>reason code</dt><dd><code>mapped</code></dd>" in text
    assert "Closest field: full_name." in text and "Duplicate of column A." in text
    assert "First 50 normalized rows" in text
    assert "95%" in text
    preview = re.search(r'<table class="list preview">(.*?)</table>', text, re.S)
    assert preview
    assert preview.group(1).count("<tr>") == 51  # header + the first 50 rows of 60
    assert "p49@x.org" in text and "p50@x.org" not in text
    assert f"/w/tenant-a/runs/{run}/download/workbook" in text
    assert f"/w/tenant-a/runs/{run}/download/tables/1" in text
    assert "see the workbook's issues sheet" in text  # today's summaries have no examples


def test_the_preview_shows_columns_with_data_and_names_the_empty_ones(
    browser_client: httpx.Client, web: Api
) -> None:
    run = _finished_run(web, SUMMARY_TODAY)
    table = "Employee ID,Email,Middle Name,Full Name\n,a@x.org,,Ann Lee\n,b@x.org,,Bob Roy\n"
    web.store.write(run_table_key(web.a.id, run, 1), io.BytesIO(table.encode()))
    text = browser_client.get(f"/w/tenant-a/runs/{run}").text
    preview = re.search(r'<table class="list preview">(.*?)</table>', text, re.S)
    assert preview
    assert re.findall(r'<th scope="col">([^<]+)</th>', preview.group(1)) == ["Email", "Full Name"]
    assert "<tr><td>a@x.org</td><td>Ann Lee</td></tr>" in preview.group(1)
    assert "Empty in these rows, so not shown: Employee ID, Middle Name" in text


def test_run_page_shows_evidence_and_reasons_it_does_not_know(
    browser_client: httpx.Client, web: Api
) -> None:
    run = _finished_run(web, SUMMARY_WITH_EVIDENCE)  # no table file stored: said so
    text = browser_client.get(f"/w/tenant-a/runs/{run}").text
    assert "Mapped by its values (the header alone did not decide)." in text
    assert "<dd><code>mapped_by_values</code></dd>" in text
    assert "<dt>matched</dt><dd>97%</dd>" in text and "<dt>sample</dt><dd>200</dd>" in text
    assert "The header matches, but the values do not fit the field." in text
    assert "<dd>12%</dd>" in text
    assert "Kept for reference." in text  # an unknown reason: its code in words
    assert "<dt>confidence</dt><dd>low</dd>" in text  # an unknown key: under Details
    assert "<li>Column C “Notes”</li>" in text
    assert "row 7, column A: “not-an-email” — not an email address" in text
    assert "no longer stored" in text


def test_kept_columns_and_engine_notes_read_as_sentences(
    browser_client: httpx.Client, web: Api
) -> None:
    table = {
        "number": 1,
        "sheet": "Staff",
        "rows": 1,
        "header_rows": [1, 2],
        "unmapped_columns": [
            {
                "column": "G",
                "header": "Employer",
                "reason": "unknown_header",
                "kept_as": "Employer",
            },
            {"column": "H", "header": "Email", "reason": "duplicate", "kept_as": "Email (2)"},
        ],
        "mapping": [
            {
                "column": "G",
                "header": "Employer",
                "field": None,
                "reason": "unknown_header",
                "detail": "no field's name, label or alias matches this header",
                "kept_as": "Employer",
            }
        ],
    }
    run = _finished_run(web, {"tables_found": 1, "rows": 1, "tables": [table]})
    text = browser_client.get(f"/w/tenant-a/runs/{run}").text
    assert "1 table found, 1 row, 0 issues." in text and "1 row, header in rows 1, 2." in text
    assert "<li>Column G “Employer”: no field matches this header</li>" in text
    assert (
        "<li>Column H “Email”: another column already holds this field, kept as “Email (2)”" in text
    )
    assert (
        "No field matches this header.<br><small>Kept in the outputs as “Employer”.</small>" in text
    )
    assert "kept_as:" not in text and "detail:" not in text
    assert "<dt>detail</dt><dd>no field&#39;s name, label or alias matches this header</dd>" in text


def test_downloads_are_named_after_the_uploaded_file(
    browser_client: httpx.Client, web: Api
) -> None:
    run = _finished_run(web, SUMMARY_TODAY, output_byte_size=3)
    with web.session() as session:
        stored = session.get(Run, uuid.UUID(run))
        document = session.get(Document, stored.document_id)
        document.original_filename = "Roster «March».v2.csv"
        session.commit()
    web.store.write(run_table_key(web.a.id, run, 1), io.BytesIO(b"a\n1\n"))
    web.store.write(run_output_key(web.a.id, run), io.BytesIO(b"xyz"))
    workbook = browser_client.get(f"/w/tenant-a/runs/{run}/download/workbook")
    assert workbook.status_code == 200 and workbook.content == b"xyz"
    assert 'filename="Roster March.v2.normalized.xlsx"' in workbook.headers["content-disposition"]
    table = browser_client.get(f"/w/tenant-a/runs/{run}/download/tables/1")
    assert table.status_code == 200
    assert table.headers["content-disposition"] == (
        'attachment; filename="Roster March.v2.table-1.csv"; '
        "filename*=UTF-8''Roster%20%C2%ABMarch%C2%BB.v2.table-1.csv"
    )


def test_failed_runs_are_explained_in_plain_words(browser_client: httpx.Client, web: Api) -> None:
    cases = {
        "unsupported_format": "Save it as .xlsx or CSV",
        "no_table_found": "found no table",
        "storage_unavailable": "Nothing is wrong with your file",
        "something_new": "Something went wrong inside ADE",
    }
    for code, words in cases.items():
        run = _finished_run(
            web, None, status="failed", error_code=code, error_message=f"{code}: details"
        )
        text = browser_client.get(f"/w/tenant-a/runs/{run}").text
        assert "This run failed" in text and words in text, code
        assert f"<code>{code}</code>: {code}: details" in text


def test_cancel_then_run_again(browser_client: httpx.Client, web: Api) -> None:
    run = web.upload(web.a, process=True).json()["run"]["id"]
    page = browser_client.get(f"/w/tenant-a/runs/{run}")
    cancelled = browser_client.post(
        f"/w/tenant-a/runs/{run}/cancel", data={"csrf_token": csrf_of(page)}
    )
    assert cancelled.status_code == 303
    page = browser_client.get(f"/w/tenant-a/runs/{run}")
    assert ">Cancelled<" in page.text and "The run was cancelled." in page.text
    again = browser_client.post(
        f"/w/tenant-a/runs/{run}/cancel", data={"csrf_token": csrf_of(page)}
    )
    assert again.status_code == 409 and "run already cancelled" in again.text
    rerun = browser_client.post(
        f"/w/tenant-a/runs/{run}/rerun", data={"csrf_token": csrf_of(page), "configuration_id": ""}
    )
    assert rerun.status_code == 303
    new_run = rerun.headers["location"].rsplit("/", 1)[1]
    assert new_run != run
    api_run = web.client.get(web.a.url(f"/runs/{new_run}"), headers=web.a.headers).json()
    assert api_run["status"] == "queued"
    assert api_run["status"] == RunStatus.QUEUED


def test_a_columns_details_list_the_fields_the_engine_weighed(
    browser_client: httpx.Client, web: Api, tmp_path: Any
) -> None:
    from ade.db.configuration_spec import default_configuration
    from ade.worker.engine.pipeline import extract
    from tests.worker.engine.builders import write_csv

    # A real engine summary: its candidates are the ones the page must read.
    source = write_csv(
        tmp_path / "staff.csv",
        [["Name", "Email", "Emial"], ["Ann Lee", "a@x.org", "a@x.org"], ["Bo Roy", "b@x.org", ""]],
    )
    summary = extract(source, default_configuration(), tmp_path / "out").as_dict()
    run = _finished_run(web, summary)
    text = browser_client.get(f"/w/tenant-a/runs/{run}").text
    details = re.findall(r"<details><summary>Details</summary>(.*?)</details>", text, re.S)
    name = next(d for d in details if "Chosen: full_name" in d)
    assert (
        '<ul class="candidates"><li>Chosen: full_name (header 0.99, values 100% of 2)</li>' in name
    )
    assert (
        "<li>Also considered: first_name (header 0.65, values 100% of 2) — lost: header score "
        "below match_threshold (0.75)</li>" in name
    )
    assert (
        "<li>Also considered: email (header 0.90, values 100% of 1) — lost: email is mapped "
        in text
    )
    assert "candidates</dt>" not in text  # not repeated as a raw key
