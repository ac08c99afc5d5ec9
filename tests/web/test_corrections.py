"""Correcting a mapping from the run page: the choices as header_overrides, the review and save
posts, and that the engine maps the next file with the same headers the corrected way."""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from ade.api.web.corrections import (
    CorrectionError,
    corrected_name,
    corrected_overrides,
    corrected_spec,
    proposed_changes,
)
from ade.db.configuration_spec import ConfigurationSpec, default_configuration
from ade.db.models import Configuration, ConfigurationStatus, Run
from ade.worker.engine.pipeline import extract
from tests.api.conftest import Api
from tests.web.conftest import csrf_of

ROSTER = (
    "Worker,Started,Badge,Division\n"
    "Ann Lee,2021-05-03,A-100,Sales\n"
    "Bob Roy,2020-01-15,A-101,Support\n"
    "Cy Dunn,2019-11-30,A-102,Sales\n"
    "Di Fox,2018-02-01,A-103,Legal\n"
    "Ed Gray,2017-07-07,A-104,Support\n"
)
"""The default configuration misses "Started" (hire_date) and takes "Badge" as employee_id."""


def _mapping(summary: dict[str, Any]) -> dict[str, tuple[str | None, str]]:
    return {m["header"]: (m["field"], m["reason"]) for m in summary["tables"][0]["mapping"]}


def _extract(tmp_path: Path, name: str, text: str, spec: ConfigurationSpec) -> dict[str, Any]:
    source = tmp_path / name
    source.write_text(text)
    summary = extract(source, spec, tmp_path / f"{name}.out", write_xlsx=False)
    return {"tables": summary.tables}


def test_corrections_are_remembered_by_the_engine_for_the_same_headers(tmp_path: Path) -> None:
    spec = default_configuration()
    before = _extract(tmp_path, "roster.csv", ROSTER, spec)
    assert _mapping(before)["Started"][0] is None
    assert _mapping(before)["Badge"][0] == "employee_id"
    fields = [item.name for item in spec.fields]
    chosen = {"map-1-B": "hire_date", "map-1-C": ""}
    changes = proposed_changes(before, fields, chosen.get)
    assert [(c.header, c.before, c.after) for c in changes] == [
        ("Started", None, "hire_date"),
        ("Badge", "employee_id", None),
    ]
    corrected = ConfigurationSpec.model_validate(
        corrected_spec(spec.model_dump(mode="json"), changes)
    )
    # Another file, same headers in another order and case: mapped as corrected at once.
    other = "BADGE,Worker,started\nA-200,Fay Hu,2022-02-02\nA-201,Gus Ito,2023-03-03\n"
    after = _mapping(_extract(tmp_path, "next.csv", other, corrected))
    assert after["started"] == ("hire_date", "configured")
    assert after["BADGE"] == (None, "excluded")
    assert after["Worker"] == ("full_name", "mapped")


def test_an_override_of_the_same_header_is_replaced_not_doubled() -> None:
    summary = {
        "tables": [
            {
                "number": 1,
                "mapping": [{"column": "A", "header": "E-Mail", "field": None, "reason": "x"}],
            }
        ]
    }
    changes = proposed_changes(summary, ["email"], {"map-1-A": "email"}.get)
    assert corrected_overrides({"e mail": None, "Notes": None}, changes) == {
        "Notes": None,
        "E-Mail": "email",
    }


def test_choices_that_cannot_be_saved_are_refused_with_a_reason() -> None:
    entries = [
        {"column": "A", "header": "Contact", "field": None, "reason": "unknown_header"},
        {"column": "B", "header": "CONTACT", "field": None, "reason": "duplicate"},
        {"column": "C", "header": "", "field": None, "reason": "blank_header"},
        {"column": "D", "header": "Column 4", "field": None, "reason": "blank_header"},
    ]
    summary = {"tables": [{"number": 1, "mapping": entries}]}
    with pytest.raises(CorrectionError, match="not a field of this configuration"):
        proposed_changes(summary, ["email"], {"map-1-A": "colour"}.get)
    with pytest.raises(CorrectionError, match="same header"):
        proposed_changes(summary, ["email", "phone"], {"map-1-A": "email", "map-1-B": "phone"}.get)
    # Blank and placeholder headers are decided before overrides: a choice there is ignored.
    ignored = proposed_changes(summary, ["email"], {"map-1-C": "email", "map-1-D": "email"}.get)
    assert ignored == []


