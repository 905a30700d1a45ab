"""Blob storage behind one async interface: a local folder by default, S3 when configured.

Keys follow one set of rules on both backends (see ``validate_key``), so an object written
through one can always be addressed through the other, and a key can never name a path outside
the local root.
"""

from __future__ import annotations

import abc
import asyncio
import builtins
import contextlib
import errno
import os
import shutil
import tempfile
from contextlib import AsyncExitStack
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO, Self

from core.errors import Conflict, FieldProblem, InvalidInput, NotFound, ServiceUnavailable
from core.settings import Settings

MAX_KEY_BYTES = 1024
"""S3's own limit on a key, applied to both backends so they accept the same keys."""

TEMP_FILE_PREFIX = ".cm-partial-"
"""Names of in-flight local writes; such files are never listed and never valid keys locally."""


def _shown(key: str) -> str:
    # A hostile key can be megabytes long; the message only needs enough to recognise it.
    return repr(key) if len(key) <= 80 else repr(key[:80]) + "..."


def _invalid_key(key: str, reason: str) -> InvalidInput:
    return InvalidInput(
        f"invalid object key {_shown(key)}: {reason}",
        [FieldProblem(field="key", message=reason)],
    )


def validate_key(key: str) -> str:
    """Check that ``key`` is a safe, relative, '/'-separated object key and return it.

    Raises:
        InvalidInput: naming the key, when it is empty, absolute, longer than 1024 bytes, or
            has an empty, ``.`` or ``..`` segment, a backslash or a NUL.
    """
    if not key:
        raise _invalid_key(key, "must not be empty")
    try:
        size = len(key.encode("utf-8"))
    except UnicodeEncodeError:
        raise _invalid_key(key, "must be valid UTF-8 text") from None
    if size > MAX_KEY_BYTES:
        raise _invalid_key(key, f"must be at most {MAX_KEY_BYTES} bytes long")
    if "\x00" in key:
        raise _invalid_key(key, "must not contain a NUL character")
    if "\\" in key:
        raise _invalid_key(key, "must use '/' separators, not backslashes")
    if key.startswith("/"):
        raise _invalid_key(key, "must be relative (no leading '/')")
    for segment in key.split("/"):
        if segment == "":
            raise _invalid_key(key, "must not have empty segments ('//' or a trailing '/')")
        if segment in {".", ".."}:
            raise _invalid_key(key, "must not have '.' or '..' segments")
    return key


def _is_valid_key(key: str) -> bool:
    try:
        validate_key(key)
    except InvalidInput:
        return False
    return True


