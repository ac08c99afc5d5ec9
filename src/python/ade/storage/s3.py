"""S3 (and S3-compatible) blob store through boto3.

Writes
------
A blob smaller than one part is read into memory (at most one part size), hashed, and stored
with a single ``PutObject`` whose metadata carries its sha256: one request, atomic.

A larger blob is streamed through boto3's transfer manager (multipart upload, ``part size x
concurrency`` of client memory) into a temporary key under ``{prefix}.ade-tmp/``, then copied
server-side onto the real key with the sha256 in its metadata, and the temporary key is deleted.
Why the detour: S3 fixes an object's metadata when the upload *starts*, but the digest is only
known when it *ends*. Uploading straight to the key and patching metadata afterwards would leave
a window (or, after a crash, a permanent state) where the blob has no digest, and two concurrent
writers could stamp one's digest on the other's bytes. The copy publishes bytes and digest
together, atomically; its cost is server-side only (no bytes cross the network again). A crash
between upload and copy can leave a temporary object behind; it never shows in listings, and a
bucket lifecycle rule on ``.ade-tmp/`` (expire after a day) or ``ade storage gc`` collects it.

A failing write (size limit, exception from the source, network) raises inside the transfer
manager, which aborts the multipart upload, so no billed parts are left behind. A process
killed mid-upload cannot abort it: :meth:`S3BlobStore.leftovers` lists such uploads (and
temporary objects) and ``ade storage gc`` aborts those older than its threshold.

Errors
------
botocore errors become the library's: ``NoSuchBucket``/access denied -> StorageMisconfigured,
404 -> BlobNotFound, connection failures and 5xx (after botocore's "standard" retries) ->
StorageUnavailable. The client is configured with ``request_checksum_calculation`` and
``response_checksum_validation`` set to ``"when_required"`` because boto3 >= 1.36 otherwise sends
CRC checksum headers that several S3-compatible stores reject.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import IO, TYPE_CHECKING, Any, cast

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    HTTPClientError,
    NoCredentialsError,
    PartialCredentialsError,
)
from botocore.exceptions import ConnectionError as BotoConnectionError

from ade.storage.base import (
    CHUNK_SIZE,
    BlobEntry,
    BlobInfo,
    BlobStore,
    ChunkStream,
    HashingReader,
    Leftover,
    Source,
    check_range,
    effective_limit,
)
from ade.storage.errors import (
    BlobNotFound,
    InvalidKey,
    StorageError,
    StorageMisconfigured,
    StorageUnavailable,
)
from ade.storage.keys import validate_key, validate_prefix
from ade.storage.settings import StorageSettings

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client

SHA256_METADATA = "sha256"
"""User-metadata field (``x-amz-meta-sha256``) holding the blob's hex digest."""

TMP_FOLDER = ".ade-tmp/"
CHECK_FOLDER = ".ade-check/"

COPY_OBJECT_MAX_BYTES = 5 * 1024**3
"""CopyObject's limit; larger blobs are copied with the transfer manager's multipart copy."""

_NOT_FOUND = {"NoSuchKey", "404", "NotFound"}
_MISCONFIGURED = {
    "AccessDenied",
    "AllAccessDisabled",
    "AuthorizationHeaderMalformed",
    "InvalidAccessKeyId",
    "InvalidBucketName",
    "PermanentRedirect",
    "SignatureDoesNotMatch",
    "403",
    "301",
    "400",
}
_TRANSIENT = {"SlowDown", "RequestTimeout", "ServiceUnavailable", "InternalError", "Throttling"}


def make_client(settings: StorageSettings) -> S3Client:
    """The one place that builds the boto3 client (credentials: boto3's standard chain)."""
    config = Config(
        retries={"mode": "standard", "max_attempts": settings.s3_max_attempts},
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        connect_timeout=settings.s3_connect_timeout_seconds,
        read_timeout=settings.s3_read_timeout_seconds,
        max_pool_connections=max(10, settings.s3_max_concurrency + 2),
        s3={"addressing_style": settings.s3_addressing_style},
    )
    session = boto3.session.Session()
    return session.client(
        "s3",
        endpoint_url=settings.s3_endpoint_url,
        region_name=settings.s3_region,
        config=config,
    )