def test_corrected_names_do_not_grow() -> None:
    now = datetime(2026, 12, 3, 10, 51)
    once = corrected_name("Staff", now)
    assert once == "Staff (corrected 2026-12-03 10:51)"
    assert corrected_name(once, now) == once
    assert len(corrected_name("x" * 200, now)) == 200


RUNS = "/w/tenant-a/runs"
SUMMARY = {
    "file": "roster.csv",
    "tables_found": 1,
    "rows": 5,
    "tables": [
        {
            "number": 1,
            "sheet": "roster",
            "rows": 5,
            "mapping": [
                {"column": "A", "header": "Worker", "field": "full_name", "reason": "mapped"},
                {"column": "B", "header": "Started", "field": None, "reason": "unknown_header"},
                {"column": "C", "header": "Badge", "field": "employee_id", "reason": "mapped"},
                {"column": "D", "header": "", "field": None, "reason": "blank_header"},
            ],
        }
    ],
}


def _run(web: Api, configuration_id: uuid.UUID | None = None) -> str:
    """A succeeded run of an uploaded document, its summary as the worker writes it."""
    run_id: str = web.upload(web.a, process=True).json()["run"]["id"]
    with web.session() as session:
        run = session.get(Run, uuid.UUID(run_id))
        run.status = "succeeded"
        run.summary = SUMMARY
        if configuration_id is not None:
            run.configuration_id = configuration_id
        session.commit()
    return run_id


def _configurations(web: Api) -> list[Configuration]:
    with web.session() as session:
        return list(
            session.query(Configuration)
            .filter_by(workspace_id=uuid.UUID(web.a.id))
            .order_by(Configuration.created_at)
        )


def test_the_run_page_offers_a_chooser_beside_each_correctable_column(
    browser_client: httpx.Client, web: Api
) -> None:
    page = browser_client.get(f"{RUNS}/{_run(web)}").text
    selects = re.findall(r'<select name="(map-1-[A-Z])" form="corrections"', page)
    assert selects == ["map-1-A", "map-1-B", "map-1-C"]  # not the blank header
    assert re.search(r'<option value="full_name" selected>full_name \(Full Name\)', page)
    assert re.search(r'<option value="" selected>not mapped</option>', page)
    assert 'aria-label="Field for column B, “Started”"' in page
    assert re.search(
        r'<form id="corrections" method="post" action="[^"]+/corrections/review">'
        r'\s*<input type="hidden" name="csrf_token"',
        page,
    )


def test_a_field_the_configuration_no_longer_has_stays_chosen(
    browser_client: httpx.Client, web: Api
) -> None:
    """Else the browser would select "not mapped" and saving would unmap the column."""
    run = _run(web)
    with web.session() as session:
        stored = session.get(Run, uuid.UUID(run))
        summary = json.loads(json.dumps(SUMMARY))
        summary["tables"][0]["mapping"][0]["field"] = "worker_name"
        stored.summary = summary
        session.commit()
    page = browser_client.get(f"{RUNS}/{run}").text
    assert '<option value="worker_name" selected>worker_name</option>' in page
    assert not re.search(r'name="map-1-A"[^>]*>\s*<option value="" selected', page)