class ObjectStore(abc.ABC):
    """Async key/value storage for blobs (exports, attachments, avatars).

    Every method validates its key with ``validate_key``. Use as ``async with store:`` or call
    ``close()`` when done.
    """

    @abc.abstractmethod
    async def put(
        self, key: str, data: bytes, *, content_type: str = "application/octet-stream"
    ) -> None:
        """Store ``data`` under ``key``, replacing any previous object atomically."""

    async def put_file(
        self, key: str, source: Path, *, content_type: str = "application/octet-stream"
    ) -> None:
        """Store the contents of the file ``source`` under ``key``, like ``put``; the backends
        stream it, so a file larger than memory (a backup archive) can be stored."""
        data = await asyncio.to_thread(source.read_bytes)
        await self.put(key, data, content_type=content_type)

    @abc.abstractmethod
    async def get(self, key: str) -> bytes:
        """Return the object's bytes.

        Raises:
            NotFound: naming the key, when there is no object under it.
        """

    @abc.abstractmethod
    async def exists(self, key: str) -> bool:
        """Whether an object is stored under ``key`` (a mere prefix of other keys is not)."""

    @abc.abstractmethod
    async def delete(self, key: str) -> None:
        """Remove the object; removing a missing key is not an error."""

    @abc.abstractmethod
    async def list(self, prefix: str = "") -> builtins.list[str]:
        """Return the keys that start with ``prefix`` (a plain string prefix), sorted."""

    @abc.abstractmethod
    async def check(self) -> None:
        """Prove the store is usable.

        Raises:
            ServiceUnavailable: with a message naming the folder or bucket and what is wrong.
        """

    async def close(self) -> None:  # noqa: B027 - optional hook, most backends hold nothing
        """Release connections; the store may not be used afterwards."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


class LocalObjectStore(ObjectStore):
    """Objects as files under ``root``, one file per key; content types are not kept.

    Writes go to a temporary file in the target folder and are moved into place with
    ``os.replace``, so a reader sees the old or the new object, never a partial one.
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    def __repr__(self) -> str:
        return f"LocalObjectStore({str(self.root)!r})"

    def _path(self, key: str) -> Path:
        validate_key(key)
        if key.rpartition("/")[2].startswith(TEMP_FILE_PREFIX):
            raise _invalid_key(key, f"names starting with {TEMP_FILE_PREFIX!r} are reserved")
        # Segments are validated, so joining them cannot climb out of root.
        return self.root.joinpath(*key.split("/"))

    async def put(
        self, key: str, data: bytes, *, content_type: str = "application/octet-stream"
    ) -> None:
        path = self._path(key)
        await asyncio.to_thread(self._write, key, path, data)

    async def put_file(
        self, key: str, source: Path, *, content_type: str = "application/octet-stream"
    ) -> None:
        path = self._path(key)
        await asyncio.to_thread(self._copy_in, key, path, source)

    def _copy_in(self, key: str, path: Path, source: Path) -> None:
        with source.open("rb") as reader:
            self._write(key, path, reader)

    def _write(self, key: str, path: Path, data: bytes | BinaryIO) -> None:
        try:
            fd, temp_name = self._create_temp_file(path)
        except (FileExistsError, NotADirectoryError):
            raise Conflict(f"object key {_shown(key)} runs through an existing object") from None
        except OSError as exc:
            if exc.errno == errno.ENAMETOOLONG:
                raise _invalid_key(key, "a segment is too long for the filesystem") from None
            raise
        try:
            with os.fdopen(fd, "wb") as file:
                if isinstance(data, bytes):
                    file.write(data)
                else:
                    shutil.copyfileobj(data, file)
                file.flush()
                # Without fsync a crash right after the rename can leave an empty file.
                os.fsync(file.fileno())
            os.replace(temp_name, path)
        except BaseException as exc:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp_name)
            if isinstance(exc, IsADirectoryError):
                raise Conflict(
                    f"object key {_shown(key)} is already a prefix of other keys"
                ) from None
            if isinstance(exc, OSError) and exc.errno == errno.ENAMETOOLONG:
                raise _invalid_key(key, "a segment is too long for the filesystem") from None
            raise

    @staticmethod
    def _create_temp_file(path: Path) -> tuple[int, str]:
        # A concurrent delete may prune the freshly made parent folder before the temporary
        # file lands in it; making the folder again is enough to win that race.
        for _ in range(2):
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                return tempfile.mkstemp(dir=path.parent, prefix=TEMP_FILE_PREFIX)
            except FileNotFoundError:
                continue
        path.parent.mkdir(parents=True, exist_ok=True)
        return tempfile.mkstemp(dir=path.parent, prefix=TEMP_FILE_PREFIX)

    async def get(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise NotFound(f"no object under key {_shown(key)}") from None

    async def exists(self, key: str) -> bool:
        path = self._path(key)
        return await asyncio.to_thread(path.is_file)

    async def delete(self, key: str) -> None:
        path = self._path(key)
        await asyncio.to_thread(self._remove, path)

    def _remove(self, path: Path) -> None:
        try:
            if not path.is_file():
                return
            path.unlink()
        except (FileNotFoundError, NotADirectoryError):
            return
        # Emptied folders would otherwise block a later put of a key with the folder's name.
        folder = path.parent
        while folder != self.root:
            try:
                folder.rmdir()
            except OSError:
                break
            folder = folder.parent

    async def list(self, prefix: str = "") -> builtins.list[str]:
        folder_part = prefix.rpartition("/")[0]
        if folder_part and not _is_valid_key(folder_part):
            # Every key under this prefix would contain the same invalid segments.
            return []
        start = self.root.joinpath(*folder_part.split("/")) if folder_part else self.root
        return await asyncio.to_thread(self._walk, start, prefix)

    def _walk(self, start: Path, prefix: str) -> builtins.list[str]:
        keys: builtins.list[str] = []
        for folder, _subfolders, files in os.walk(start):
            relative = Path(folder).relative_to(self.root).parts
            for name in files:
                if name.startswith(TEMP_FILE_PREFIX):
                    continue
                key = "/".join((*relative, name))
                if key.startswith(prefix) and _is_valid_key(key):
                    keys.append(key)
        keys.sort()
        return keys

    async def check(self) -> None:
        """Create ``root`` if missing and prove a file can be written in it."""
        await asyncio.to_thread(self._check)

    def _check(self) -> None:
        if self.root.exists() and not self.root.is_dir():
            raise ServiceUnavailable(
                f"object store folder {self.root} is not usable: it is a file, not a folder"
            )
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=self.root, prefix=TEMP_FILE_PREFIX):
                pass
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise ServiceUnavailable(
                f"object store folder {self.root} is not usable: cannot write in it ({reason})"
            ) from exc


