"""ADE in a real browser: Debian's headless Chromium, driven by Playwright, against a real
`ade api start` and `ade worker start` on SQLite. What a person does, and what they see."""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from openpyxl import Workbook, load_workbook
from playwright.sync_api import Browser, Dialog, Locator, Page, expect, sync_playwright
from sqlalchemy.orm import Session

from ade.api.admin import revoke_api_key
from ade.api.web.security import SESSION_COOKIE
from ade.db.engine import create_engine, create_session_factory
from tests.api.conftest import Tenant, make_tenant, migrate
from tests.web.live import UPLOAD_LIMIT, Ade, api_server, chromium_or_skip, worker

RUN_TIMEOUT_MS = 120_000  # a loaded 2-core CI machine; only a guard against a hung test


@pytest.fixture(scope="module")
def ade(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ade]:
    root = tmp_path_factory.mktemp("ade")
    url = f"sqlite:///{root / 'db' / 'ade.sqlite'}"
    migrate(url)
    with api_server(root / "data", url) as server:
        yield server


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = chromium_or_skip()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture()
def page(browser: Browser, ade: Ade) -> Iterator[Page]:
    """A fresh tab; whatever a test does in it, every request goes to ADE's own origin."""
    context = browser.new_context(accept_downloads=True)
    requested: list[str] = []
    context.on("request", lambda request: requested.append(request.url))
    opened = context.new_page()
    opened.set_default_timeout(30_000)
    yield opened
    context.close()
    elsewhere = [url for url in requested if not url.startswith(ade.base_url + "/")]
    assert elsewhere == [], f"requests to other hosts: {elsewhere}"


@pytest.fixture()
def tenant(ade: Ade, request: pytest.FixtureRequest) -> Tenant:
    slug = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower())[:50].strip("-")
    return make_tenant(ade.database_url, f"Team {slug}", slug)


@contextmanager
def make_session(ade: Ade) -> Iterator[Session]:
    """A database session on the server's database, as an administrator's CLI would have."""
    engine = create_engine(ade.database_url, null_pool=True)
    try:
        with create_session_factory(engine)() as session:
            yield session
    finally:
        engine.dispose()


def staff_workbook() -> bytes:
    """An export as people make them: a title row, a blank row, then the table."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Staff"
    sheet.append(["Staff list, exported 2024-03-01"])
    sheet.append([])
    sheet.append(["Full Name", "E-mail", "Hire Date"])
    sheet.append(["Ann Lee", "ann@example.org", "2021-05-03"])
    sheet.append(["Bob Roy", "bob@example.org", "2020-01-15"])
    sheet.append(["Cy Dunn", "not an email", "2019-11-30"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def sign_in(page: Page, ade: Ade, tenant: Tenant) -> None:
    page.goto(ade.base_url + "/")
    expect(page).to_have_url(re.compile(r"/sign-in$"))
    page.get_by_label("API key").fill(tenant.key)
    page.keyboard.press("Enter")  # the keyboard is enough
    expect(page).to_have_url(f"{ade.base_url}/w/{tenant.slug}/documents")


def assert_every_control_is_labelled(page: Page) -> None:
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll(
                'input:not([type=hidden]), select, textarea, button')]
            .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                          && !(el.tagName === 'BUTTON' && el.textContent.trim()))
            .map(el => el.outerHTML)"""
    )
    assert unlabelled == [], unlabelled


def mapping_row(page: Page, header: str) -> Locator:
    """The mapping table's row of the column with this header (the first table)."""
    cell = page.locator("td.header-cell").filter(has_text=re.compile(f"^{re.escape(header)}$"))
    return page.locator("table.mapping").first.locator("tbody tr").filter(has=cell)


def field_chooser(page: Page, header: str) -> Locator:
    return mapping_row(page, header).get_by_role("combobox")


def run_id_of(page: Page) -> str:
    match = re.search(r"/runs/([0-9a-f-]{36})$", page.url)
    assert match, page.url
    return match.group(1)


