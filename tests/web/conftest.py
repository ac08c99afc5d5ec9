"""Fixtures for the web pages: the app (SQLite + local storage, two workspaces) and a browser-
like client that signs in with a workspace's API key."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ade.storage.local import LocalBlobStore
from tests.api.conftest import Api, Tenant, build_api

CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


def csrf_of(page: httpx.Response) -> str:
    match = CSRF.search(page.text)
    assert match, f"no CSRF token on {page.url}"
    return match.group(1)


def sign_in(client: httpx.Client, tenant: Tenant) -> httpx.Response:
    """Sign in the way a browser does: load the form, post it with its token."""
    form = client.get("/sign-in")
    reply = client.post("/sign-in", data={"api_key": tenant.key, "csrf_token": csrf_of(form)})
    assert reply.status_code == 303, reply.text
    return reply


@pytest.fixture()
def web(sqlite_url: str, tmp_path: Path) -> Iterator[Api]:
    yield from build_api(sqlite_url, LocalBlobStore(tmp_path / "storage"))


@pytest.fixture()
def browser_client(web: Api) -> httpx.Client:
    """The app's client, signed in as workspace A (cookies kept, redirects not followed)."""
    client = web.client
    client.follow_redirects = False
    sign_in(client, web.a)
    return client