class _Chain:
    """A read()-able stream of ``head`` followed by the rest of a HashingReader."""

    def __init__(self, head: bytes, rest: HashingReader) -> None:
        self._head = head
        self._rest = rest

    def read(self, size: int = -1, /) -> bytes:
        if self._head:
            if size is None or size < 0:
                data, self._head = self._head + self._rest.read(), b""
                return data
            if len(self._head) >= size:
                data, self._head = self._head[:size], self._head[size:]
                return data
            data, self._head = self._head, b""
            return data + self._rest.read(size - len(data))
        return self._rest.read(size)


class S3BlobStore(BlobStore):
    """Blobs as objects in one bucket under an optional key prefix."""

    backend = "s3"

    def __init__(self, settings: StorageSettings, client: S3Client | None = None) -> None:
        if settings.s3_bucket is None:
            raise StorageMisconfigured("ADE_S3_BUCKET is required for the s3 backend")
        self._settings = settings
        self._bucket: str = settings.s3_bucket
        self._prefix = settings.s3_prefix
        self._client = client if client is not None else make_client(settings)
        part = settings.part_size_bytes
        self._part_size = part
        self._transfer = TransferConfig(
            multipart_threshold=part,
            multipart_chunksize=part,
            max_concurrency=settings.s3_max_concurrency,
            use_threads=True,
            preferred_transfer_client="classic",
        )
        # Every part read ahead holds a part-sized buffer until its upload finishes; s3transfer's
        # default (10 slots, plus the part waiting for a slot) would allow 11 x part size. One
        # slot per upload thread, plus the part being read while they work, keeps the threads
        # busy with (concurrency + 1) x part size of client memory.
        self._transfer.max_in_memory_upload_chunks = settings.s3_max_concurrency

    @property
    def bucket(self) -> str:
        return self._bucket

    @property
    def location(self) -> str:
        where = f"s3://{self._bucket}/{self._prefix}"
        if self._settings.s3_endpoint_url:
            where += f" at {self._settings.s3_endpoint_url}"
        return where

    def _full(self, key: str) -> str:
        return self._prefix + validate_key(key)

    # -- error mapping -------------------------------------------------------------------------

    def _map(self, error: Exception, key: str | None) -> StorageError:
        endpoint = self._settings.s3_endpoint_url or "AWS S3"
        if isinstance(error, ClientError):
            info: Any = error.response.get("Error", {})
            code = str(info.get("Code", ""))
            message = str(info.get("Message", "")) or code
            status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
            if code == "NoSuchBucket":
                return StorageMisconfigured(
                    f"S3 bucket {self._bucket!r} does not exist at {endpoint} (ADE_S3_BUCKET)"
                )
            if code in _NOT_FOUND and key is not None:
                return BlobNotFound(key)
            if code in _MISCONFIGURED:
                return StorageMisconfigured(
                    f"S3 refused access to bucket {self._bucket!r} at {endpoint}: {code} {message}"
                )
            if status >= 500 or code in _TRANSIENT:
                return StorageUnavailable(
                    f"S3 at {endpoint} kept failing after {self._settings.s3_max_attempts} "
                    f"attempts: {code} {message}"
                )
            return StorageError(f"S3 error on bucket {self._bucket!r}: {code} {message}")
        if isinstance(error, BotoConnectionError | HTTPClientError):
            return StorageUnavailable(f"cannot reach S3 at {endpoint}: {error}")
        if isinstance(error, NoCredentialsError | PartialCredentialsError):
            return StorageMisconfigured(f"no usable AWS credentials for S3: {error}")
        return StorageError(f"S3 error: {error}")

    @contextmanager
    def _errors(self, key: str | None = None) -> Iterator[None]:
        try:
            yield
        except (ClientError, BotoCoreError) as error:
            raise self._map(error, key) from None

    # -- writing -------------------------------------------------------------------------------

    def write(self, key: str, source: Source, max_bytes: int | None = None) -> BlobInfo:
        full = self._full(key)
        limit = effective_limit(max_bytes, self._settings.storage_max_object_bytes)
        reader = HashingReader(source, key, limit)
        head = reader.read(self._part_size)
        if len(head) < self._part_size:
            # Whole blob in hand (< one part): one atomic PUT with its digest.
            with self._errors(key):
                self._client.put_object(
                    Bucket=self._bucket,
                    Key=full,
                    Body=head,
                    Metadata={SHA256_METADATA: reader.hexdigest()},
                )
            return reader.info()
        # Hand the first part over to the stream and drop our reference, so it can be freed
        # as soon as the transfer manager has uploaded it.
        stream = _Chain(head, reader)
        del head
        return self._write_multipart(key, full, stream, reader)

    def _write_multipart(
        self, key: str, full: str, stream: _Chain, reader: HashingReader
    ) -> BlobInfo:
        tmp = f"{self._prefix}{TMP_FOLDER}{uuid.uuid4().hex}"
        try:
            try:
                # Only read() is needed (and lack of seek() is what we want: s3transfer then
                # streams parts instead of expecting to re-read the source).
                fileobj = cast(IO[Any], stream)
                self._client.upload_fileobj(fileobj, self._bucket, tmp, Config=self._transfer)
            except BaseException as error:
                # The transfer manager has aborted the multipart upload by now (it runs its
                # failure cleanups before upload_fileobj returns). Re-raise the source's own
                # exception (or BlobTooLarge) as-is, map botocore's.
                if reader.error is not None:
                    raise reader.error from None
                if isinstance(error, ClientError | BotoCoreError):
                    raise self._map(error, key) from None
                raise
            info = reader.info()
            with self._errors(key):
                self._publish(tmp, full, info)
            return info
        finally:
            self._delete_quietly(tmp)

    def _publish(self, tmp: str, full: str, info: BlobInfo) -> None:
        """Server-side copy of the uploaded temporary object onto the key, with its digest."""
        metadata = {SHA256_METADATA: info.sha256}
        source = {"Bucket": self._bucket, "Key": tmp}
        if info.size <= COPY_OBJECT_MAX_BYTES:
            self._client.copy_object(
                Bucket=self._bucket,
                Key=full,
                CopySource=source,  # type: ignore[arg-type]
                Metadata=metadata,
                MetadataDirective="REPLACE",
            )
        else:
            copy_config = TransferConfig(
                multipart_threshold=COPY_OBJECT_MAX_BYTES,
                multipart_chunksize=512 * 1024 * 1024,
                max_concurrency=self._settings.s3_max_concurrency,
                preferred_transfer_client="classic",
            )
            self._client.copy(
                source,  # type: ignore[arg-type]
                self._bucket,
                full,
                ExtraArgs={"Metadata": metadata, "MetadataDirective": "REPLACE"},
                Config=copy_config,
            )

    def _delete_quietly(self, full: str) -> None:
        # Deleting a key that was never created is a no-op in S3; any failure here only leaves
        # a temporary object for the lifecycle rule, never a wrong blob.
        with suppress(ClientError, BotoCoreError):
            self._client.delete_object(Bucket=self._bucket, Key=full)

    # -- reading -------------------------------------------------------------------------------

    def open(self, key: str, offset: int = 0, length: int | None = None) -> ChunkStream:
        check_range(offset, length)
        full = self._full(key)
        if length == 0:
            self.size(key)  # still report a missing blob
            return ChunkStream(iter(()), lambda: None)
        kwargs: dict[str, Any] = {}
        if offset or length is not None:
            end = "" if length is None else str(offset + length - 1)
            kwargs["Range"] = f"bytes={offset}-{end}"
        try:
            response = self._client.get_object(Bucket=self._bucket, Key=full, **kwargs)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "InvalidRange":
                return ChunkStream(iter(()), lambda: None)  # offset at or past the end
            raise self._map(error, key) from None
        except BotoCoreError as error:
            raise self._map(error, key) from None
        body = response["Body"]

        def chunks() -> Iterator[bytes]:
            with self._errors(key):
                yield from body.iter_chunks(CHUNK_SIZE)

        return ChunkStream(chunks(), body.close)

    def _head(self, key: str) -> Any:
        with self._errors(key):
            return self._client.head_object(Bucket=self._bucket, Key=self._full(key))

    def stat(self, key: str) -> BlobInfo:
        head = self._head(key)
        digest = head.get("Metadata", {}).get(SHA256_METADATA)
        if digest is None:
            # An object written by another tool: compute the digest by reading it.
            from hashlib import sha256

            hasher = sha256()
            with self.open(key) as chunks:
                for chunk in chunks:
                    hasher.update(chunk)
            digest = hasher.hexdigest()
        return BlobInfo(key=key, size=int(head["ContentLength"]), sha256=digest)

    def exists(self, key: str) -> bool:
        try:
            self.size(key)
        except BlobNotFound:
            return False
        return True

    def size(self, key: str) -> int:
        return int(self._head(key)["ContentLength"])

    def delete(self, key: str) -> None:
        full = self._full(key)
        with self._errors(key):
            self._client.delete_object(Bucket=self._bucket, Key=full)

    def list(self, prefix: str = "") -> Iterator[str]:
        validate_prefix(prefix)
        return (entry.key for entry in self._entries(prefix))

    def entries(self, prefix: str = "") -> Iterator[BlobEntry]:
        validate_prefix(prefix)
        return self._entries(prefix)

    def _entries(self, prefix: str) -> Iterator[BlobEntry]:
        paginator = self._client.get_paginator("list_objects_v2")
        strip = len(self._prefix)
        with self._errors():
            for page in paginator.paginate(Bucket=self._bucket, Prefix=self._prefix + prefix):
                for item in page.get("Contents", []):
                    key = item["Key"][strip:]
                    if key.startswith("."):
                        continue  # our temporary objects and probes
                    try:
                        validate_key(key)
                    except StorageError:
                        continue  # a foreign object with a name we would never produce
                    yield BlobEntry(key=key, size=item["Size"], modified=item["LastModified"])

    def leftovers(self) -> Iterator[Leftover]:
        strip = len(self._prefix)
        objects = self._client.get_paginator("list_objects_v2")
        uploads = self._client.get_paginator("list_multipart_uploads")
        with self._errors():
            for folder in (TMP_FOLDER, CHECK_FOLDER):
                for page in objects.paginate(Bucket=self._bucket, Prefix=self._prefix + folder):
                    for item in page.get("Contents", []):
                        yield Leftover(
                            kind="temporary",
                            name=item["Key"][strip:],
                            size=item["Size"],
                            modified=item["LastModified"],
                        )
            for uploads_page in uploads.paginate(Bucket=self._bucket, Prefix=self._prefix):
                for upload in uploads_page.get("Uploads", []):
                    yield Leftover(
                        kind="multipart",
                        name=upload["Key"][strip:],
                        size=None,
                        modified=upload["Initiated"],
                        upload_id=upload["UploadId"],
                    )

    def remove_leftover(self, leftover: Leftover) -> None:
        full = self._prefix + leftover.name
        if leftover.kind == "multipart" and leftover.upload_id is not None:
            try:
                self._client.abort_multipart_upload(
                    Bucket=self._bucket, Key=full, UploadId=leftover.upload_id
                )
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") != "NoSuchUpload":
                    raise self._map(error, None) from None
            except BotoCoreError as error:
                raise self._map(error, None) from None
            return
        if not leftover.name.startswith((TMP_FOLDER, CHECK_FOLDER)):
            raise InvalidKey(f"not a temporary object of this store: {leftover.name!r}")
        with self._errors():
            self._client.delete_object(Bucket=self._bucket, Key=full)

    def check(self) -> None:
        probe = f"{self._prefix}{CHECK_FOLDER}{uuid.uuid4().hex}"
        payload = b"ade storage check\n"
        with self._errors():
            self._client.put_object(Bucket=self._bucket, Key=probe, Body=payload)
            try:
                body = self._client.get_object(Bucket=self._bucket, Key=probe)["Body"]
                with body:
                    if body.read() != payload:
                        raise StorageError(f"S3 bucket {self._bucket!r} returned different bytes")
            finally:
                self._delete_quietly(probe)