def test_upload_watch_the_run_see_the_mapping_download_and_sign_out(
    page: Page, ade: Ade, tenant: Tenant, tmp_path: Path
) -> None:
    sign_in(page, ade, tenant)
    assert_every_control_is_labelled(page)
    workbook = tmp_path / "staff export.xlsx"
    workbook.write_bytes(staff_workbook())

    page.get_by_label("Choose a file, or drop it here").set_input_files(workbook)
    expect(page).to_have_url(re.compile(r"/runs/[0-9a-f-]{36}$"))
    status = page.locator("#run-status")
    expect(status).to_have_text("Queued")  # no worker yet: the page must update by itself
    page.evaluate("window.adeMarker = 'same page'")
    assert_every_control_is_labelled(page)

    with worker(ade):
        expect(status).to_have_text("Succeeded", timeout=RUN_TIMEOUT_MS)
    assert page.evaluate("window.adeMarker") == "same page", "the page reloaded"

    expect(mapping_row(page, "E-mail")).to_contain_text("The header matches this field.")
    expect(field_chooser(page, "E-mail")).to_have_value("email")
    expect(field_chooser(page, "Full Name")).to_have_value("full_name")
    preview = page.locator("table.preview").first
    expect(preview).to_contain_text("ann@example.org")
    expect(preview.locator("tbody tr")).to_have_count(3)
    issues = page.get_by_role("region", name=re.compile("Issues")).or_(
        page.locator("section", has=page.get_by_role("heading", name="Issues by field"))
    )
    expect(issues.first).to_contain_text("not an email")

    with page.expect_download() as started:
        page.get_by_role("link", name=re.compile("Download workbook")).click()
    download = started.value
    assert download.suggested_filename == "staff export.normalized.xlsx"
    content = Path(download.path()).read_bytes()
    run = run_id_of(page)
    with httpx.Client(base_url=ade.base_url, headers=tenant.headers) as api:
        stored = api.get(f"/api/v1/workspaces/{tenant.slug}/runs/{run}").json()
    assert hashlib.sha256(content).hexdigest() == stored["output_sha256"]
    assert zipfile.is_zipfile(io.BytesIO(content))
    sheet = load_workbook(io.BytesIO(content), read_only=True).worksheets[0]
    values = [cell for row in sheet.iter_rows(values_only=True) for cell in row]
    assert "ann@example.org" in values and "Bob Roy" in values

    cookie = next(c["value"] for c in page.context.cookies() if c["name"] == SESSION_COOKIE)
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/sign-in\?notice=signed-out$"))
    expect(page.get_by_role("status")).to_have_text("You have signed out.")
    page.goto(f"{ade.base_url}/w/{tenant.slug}/runs/{run}")
    expect(page).to_have_url(re.compile(r"/sign-in\?next="))
    replay = httpx.get(
        f"{ade.base_url}/w/{tenant.slug}/documents", cookies={SESSION_COOKIE: cookie}
    )
    assert replay.status_code == 303, "a signed-out session still works"


def test_a_configuration_error_is_shown_next_to_the_text(
    page: Page, ade: Ade, tenant: Tenant
) -> None:
    sign_in(page, ade, tenant)
    page.get_by_role("link", name="Configurations").click()
    page.locator("table.list a").first.click()
    editor = page.get_by_label("Configuration (JSON)")
    text = editor.input_value()
    assert '"type": "email"' in text
    editor.fill(text.replace('"type": "email"', '"type": "colour"', 1))
    page.get_by_label("Name").fill("Staff with a typo")
    assert_every_control_is_labelled(page)
    page.get_by_role("button", name="Save as new configuration").click()

    errors = page.locator("#spec_errors")
    expect(errors).to_contain_text("Not saved: 1 problem")
    expect(errors).to_contain_text(re.compile(r"spec\.fields\[\d+\]\.type: Input should be"))
    expect(editor).to_have_attribute("aria-invalid", "true")
    assert '"type": "colour"' in editor.input_value()  # the user's text is kept for fixing

    editor.fill(editor.input_value().replace('"type": "colour"', '"type": "email"'))
    page.get_by_label("Make it the active configuration").check()
    page.get_by_role("button", name="Save as new configuration").click()
    expect(page.get_by_role("status")).to_have_text("Saved as a new configuration.")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Staff with a typo")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Active")


