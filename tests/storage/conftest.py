"""Fixtures: one blob store per backend, plus a raw view of what each backend really holds."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ade.storage.base import BlobStore
from ade.storage.settings import StorageSettings
from tests.support.s3 import AWS_TEST_ENV, REGION, MotoS3

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client

# The production default (ADE_S3_MAX_ATTEMPTS). Not fewer: moto's server is not thread-safe when
# two requests overwrite one key at once (the loser's new object has its buffer closed under it and
# the request fails with a 500): with 2 attempts test_concurrent_writers_leave_one_complete_blob
# failed 2 runs in 20 on a loaded machine (0 in 20 with 5). AWS documents a 500 as retryable.
CONTRACT_MAX_ATTEMPTS = 5


@pytest.fixture(scope="session")
def s3_client(moto: MotoS3) -> S3Client:
    """One client built by the store's own factory, shared by the contract tests for speed."""
    from ade.storage.s3 import make_client

    with pytest.MonkeyPatch.context() as patch:
        for name, value in AWS_TEST_ENV.items():
            patch.setenv(name, value)
        settings = StorageSettings(
            storage_backend="s3",
            s3_bucket="unused",
            s3_endpoint_url=moto.endpoint_url,
            s3_region=REGION,
            s3_max_attempts=CONTRACT_MAX_ATTEMPTS,
        )
        return make_client(settings)


@pytest.fixture()
def s3_settings(moto: MotoS3, aws_env: None) -> StorageSettings:
    """Settings for a fresh bucket; small parts so tens of MiB exercise real multipart."""
    return StorageSettings(
        storage_backend="s3",
        s3_bucket=moto.create_bucket(),
        s3_prefix="tenant-a",
        s3_endpoint_url=moto.endpoint_url,
        s3_region=REGION,
        s3_part_size_mib=5,
        s3_max_concurrency=2,
        s3_max_attempts=CONTRACT_MAX_ATTEMPTS,
    )


@dataclass
class Harness:
    """A store plus backend-level views used to prove "nothing was left behind"."""

    store: BlobStore
    raw_objects: Callable[[], list[str]]
    """Every file/object the backend holds, including temporaries the store hides."""
    open_uploads: Callable[[], list[str]] = field(default=lambda: [])
    """Multipart uploads in progress (S3 only)."""


def _local_harness(root: Path) -> Harness:
    from ade.storage.local import LocalBlobStore

    def raw_objects() -> list[str]:
        found = []
        for folder, _dirs, files in os.walk(root):
            found += [os.path.relpath(os.path.join(folder, name), root) for name in files]
        return sorted(found)

    return Harness(LocalBlobStore(root), raw_objects)


def _s3_harness(settings: StorageSettings, moto: MotoS3, s3_client: S3Client) -> Harness:
    from ade.storage.s3 import S3BlobStore

    client = moto.client()
    bucket = settings.s3_bucket
    assert bucket is not None

    def raw_objects() -> list[str]:
        pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))

    def open_uploads() -> list[str]:
        response = client.list_multipart_uploads(Bucket=bucket)
        return [upload["Key"] for upload in response.get("Uploads", [])]

    return Harness(S3BlobStore(settings, client=s3_client), raw_objects, open_uploads)


@pytest.fixture(params=["local", "s3"])
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Harness:
    if request.param == "local":
        return _local_harness(tmp_path / "storage")
    settings = request.getfixturevalue("s3_settings")
    return _s3_harness(
        settings, request.getfixturevalue("moto"), request.getfixturevalue("s3_client")
    )


@pytest.fixture()
def store(harness: Harness) -> BlobStore:
    return harness.store
