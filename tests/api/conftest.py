"""Fixtures for API tests: a migrated database (SQLite or PostgreSQL), a blob store (local or
S3 on a real moto server), the app, and workspaces with API keys.

Most tests use ``api`` (SQLite + local storage: fast); the ``backend_api`` fixture runs a test on
every combination of {SQLite, PostgreSQL} x {local, S3}.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ade.api.admin import create_api_key, create_workspace
from ade.api.app import create_app
from ade.api.settings import ApiSettings
from ade.db.engine import create_engine, create_session_factory
from ade.db.migrate import upgrade
from ade.storage.base import BlobStore
from ade.storage.local import LocalBlobStore
from ade.storage.settings import StorageSettings
from tests.support.s3 import REGION, MotoS3

UPLOAD_LIMIT = 1024 * 1024  # small, so 413 tests are cheap


@dataclass
class Tenant:
    slug: str
    id: str
    key: str
    prefix: str

    @property
    def headers(self) -> dict[str, str]:
        return {"X-API-Key": self.key}

    def url(self, path: str = "") -> str:
        return f"/api/v1/workspaces/{self.slug}{path}"


@dataclass
class Api:
    client: TestClient
    database_url: str
    store: BlobStore
    a: Tenant
    b: Tenant
    extra: dict[str, Any] = field(default_factory=dict)

    def session(self) -> Any:
        engine = create_engine(self.database_url, null_pool=True)
        return create_session_factory(engine)()

    def tenant(self, name: str, slug: str) -> Tenant:
        return make_tenant(self.database_url, name, slug)

    def upload(
        self, tenant: Tenant, content: bytes = b"a,b\n1,2\n", name: str = "data.csv", **params: Any
    ) -> Any:
        return self.client.post(
            tenant.url("/documents"),
            headers=tenant.headers,
            files={"file": (name, content, "text/csv")},
            params=params,
        )


def migrate(url: str) -> None:
    upgrade(url, echo=lambda _line: None)


def make_tenant(database_url: str, name: str, slug: str) -> Tenant:
    engine = create_engine(database_url, null_pool=True)
    try:
        with create_session_factory(engine)() as session:
            workspace = create_workspace(session, name, slug)
            key = create_api_key(session, workspace)
            session.commit()
            return Tenant(
                slug=workspace.slug, id=str(workspace.id), key=key.secret, prefix=key.prefix
            )
    finally:
        engine.dispose()


def s3_store(moto: MotoS3) -> BlobStore:
    from ade.storage.s3 import S3BlobStore

    settings = StorageSettings(
        storage_backend="s3",
        s3_bucket=moto.create_bucket(),
        s3_endpoint_url=moto.endpoint_url,
        s3_region=REGION,
        s3_part_size_mib=5,
        s3_max_concurrency=2,
        s3_max_attempts=2,
    )
    return S3BlobStore(settings)


def build_api(database_url: str, store: BlobStore, limit: int = UPLOAD_LIMIT) -> Iterator[Api]:
    migrate(database_url)  # the fixtures' databases are migrated clones: this finds head
    a = make_tenant(database_url, "Tenant A", "tenant-a")
    b = make_tenant(database_url, "Tenant B", "tenant-b")
    app = create_app(
        database_url=database_url,
        store=store,
        settings=ApiSettings(api_max_upload_bytes=limit),
        configure_logs=False,
    )
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Api(client=client, database_url=database_url, store=store, a=a, b=b)


@pytest.fixture()
def api(migrated_sqlite_url: str, tmp_path: Path) -> Iterator[Api]:
    yield from build_api(migrated_sqlite_url, LocalBlobStore(tmp_path / "storage"))


@pytest.fixture(params=["sqlite-local", "sqlite-s3", "postgres-local", "postgres-s3"])
def backend_api(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Api]:
    database, storage = request.param.split("-")
    url = request.getfixturevalue(
        f"migrated_{'sqlite' if database == 'sqlite' else 'postgres'}_url"
    )
    if storage == "s3":
        request.getfixturevalue("aws_env")
        store = s3_store(request.getfixturevalue("moto"))
    else:
        store = LocalBlobStore(tmp_path / "storage")
    yield from build_api(url, store)


@pytest.fixture()
def postgres_api(migrated_postgres_url: str, tmp_path: Path) -> Iterator[Api]:
    yield from build_api(migrated_postgres_url, LocalBlobStore(tmp_path / "storage"))