def test_review_then_save_stores_a_new_active_configuration_and_runs_again(
    browser_client: httpx.Client, web: Api
) -> None:
    run = _run(web)
    [old] = _configurations(web)
    page = browser_client.get(f"{RUNS}/{run}")
    choices = {"map-1-A": "full_name", "map-1-B": "hire_date", "map-1-C": ""}
    review = browser_client.post(
        f"{RUNS}/{run}/corrections/review", data={"csrf_token": csrf_of(page), **choices}
    )
    assert review.status_code == 200
    rows = re.findall(r'<th scope="row" class="header-cell">([^<]+)</th>', review.text)
    assert rows == ["Started", "Badge"]  # Worker kept its field: no change listed
    assert "the new one becomes active" in review.text
    assert len(_configurations(web)) == 1, "the review stored something"
    hidden = dict(
        re.findall(r'<input type="hidden" name="(map-[^"]+)" value="([^"]*)">', review.text)
    )
    assert hidden == {"map-1-B": "hire_date", "map-1-C": ""}

    forged = browser_client.post(f"{RUNS}/{run}/corrections", data=hidden)
    assert forged.status_code == 403 and len(_configurations(web)) == 1

    saved = browser_client.post(
        f"{RUNS}/{run}/corrections", data={"csrf_token": csrf_of(review), **hidden}
    )
    assert saved.status_code == 303
    location = saved.headers["location"]
    assert location.endswith("?notice=corrected-active")
    new_run = re.search(r"/runs/([0-9a-f-]{36})", location)
    assert new_run and new_run.group(1) != run
    previous, created = _configurations(web)
    assert previous.spec == old.spec and previous.status == ConfigurationStatus.DRAFT
    assert created.status == ConfigurationStatus.ACTIVE
    assert created.name.startswith(f"{old.name} (corrected ")
    assert created.spec["header_overrides"] == {"Started": "hire_date", "Badge": None}
    assert {k: v for k, v in created.spec.items() if k != "header_overrides"} == {
        k: v for k, v in old.spec.items() if k != "header_overrides"
    }
    with web.session() as session:
        queued = session.get(Run, uuid.UUID(new_run.group(1)))
        assert queued.configuration_id == created.id and queued.status == "queued"
    shown = browser_client.get(location).text
    assert "now the active one: the next upload with these headers is mapped this way" in shown


def test_a_run_of_a_configuration_that_is_not_active_does_not_activate(
    browser_client: httpx.Client, web: Api
) -> None:
    [active] = _configurations(web)
    with web.session() as session:
        draft = Configuration(
            id=uuid.uuid4(),
            workspace_id=active.workspace_id,
            name="Trial",
            status=ConfigurationStatus.DRAFT,
            spec=active.spec,
            created_at=active.created_at,
            updated_at=active.updated_at,
        )
        session.add(draft)
        session.commit()
        draft_id = draft.id
    run = _run(web, draft_id)
    page = browser_client.get(f"{RUNS}/{run}")
    data = {"csrf_token": csrf_of(page), "map-1-B": "hire_date"}
    review = browser_client.post(f"{RUNS}/{run}/corrections/review", data=data)
    assert "which is not the active configuration" in review.text
    saved = browser_client.post(f"{RUNS}/{run}/corrections", data=data)
    assert saved.headers["location"].endswith("?notice=corrected")
    statuses = {c.name: c.status for c in _configurations(web)}
    assert statuses[active.name] == ConfigurationStatus.ACTIVE
    assert statuses["Trial"] == ConfigurationStatus.DRAFT
    [created] = [c for c in _configurations(web) if c.name.startswith("Trial (corrected ")]
    assert created.status == ConfigurationStatus.DRAFT


def test_nothing_chosen_or_an_unknown_field_saves_nothing(
    browser_client: httpx.Client, web: Api
) -> None:
    run = _run(web)
    token = csrf_of(browser_client.get(f"{RUNS}/{run}"))
    unchanged = browser_client.post(
        f"{RUNS}/{run}/corrections", data={"csrf_token": token, "map-1-A": "full_name"}
    )
    assert unchanged.status_code == 200 and "Nothing to save" in unchanged.text
    unknown = browser_client.post(
        f"{RUNS}/{run}/corrections", data={"csrf_token": token, "map-1-B": "shoe_size"}
    )
    assert unknown.status_code == 422 and "“shoe_size” is not a field" in unknown.text
    assert len(_configurations(web)) == 1