def _error_code(exc: Exception) -> str:
    response: dict[str, Any] = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


_MISSING_CODES = frozenset({"404", "NoSuchKey", "NotFound"})


class S3ObjectStore(ObjectStore):
    """Objects in one S3 (or S3-compatible) bucket, through aiobotocore.

    The client is created on first use (or by ``start()``) and kept until ``close()``; create
    one store per process, since the client cannot be shared across event loops.

    Args:
        bucket: the bucket that holds every object of this store.
        endpoint_url: an S3-compatible server (MinIO, moto, ...); AWS when ``None``. A custom
            endpoint is addressed path-style, which every S3-compatible server understands.
        region: the bucket's region.
        access_key_id: with ``secret_access_key``; botocore's default credential chain is
            used when both are ``None``.
        secret_access_key: the secret for ``access_key_id``.
    """

    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
    ) -> None:
        self.bucket = bucket
        self.endpoint_url = endpoint_url
        self.region = region
        self._access_key_id = access_key_id
        self._secret_access_key = secret_access_key
        self._client: Any = None
        self._exit_stack = AsyncExitStack()
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        where = f", endpoint_url={self.endpoint_url!r}" if self.endpoint_url else ""
        return f"S3ObjectStore({self.bucket!r}{where})"

    @property
    def _where(self) -> str:
        at = f" at {self.endpoint_url}" if self.endpoint_url else ""
        return f"S3 bucket {self.bucket!r}{at}"

    async def start(self) -> None:
        """Open the client now instead of on first use."""
        await self._get_client()

    async def _get_client(self) -> Any:
        if self._client is not None:
            return self._client
        async with self._lock:
            if self._client is None:
                # Imported here so that importing this module stays cheap for local-only setups.
                from aiobotocore.config import AioConfig
                from aiobotocore.session import get_session

                config = AioConfig(
                    connect_timeout=10,
                    read_timeout=60,
                    retries={"max_attempts": 3, "mode": "standard"},
                    s3={"addressing_style": "path" if self.endpoint_url else "auto"},
                )
                self._client = await self._exit_stack.enter_async_context(
                    get_session().create_client(
                        "s3",
                        region_name=self.region,
                        endpoint_url=self.endpoint_url,
                        aws_access_key_id=self._access_key_id,
                        aws_secret_access_key=self._secret_access_key,
                        config=config,
                    )
                )
        return self._client

    async def close(self) -> None:
        async with self._lock:
            self._client = None
            await self._exit_stack.aclose()
            self._exit_stack = AsyncExitStack()

    async def put(
        self, key: str, data: bytes, *, content_type: str = "application/octet-stream"
    ) -> None:
        validate_key(key)
        client = await self._get_client()
        await client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)

    multipart_part_bytes = 16 * 1024 * 1024
    """Files larger than this are uploaded in parts of this size (S3 wants at least 5 MiB)."""

    async def put_file(
        self, key: str, source: Path, *, content_type: str = "application/octet-stream"
    ) -> None:
        validate_key(key)
        size = (await asyncio.to_thread(source.stat)).st_size
        if size <= self.multipart_part_bytes:
            data = await asyncio.to_thread(source.read_bytes)
            await self.put(key, data, content_type=content_type)
            return
        client = await self._get_client()
        upload = await client.create_multipart_upload(
            Bucket=self.bucket, Key=key, ContentType=content_type
        )
        upload_id = upload["UploadId"]
        reader = await asyncio.to_thread(source.open, "rb")
        try:
            parts: builtins.list[dict[str, Any]] = []
            while chunk := await asyncio.to_thread(reader.read, self.multipart_part_bytes):
                number = len(parts) + 1
                answer = await client.upload_part(
                    Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=chunk
                )
                parts.append({"ETag": answer["ETag"], "PartNumber": number})
            await client.complete_multipart_upload(
                Bucket=self.bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
            )
        except BaseException:
            # An unfinished upload keeps its parts (and their cost) until it is aborted.
            with contextlib.suppress(Exception):
                await client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
            raise
        finally:
            await asyncio.to_thread(reader.close)

    async def get(self, key: str) -> bytes:
        from botocore.exceptions import ClientError

        validate_key(key)
        client = await self._get_client()
        try:
            response = await client.get_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _error_code(exc) in _MISSING_CODES:
                raise NotFound(f"no object under key {_shown(key)}") from None
            raise
        async with response["Body"] as body:
            data: bytes = await body.read()
        return data

    async def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        validate_key(key)
        client = await self._get_client()
        try:
            await client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _error_code(exc) in _MISSING_CODES:
                return False
            raise
        return True

    async def delete(self, key: str) -> None:
        validate_key(key)
        client = await self._get_client()
        # S3's DeleteObject already succeeds for a missing key.
        await client.delete_object(Bucket=self.bucket, Key=key)

    async def list(self, prefix: str = "") -> builtins.list[str]:
        client = await self._get_client()
        paginator = client.get_paginator("list_objects_v2")
        keys: builtins.list[str] = []
        async for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            for entry in page.get("Contents", []):
                key = str(entry["Key"])
                # Other tools may have written keys (folder markers like "a/") that get()
                # would refuse; listing only valid keys keeps list() and get() consistent.
                if _is_valid_key(key):
                    keys.append(key)
        keys.sort()
        return keys

    async def check(self) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            client = await self._get_client()
            await client.head_bucket(Bucket=self.bucket)
        except ClientError as exc:
            code = _error_code(exc)
            if code in {"404", "NoSuchBucket", "NotFound"}:
                reason = "the bucket does not exist"
            elif code in {"403", "AccessDenied", "Forbidden"}:
                reason = "access denied (check the credentials and the bucket policy)"
            else:
                reason = str(exc)
            raise ServiceUnavailable(f"{self._where} is not usable: {reason}") from exc
        except BotoCoreError as exc:
            raise ServiceUnavailable(f"{self._where} is not reachable: {exc}") from exc

    async def ensure_bucket(self) -> None:
        """Create the bucket if it does not exist yet."""
        from botocore.exceptions import ClientError

        client = await self._get_client()
        try:
            await client.head_bucket(Bucket=self.bucket)
            return
        except ClientError as exc:
            if _error_code(exc) not in {"404", "NoSuchBucket", "NotFound"}:
                raise
        arguments: dict[str, Any] = {"Bucket": self.bucket}
        if self.region != "us-east-1":
            # us-east-1 is the one region that rejects an explicit location constraint.
            arguments["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        try:
            await client.create_bucket(**arguments)
        except ClientError as exc:
            # Another process may have created it between the two calls.
            if _error_code(exc) != "BucketAlreadyOwnedByYou":
                raise


def build_object_store(settings: Settings) -> ObjectStore:
    """The S3 store when ``settings.s3_bucket`` is set, else a local folder in the data folder."""
    if settings.s3_bucket is not None:
        secret = settings.s3_secret_access_key
        return S3ObjectStore(
            settings.s3_bucket,
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
            access_key_id=settings.s3_access_key_id,
            secret_access_key=secret.get_secret_value() if secret is not None else None,
        )
    return LocalObjectStore(settings.objects_dir)
