"""S3-only behaviour: metadata, error mapping, client configuration, foreign objects."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

import pytest

from ade.storage import BlobNotFound, StorageMisconfigured, StorageUnavailable
from ade.storage import s3 as s3_module
from ade.storage.s3 import S3BlobStore, make_client
from ade.storage.settings import StorageSettings
from tests.support.s3 import REGION, MotoS3

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client

MiB = 1024 * 1024


@pytest.fixture()
def store(s3_settings: StorageSettings, s3_client: S3Client) -> S3BlobStore:
    return S3BlobStore(s3_settings, client=s3_client)


def test_client_config_works_with_strict_s3_compatible_stores(
    s3_settings: StorageSettings,
) -> None:
    config = make_client(s3_settings).meta.config
    assert getattr(config, "request_checksum_calculation") == "when_required"  # noqa: B009
    assert getattr(config, "response_checksum_validation") == "when_required"  # noqa: B009
    assert getattr(config, "retries")["mode"] == "standard"  # noqa: B009


@pytest.mark.parametrize("size", [10, 6 * MiB], ids=["put", "multipart"])
def test_sha256_is_object_metadata_under_the_prefix(
    store: S3BlobStore, moto: MotoS3, size: int
) -> None:
    payload = b"z" * size
    info = store.write("documents/w/d", payload)
    head = moto.client().head_object(Bucket=store.bucket, Key="tenant-a/documents/w/d")
    assert head["Metadata"]["sha256"] == hashlib.sha256(payload).hexdigest() == info.sha256
    assert head["ContentLength"] == size


def test_managed_copy_path_for_huge_blobs(
    store: S3BlobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Blobs over 5 GiB are published with a multipart copy; exercise that path with a small one.
    monkeypatch.setattr(s3_module, "COPY_OBJECT_MAX_BYTES", 1)
    payload = bytes(range(256)) * (24 * 1024)  # 6 MiB
    info = store.write("a/b", payload)
    assert store.read_bytes("a/b") == payload
    assert store.stat("a/b") == info


def test_foreign_objects_get_a_computed_digest_and_odd_names_are_skipped(
    store: S3BlobStore, moto: MotoS3
) -> None:
    client = moto.client()
    client.put_object(Bucket=store.bucket, Key="tenant-a/foreign/obj", Body=b"from elsewhere")
    client.put_object(Bucket=store.bucket, Key="tenant-a/weird name/x", Body=b"?")
    client.put_object(Bucket=store.bucket, Key="other-tenant/a", Body=b"not ours")
    assert store.stat("foreign/obj").sha256 == hashlib.sha256(b"from elsewhere").hexdigest()
    assert list(store.list()) == ["foreign/obj"]


def test_missing_bucket_is_a_clear_misconfiguration(
    s3_settings: StorageSettings, s3_client: S3Client
) -> None:
    settings = s3_settings.model_copy(update={"s3_bucket": "no-such-bucket-here"})
    store = S3BlobStore(settings, client=s3_client)
    for action in (
        store.check,
        lambda: store.write("a/b", b"small"),
        lambda: store.write("a/b", b"x" * (6 * MiB)),
        lambda: store.open("a/b"),
        lambda: list(store.list()),
        lambda: store.delete("a/b"),
    ):
        with pytest.raises(StorageMisconfigured, match="'no-such-bucket-here' does not exist"):
            action()


def test_not_found_maps_to_blob_not_found(store: S3BlobStore) -> None:
    with pytest.raises(BlobNotFound):
        store.stat("a/missing")
    with pytest.raises(BlobNotFound):
        store.open("a/missing", 5, 10)


def test_unreachable_endpoint_is_unavailable(aws_env: None, unused_tcp_port: int) -> None:
    settings = StorageSettings(
        storage_backend="s3",
        s3_bucket="some-bucket",
        s3_endpoint_url=f"http://127.0.0.1:{unused_tcp_port}",
        s3_region=REGION,
        s3_max_attempts=1,
        s3_connect_timeout_seconds=1,
    )
    store = S3BlobStore(settings)
    for action in (store.check, lambda: store.write("a/b", b"x"), lambda: store.stat("a/b")):
        with pytest.raises(StorageUnavailable, match="cannot reach S3 at http://127.0.0.1") as e:
            action()
        assert "\n" not in str(e.value)


def test_no_credentials_is_misconfigured(
    s3_settings: StorageSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    store = S3BlobStore(s3_settings)
    with pytest.raises(StorageMisconfigured, match="credentials"):
        store.check()


def test_location_names_bucket_prefix_and_endpoint(store: S3BlobStore) -> None:
    assert store.location.startswith(f"s3://{store.bucket}/tenant-a/ at http://127.0.0.1:")
