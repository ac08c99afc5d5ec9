"""A real S3 endpoint for tests: moto's ThreadedMotoServer on a free port, spoken to over HTTP.

By default the server runs in a child process, so its memory (moto keeps every object in RAM)
and its threads never mix with the code under test: memory assertions measure the client only,
and the GIL is not shared. ``in_process=True`` runs it as a thread of the test process instead
(faster to start, fine for functional tests).

The child reads its stdin until EOF and then exits, so it cannot outlive the test process even
if that process is killed.

Usage::

    with moto_server() as s3:
        bucket = s3.create_bucket()
        monkeypatch.setenv(...)  # or: for k, v in s3.env(bucket).items()
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client

REGION = "us-east-1"

# Static credentials for the emulator; isolate boto3 from the developer's ~/.aws as well.
AWS_TEST_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
}

_CHILD = """
import logging, sys
logging.getLogger("werkzeug").setLevel(logging.ERROR)
from moto.server import ThreadedMotoServer
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
print(server.get_host_and_port()[1], flush=True)
sys.stdin.read()
server.stop()
"""


_CLIENTS: dict[str, S3Client] = {}


@dataclass(frozen=True)
class MotoS3:
    """A running emulator: its URL plus helpers to make buckets and matching settings."""

    endpoint_url: str

    def client(self) -> S3Client:
        """An admin client for assertions (cached: creating a boto3 client costs ~0.3 s)."""
        client = _CLIENTS.get(self.endpoint_url)
        if client is None:
            client = _CLIENTS[self.endpoint_url] = self._new_client()
        return client

    def _new_client(self) -> S3Client:
        import boto3
        from botocore.config import Config

        return boto3.session.Session(
            aws_access_key_id=AWS_TEST_ENV["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=AWS_TEST_ENV["AWS_SECRET_ACCESS_KEY"],
            region_name=REGION,
        ).client(
            "s3",
            endpoint_url=self.endpoint_url,
            config=Config(
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
            ),
        )

    def create_bucket(self, name: str | None = None) -> str:
        """Create a bucket (a fresh uniquely named one by default) and return its name."""
        name = name or f"ade-test-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name

    def env(self, bucket: str, prefix: str = "") -> dict[str, str]:
        """Environment selecting the s3 backend on this endpoint (plus test credentials)."""
        return {
            **AWS_TEST_ENV,
            "ADE_STORAGE_BACKEND": "s3",
            "ADE_S3_BUCKET": bucket,
            "ADE_S3_PREFIX": prefix,
            "ADE_S3_ENDPOINT_URL": self.endpoint_url,
            "ADE_S3_REGION": REGION,
        }


@contextmanager
def moto_server(in_process: bool = False) -> Iterator[MotoS3]:
    """Start an S3 emulator on a free 127.0.0.1 port for the duration of the block."""
    if in_process:
        from moto.server import ThreadedMotoServer

        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        try:
            yield MotoS3(f"http://127.0.0.1:{server.get_host_and_port()[1]}")
        finally:
            server.stop()
        return

    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline().strip()
        if not line.isdigit():
            raise RuntimeError(f"moto server failed to start (exit code {child.poll()})")
        yield MotoS3(f"http://127.0.0.1:{int(line)}")
    finally:
        if child.stdin is not None:
            child.stdin.close()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
