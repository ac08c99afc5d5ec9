"""Settings: defaults, environment variables, and one-line validation errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from ade.storage import StorageMisconfigured
from ade.storage.settings import StorageSettings, load_settings

_VARS = [
    "ADE_STORAGE_BACKEND",
    "ADE_DATA_DIR",
    "ADE_STORAGE_PATH",
    "ADE_STORAGE_MAX_OBJECT_BYTES",
    "ADE_S3_BUCKET",
    "ADE_S3_PREFIX",
    "ADE_S3_ENDPOINT_URL",
    "ADE_S3_REGION",
    "ADE_S3_PART_SIZE_MIB",
    "ADE_S3_MAX_CONCURRENCY",
]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _VARS:
        monkeypatch.delenv(name, raising=False)


def test_defaults_are_local_under_the_data_dir() -> None:
    settings = load_settings()
    assert settings.storage_backend == "local"
    assert settings.local_root == Path("data") / "storage"


def test_environment_is_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ADE_DATA_DIR", str(tmp_path))
    assert load_settings().local_root == tmp_path / "storage"
    monkeypatch.setenv("ADE_STORAGE_PATH", str(tmp_path / "blobs"))
    assert load_settings().local_root == tmp_path / "blobs"
    monkeypatch.setenv("ADE_STORAGE_BACKEND", "s3")
    monkeypatch.setenv("ADE_S3_BUCKET", "my-bucket")
    monkeypatch.setenv("ADE_S3_PREFIX", "/prod/ade/")
    monkeypatch.setenv("ADE_S3_PART_SIZE_MIB", "16")
    settings = load_settings()
    assert (settings.s3_bucket, settings.s3_prefix) == ("my-bucket", "prod/ade/")
    assert settings.part_size_bytes == 16 * 1024 * 1024


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"ADE_STORAGE_BACKEND": "s3"}, "ADE_S3_BUCKET is required when ADE_STORAGE_BACKEND=s3"),
        ({"ADE_STORAGE_BACKEND": "s3", "ADE_S3_BUCKET": " "}, "ADE_S3_BUCKET is required"),
        ({"ADE_STORAGE_BACKEND": "ftp"}, "ADE_STORAGE_BACKEND: Input should be 'local' or 's3'"),
        ({"ADE_S3_BUCKET": "ab"}, "ADE_S3_BUCKET: must be 3 to 63 characters"),
        ({"ADE_S3_BUCKET": "a/b/c"}, "ADE_S3_BUCKET: must be a bare bucket name"),
        ({"ADE_S3_ENDPOINT_URL": "localhost:9000"}, "ADE_S3_ENDPOINT_URL: must start with http"),
        ({"ADE_S3_PREFIX": "../up"}, "ADE_S3_PREFIX: invalid blob key"),
        ({"ADE_S3_PART_SIZE_MIB": "1"}, "ADE_S3_PART_SIZE_MIB: Input should be greater than"),
        ({"ADE_S3_MAX_CONCURRENCY": "0"}, "ADE_S3_MAX_CONCURRENCY"),
        ({"ADE_STORAGE_MAX_OBJECT_BYTES": "lots"}, "ADE_STORAGE_MAX_OBJECT_BYTES"),
    ],
)
def test_invalid_settings_give_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], message: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(StorageMisconfigured) as caught:
        load_settings()
    text = str(caught.value)
    assert text.startswith("invalid storage settings: ")
    assert message in text
    assert "\n" not in text


def test_settings_can_be_built_explicitly() -> None:
    settings = StorageSettings(storage_backend="s3", s3_bucket="explicit")
    assert settings.s3_prefix == ""