def test_hostile_file_names_and_header_cells_are_shown_as_text(
    page: Page, ade: Ade, tenant: Tenant
) -> None:
    dialogs: list[str] = []

    def record(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", record)
    sign_in(page, ade, tenant)
    name = "<img src=x onerror=alert(1)>.csv"
    header = "<b>E-mail</b><img src=x onerror=alert(2)>"
    csv = f'Full Name,"{header}"\nAnn Lee,ann@example.org\n'.encode()
    page.get_by_label("Choose a file, or drop it here").set_input_files(
        {"name": name, "mimeType": "text/csv", "buffer": csv}
    )
    expect(page).to_have_url(re.compile(r"/runs/[0-9a-f-]{36}$"))
    with worker(ade):
        expect(page.locator("#run-status")).to_have_text("Succeeded", timeout=RUN_TIMEOUT_MS)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Run of {name}")
    expect(page.locator("td.header-cell", has_text="onerror=alert(2)")).to_have_text(header)
    page.get_by_role("link", name="Documents").first.click()
    expect(page.locator("td.name").first).to_have_text(name)
    assert page.locator("img").count() == 0 and page.locator("b").count() == 0
    assert dialogs == []


def _drop(page: Page, name: str, size: int, mime: str) -> None:
    """What the browser does when a file is dragged onto the drop zone."""
    page.evaluate(
        """([name, size, mime]) => {
            const transfer = new DataTransfer();
            const body = new Uint8Array(size);
            body.set(new TextEncoder().encode("Full Name,Email\\nAnn Lee,ann@example.org\\n"));
            transfer.items.add(new File([body], name, { type: mime }));
            const zone = document.getElementById("upload");
            for (const type of ["dragenter", "dragover", "drop"]) {
                const init = { dataTransfer: transfer, bubbles: true, cancelable: true };
                zone.dispatchEvent(new DragEvent(type, init));
            }
        }""",
        [name, size, mime],
    )


def test_drag_and_drop_uploads_and_refuses_clearly(page: Page, ade: Ade, tenant: Tenant) -> None:
    sign_in(page, ade, tenant)
    status = page.locator("#upload_status")
    _drop(page, "minutes.pdf", 100, "application/pdf")
    expect(status).to_contain_text("“minutes.pdf” is not a file ADE can read")
    _drop(page, "huge.csv", UPLOAD_LIMIT + 1, "text/csv")
    expect(status).to_contain_text(
        "“huge.csv” is too large: 300,001 bytes, and the limit is 300,000 bytes"
    )
    _drop(page, "huger.csv", 2 * UPLOAD_LIMIT, "text/csv")
    expect(status).to_contain_text("“huger.csv” is too large: 585.9 KiB, and the limit is 293 KiB")
    _drop(page, "minutes.numbers", 100, "application/octet-stream")
    expect(status).to_contain_text(
        "“minutes.numbers” is not a file ADE can read. It reads CSV or text (.csv, .tsv, .txt), "
        "Excel (.xlsx, .xlsm, .xlsb, .xls), OpenDocument (.ods) or a web page's table"
    )
    expect(page.locator("td.name")).to_have_count(0)  # nothing was uploaded
    requests: list[Any] = []
    page.on("request", lambda request: requests.append(request.url))
    _drop(page, "dropped.csv", 60, "text/csv")
    expect(page).to_have_url(re.compile(r"/runs/[0-9a-f-]{36}$"))
    assert any("/documents/upload?filename=dropped.csv" in url for url in requests)
    expect(page.get_by_role("heading", level=1)).to_have_text("Run of dropped.csv")


def test_revoking_the_key_sends_an_open_run_page_to_sign_in(
    page: Page, ade: Ade, tenant: Tenant, tmp_path: Path
) -> None:
    sign_in(page, ade, tenant)
    page.get_by_label("Choose a file, or drop it here").set_input_files(
        {"name": "staff.xlsx", "mimeType": "application/octet-stream", "buffer": staff_workbook()}
    )
    expect(page).to_have_url(re.compile(r"/runs/[0-9a-f-]{36}$"))
    expect(page.locator("#run-status")).to_have_text("Queued")  # its event stream is open
    # Whatever the page shows from the stream from now on is kept where the test can see it,
    # across the navigation to the sign-in page (sessionStorage lives as long as the tab).
    page.evaluate(
        """() => new MutationObserver(() => sessionStorage.setItem(
                "shown", document.getElementById("run-log").textContent))
            .observe(document.getElementById("run-log"), { childList: true })"""
    )
    with make_session(ade) as session:
        revoke_api_key(session, tenant.prefix)
        session.commit()
    run_page = page.url.removeprefix(ade.base_url)
    with worker(ade):  # the run now writes events: none may reach the revoked session
        expect(page).to_have_url(
            f"{ade.base_url}/sign-in?next={quote(run_page, safe='')}", timeout=RUN_TIMEOUT_MS
        )
    expect(page.get_by_label("API key")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('shown')") is None, "events after revocation"


def roster_csv(rows: int, first: int = 0) -> bytes:
    """A roster the default configuration maps badly: it misses "Started" (a hire date) and
    takes "Badge" (a door badge, not the employee's ID) as employee_id."""
    lines = ["Worker,Started,Badge,Division"]
    for number in range(first, first + rows):
        lines.append(
            f"Person {chr(65 + number % 26)}{number},2021-05-{1 + number % 28:02},B-{number},Sales"
        )
    return ("\n".join(lines) + "\n").encode()


def first_paint_ms(page: Page) -> float:
    """The run page's first contentful paint after a fresh navigation, as Chromium reports it."""
    page.reload()
    page.wait_for_load_state("load")
    value = page.evaluate(
        """() => new Promise((done) => new PerformanceObserver((list, observer) => {
            const entry = list.getEntries().find((e) => e.name === "first-contentful-paint");
            if (entry) { observer.disconnect(); done(entry.startTime); }
        }).observe({ type: "paint", buffered: true }))"""
    )
    return float(value)


def test_correct_a_wrong_and_a_missed_mapping_and_the_next_upload_is_mapped_so(
    page: Page, ade: Ade, tenant: Tenant, record_property: Any
) -> None:
    sign_in(page, ade, tenant)
    upload = page.get_by_label("Choose a file, or drop it here")
    with worker(ade):
        upload.set_input_files(
            {"name": "roster.csv", "mimeType": "text/csv", "buffer": roster_csv(60)}
        )
        expect(page.locator("#run-status")).to_have_text("Succeeded", timeout=RUN_TIMEOUT_MS)
        first_run = run_id_of(page)
        expect(field_chooser(page, "Started")).to_have_value("")  # missed
        expect(field_chooser(page, "Badge")).to_have_value("employee_id")  # wrong
        expect(page.locator("table.preview tbody tr")).to_have_count(50)
        paint = first_paint_ms(page)
        record_property("run_page_first_contentful_paint_ms_50_rows", round(paint, 1))
        print(f"\nrun page, 50-row preview: first contentful paint {paint:.0f} ms")
        assert_every_control_is_labelled(page)

        # Keyboard only: focus a chooser, type the field's first letters, move on with keys.
        field_chooser(page, "Started").focus()
        page.keyboard.type("hire")
        expect(field_chooser(page, "Started")).to_have_value("hire_date")
        field_chooser(page, "Badge").focus()
        page.keyboard.press("Home")  # the first choice: "not mapped"
        expect(field_chooser(page, "Badge")).to_have_value("")
        page.get_by_role("button", name="Save and run again…").focus()
        page.keyboard.press("Enter")

        changes = page.locator("table.changes tbody tr")
        expect(changes).to_have_count(2)
        expect(changes.nth(0)).to_have_text(re.compile(r"B\s*Started\s*not mapped\s*hire_date"))
        expect(changes.nth(1)).to_have_text(re.compile(r"C\s*Badge\s*employee_id\s*not mapped"))
        expect(page.locator("main")).to_contain_text("the new one becomes active")
        assert_every_control_is_labelled(page)
        page.get_by_role("button", name="Save and run again").focus()
        page.keyboard.press("Enter")

        expect(page).to_have_url(re.compile(r"/runs/[0-9a-f-]{36}\?notice=corrected-active$"))
        expect(page.locator("p.notice")).to_contain_text("now the active one")
        expect(page.locator("#run-status")).to_have_text("Succeeded", timeout=RUN_TIMEOUT_MS)
        assert first_run not in page.url
        expect(field_chooser(page, "Started")).to_have_value("hire_date")
        expect(mapping_row(page, "Started")).to_contain_text("Mapped by the configuration.")
        expect(field_chooser(page, "Badge")).to_have_value("")
        expect(mapping_row(page, "Badge")).to_contain_text("Excluded by the configuration.")
        header = page.locator("table.preview thead th").all_inner_texts()
        assert "Started" not in header, header  # no longer kept as an unmapped column
        first_row = page.locator("table.preview tbody tr").first.locator("td").all_inner_texts()
        assert first_row[header.index("Hire Date")] == "2021-05-01"

        # Remembered: the next upload with the same headers is mapped so, with no action.
        page.get_by_role("link", name="Documents").first.click()
        upload.set_input_files(
            {"name": "roster-2.csv", "mimeType": "text/csv", "buffer": roster_csv(5, 100)}
        )
        expect(page).to_have_url(re.compile(r"/runs/[0-9a-f-]{36}$"))
        expect(page.locator("#run-status")).to_have_text("Succeeded", timeout=RUN_TIMEOUT_MS)
        expect(field_chooser(page, "Started")).to_have_value("hire_date")
        expect(field_chooser(page, "Badge")).to_have_value("")
        expect(page.locator("p.meta").first).to_contain_text("(corrected ")


FIXTURES = Path(__file__).resolve().parents[1] / "worker" / "engine" / "fixtures"


def test_every_format_the_engine_reads_is_accepted_by_the_page(
    page: Page, ade: Ade, tenant: Tenant
) -> None:
    sign_in(page, ade, tenant)
    picker = page.get_by_label("Choose a file, or drop it here")
    accept = picker.get_attribute("accept") or ""
    expect(page.locator("#upload_help")).to_contain_text("OpenDocument (.ods)")
    expect(page.locator("#upload_help")).to_contain_text("up to 293 KiB")
    with worker(ade):
        for name in ("roster.ods", "roster.xls", "roster.xlsb"):
            assert "." + name.split(".")[1] in accept.split(","), accept
            page.goto(f"{ade.base_url}/w/{tenant.slug}/documents")
            picker.set_input_files(FIXTURES / name)
            expect(page).to_have_url(re.compile(r"/runs/[0-9a-f-]{36}$"))
            expect(page.locator("#run-status")).to_have_text("Succeeded", timeout=RUN_TIMEOUT_MS)
            expect(page.locator("table.preview tbody tr").first).to_be_visible()


def test_the_api_docs_page_points_to_the_openapi_document_and_loads_nothing_else(
    page: Page, ade: Ade
) -> None:
    loaded: list[str] = []
    page.on("request", lambda request: loaded.append(request.url))
    reply = page.goto(f"{ade.base_url}/api/docs")
    assert reply is not None and reply.ok
    assert "default-src 'none'" in (reply.headers.get("content-security-policy") or "")
    page.get_by_role("link", name="/api/openapi.json").click()
    expect(page).to_have_url(f"{ade.base_url}/api/openapi.json")
    assert '"openapi"' in (page.text_content("body") or "")
    assert all(url.startswith(ade.base_url + "/") for url in loaded), loaded


def test_a_json_error_puts_the_cursor_on_its_line(page: Page, ade: Ade, tenant: Tenant) -> None:
    sign_in(page, ade, tenant)
    page.goto(f"{ade.base_url}/w/{tenant.slug}/configurations/new")
    editor = page.get_by_label("Configuration (JSON)")
    text = editor.input_value()
    lines = text.split("\n")
    at = next(i for i, line in enumerate(lines) if '"type": "email"' in line)
    lines[at] = lines[at].replace('"type": "email"', '"type": "email",,')  # line at + 1
    editor.fill("\n".join(lines))
    page.get_by_label("Name").fill("Broken")
    page.get_by_role("button", name="Save").click()
    go = page.get_by_role("button", name=re.compile(rf"^line {at + 1}, column \d+$"))
    column = int((go.text_content() or "").rsplit(" ", 1)[1])
    go.focus()
    page.keyboard.press("Enter")
    expect(editor).to_be_focused()
    offset = sum(len(line) + 1 for line in lines[:at]) + column - 1
    assert editor.evaluate("(el) => el.selectionStart") == offset
    assert_every_control_is_labelled(page)
