"""Upload -> run -> the real worker drains the queue -> download the outputs."""

from __future__ import annotations

import csv
import io
import json

from openpyxl import load_workbook

from ade.worker.service import Worker
from ade.worker.settings import load_settings
from tests.api.conftest import Api
from tests.support.worker_settings import worker_overrides

PEOPLE = (
    "First Name,Last Name,E-mail,Phone\n"
    "Ada,Lovelace,ADA@example.com,555-123-4567\n"
    "Alan,Turing,alan@example.com,(555) 987 6543\n"
)

FAST = worker_overrides(heartbeat_seconds=0.2)


def test_upload_process_drain_download(backend_api: Api) -> None:
    api = backend_api
    upload = api.upload(api.a, PEOPLE.encode(), "people.csv", process="true").json()
    run_id = upload["run"]["id"]

    worker = Worker(api.database_url, settings=load_settings(**FAST), store=api.store, drain=True)
    assert worker.run_forever() == 0

    run = api.client.get(api.a.url(f"/runs/{run_id}"), headers=api.a.headers).json()
    assert run["status"] == "succeeded", run
    assert run["attempt_count"] == 1 and run["finished_at"] is not None

    output = api.client.get(api.a.url(f"/runs/{run_id}/output"), headers=api.a.headers)
    assert output.status_code == 200
    workbook = load_workbook(io.BytesIO(output.content), read_only=True)
    assert workbook.sheetnames

    table = api.client.get(
        api.a.url(f"/runs/{run_id}/output"),
        headers=api.a.headers,
        params={"format": "csv", "table": 1},
    )
    assert table.status_code == 200, table.text
    rows = list(csv.reader(io.StringIO(table.content.decode("utf-8-sig"))))
    flat = " ".join(" ".join(row) for row in rows)
    assert "ada@example.com" in flat.lower() and "Turing" in flat

    events = [
        json.loads(line)
        for line in api.client.get(
            api.a.url(f"/runs/{run_id}/events"), headers=api.a.headers
        ).text.splitlines()
    ]
    assert events and [e["seq"] for e in events] == list(range(1, len(events) + 1))
