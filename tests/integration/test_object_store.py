"""The object store's behaviour, the same on a local folder and on a real S3-compatible server."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from core.errors import Conflict, InvalidInput, NotFound, ServiceUnavailable
from core.settings import Settings
from storage.object_store import (
    TEMP_FILE_PREFIX,
    LocalObjectStore,
    ObjectStore,
    S3ObjectStore,
    build_object_store,
    validate_key,
)

BINARY = bytes(range(256)) * 64 + b"\x00\r\n\xff"


def fresh_bucket() -> str:
    return f"test-{uuid.uuid4().hex[:20]}"


def s3_store(endpoint: str, bucket: str) -> S3ObjectStore:
    return S3ObjectStore(
        bucket, endpoint_url=endpoint, access_key_id="test", secret_access_key="test"
    )


@pytest.fixture(params=["local", "s3"])
async def store(
    request: pytest.FixtureRequest, tmp_path: Path, s3_endpoint: str
) -> AsyncIterator[ObjectStore]:
    if request.param == "local":
        async with LocalObjectStore(tmp_path / "objects") as local:
            yield local
    else:
        async with s3_store(s3_endpoint, fresh_bucket()) as remote:
            await remote.ensure_bucket()
            yield remote


def files_under(folder: Path) -> set[Path]:
    return set(folder.rglob("*"))


class TestRoundTrip:
    async def test_get_returns_exactly_the_bytes_that_were_put(self, store: ObjectStore) -> None:
        await store.put("exports/report.bin", BINARY)

        assert await store.get("exports/report.bin") == BINARY

    async def test_empty_data_round_trips(self, store: ObjectStore) -> None:
        await store.put("empty", b"", content_type="text/plain")

        assert await store.get("empty") == b""

    async def test_keys_with_spaces_unicode_and_dots_round_trip(self, store: ObjectStore) -> None:
        keys = ["artists/Sigur Rós/avatar.png", ".hidden", "a..b/...", "x/y-z_1.tar.gz"]
        for index, key in enumerate(keys):
            await store.put(key, f"object {index}".encode())

        assert [await store.get(key) for key in keys] == [
            f"object {index}".encode() for index in range(len(keys))
        ]

    async def test_a_key_of_the_maximum_length_round_trips(self, store: ObjectStore) -> None:
        key = "/".join(["s" * 200] * 5) + "/" + "t" * 19
        assert len(key.encode()) == 1024

        await store.put(key, b"long")

        assert await store.get(key) == b"long"


class TestOverwrite:
    async def test_a_second_put_replaces_the_object(self, store: ObjectStore) -> None:
        await store.put("doc", b"first version, longer than the second")
        await store.put("doc", b"second")

        assert await store.get("doc") == b"second"
        assert await store.list() == ["doc"]

    async def test_concurrent_puts_leave_one_whole_object(self, store: ObjectStore) -> None:
        payloads = [bytes([index]) * 50_000 for index in range(20)]

        await asyncio.gather(*(store.put("contested", payload) for payload in payloads))

        assert await store.get("contested") in payloads
        assert await store.list() == ["contested"]

    async def test_readers_during_rewrites_see_only_whole_objects(self, store: ObjectStore) -> None:
        versions = [bytes([index]) * 2_000_000 for index in range(2)]
        await store.put("busy", versions[0])

        async def rewrite() -> None:
            for round_ in range(20):
                await store.put("busy", versions[round_ % 2])

        async def read() -> list[bytes]:
            return [await store.get("busy") for _ in range(20)]

        _, seen = await asyncio.gather(rewrite(), read())

        assert all(data in versions for data in seen)


class TestExists:
    async def test_a_stored_key_exists(self, store: ObjectStore) -> None:
        await store.put("here", b"x")

        assert await store.exists("here") is True

    async def test_a_key_never_stored_does_not_exist(self, store: ObjectStore) -> None:
        assert await store.exists("nowhere") is False

    async def test_a_prefix_of_stored_keys_is_not_itself_an_object(
        self, store: ObjectStore
    ) -> None:
        await store.put("folder/file", b"x")

        assert await store.exists("folder") is False
        with pytest.raises(NotFound):
            await store.get("folder")


class TestDelete:
    async def test_a_deleted_key_is_gone_everywhere(self, store: ObjectStore) -> None:
        await store.put("keep", b"1")
        await store.put("drop", b"2")

        await store.delete("drop")

        assert await store.exists("drop") is False
        assert await store.list() == ["keep"]
        with pytest.raises(NotFound):
            await store.get("drop")
        assert await store.get("keep") == b"1"

    async def test_deleting_a_missing_key_twice_is_fine(self, store: ObjectStore) -> None:
        await store.put("once", b"1")

        await store.delete("once")
        await store.delete("once")
        await store.delete("never/existed")

        assert await store.list() == []

    async def test_after_its_nested_keys_are_deleted_a_prefix_can_be_a_key(
        self, store: ObjectStore
    ) -> None:
        await store.put("reports/2024/q1.csv", b"old")
        await store.delete("reports/2024/q1.csv")

        await store.put("reports", b"now a file")

        assert await store.get("reports") == b"now a file"


class TestMissingKey:
    async def test_get_of_a_missing_key_raises_not_found_naming_the_key(
        self, store: ObjectStore
    ) -> None:
        with pytest.raises(NotFound, match=r"missing/thing\.txt"):
            await store.get("missing/thing.txt")


class TestList:
    async def test_an_empty_store_lists_nothing(self, store: ObjectStore) -> None:
        assert await store.list() == []

    async def test_every_key_is_listed_sorted_with_slash_separators(
        self, store: ObjectStore
    ) -> None:
        for key in ["b", "a/z", "a/b/c", "c/d/e/f", "a/b/a"]:
            await store.put(key, key.encode())

        assert await store.list() == ["a/b/a", "a/b/c", "a/z", "b", "c/d/e/f"]

    async def test_a_prefix_selects_the_keys_that_start_with_it(self, store: ObjectStore) -> None:
        for key in ["reports/q2", "reports/q1", "reports/2024/q4", "rep", "repo/x", "other"]:
            await store.put(key, b"x")

        assert await store.list("reports/") == ["reports/2024/q4", "reports/q1", "reports/q2"]
        assert await store.list("rep") == [
            "rep",
            "repo/x",
            "reports/2024/q4",
            "reports/q1",
            "reports/q2",
        ]
        assert await store.list("reports/q") == ["reports/q1", "reports/q2"]

    async def test_a_prefix_that_matches_nothing_lists_nothing(self, store: ObjectStore) -> None:
        await store.put("present", b"x")

        assert await store.list("absent/") == []
        assert await store.list("../") == []


async def put_x(store: ObjectStore, key: str) -> None:
    await store.put(key, b"x")


OPERATIONS: dict[str, Callable[[ObjectStore, str], Awaitable[object]]] = {
    "put": put_x,
    "get": lambda store, key: store.get(key),
    "exists": lambda store, key: store.exists(key),
    "delete": lambda store, key: store.delete(key),
}

BAD_KEYS = [
    "",
    "../x",
    "a/../../x",
    "a/..",
    "..",
    ".",
    "/abs",
    "a//b",
    "a/",
    "a/./b",
    "a\\b",
    "..\\x",
    "a\x00b",
    "k" * 1025,
    "é" * 513,  # 513 characters but 1026 bytes
]


class TestKeyValidation:
    @pytest.mark.parametrize("operation", list(OPERATIONS))
    @pytest.mark.parametrize("key", BAD_KEYS)
    async def test_a_bad_key_is_rejected_naming_the_key(
        self, store: ObjectStore, operation: str, key: str
    ) -> None:
        with pytest.raises(InvalidInput) as caught:
            await OPERATIONS[operation](store, key)

        assert repr(key)[:40] in caught.value.detail
        assert caught.value.problems[0].field == "key"
        assert await store.list() == []

    @pytest.mark.parametrize(
        ("key", "reason"),
        [
            ("", "empty"),
            ("/etc/passwd", "relative"),
            ("a//b", "empty segments"),
            ("a/../b", "'..' segments"),
            ("a\\b", "backslashes"),
            ("a\x00b", "NUL"),
            ("k" * 1025, "1024 bytes"),
        ],
    )
    def test_the_message_says_what_is_wrong_with_the_key(self, key: str, reason: str) -> None:
        with pytest.raises(InvalidInput) as caught:
            validate_key(key)

        assert reason in caught.value.detail

    @pytest.mark.parametrize("key", ["a", "a/b/c.txt", ".hidden", "a..b", "...", "é" * 512])
    def test_a_good_key_is_accepted_unchanged(self, key: str) -> None:
        assert validate_key(key) == key


class TestLocalFolder:
    @pytest.mark.parametrize(
        "key", ["../escaped", "a/../../escaped", "..\\escaped", "ESCAPED_ABSOLUTE"]
    )
    async def test_a_traversal_key_never_writes_outside_the_root(
        self, tmp_path: Path, key: str
    ) -> None:
        root = tmp_path / "sandbox" / "objects"
        root.mkdir(parents=True)
        (root / "inside").write_bytes(b"x")
        if key == "ESCAPED_ABSOLUTE":
            key = str(tmp_path / "escaped")
        before = files_under(tmp_path)
        store = LocalObjectStore(root)

        for operation in OPERATIONS.values():
            with pytest.raises(InvalidInput):
                await operation(store, key)

        assert files_under(tmp_path) == before
        assert (root / "inside").read_bytes() == b"x"

    async def test_objects_are_plain_files_under_the_root(self, tmp_path: Path) -> None:
        store = LocalObjectStore(tmp_path)

        await store.put("a/b/c.bin", BINARY)

        assert (tmp_path / "a" / "b" / "c.bin").read_bytes() == BINARY

    async def test_writes_leave_no_temporary_files_behind(self, tmp_path: Path) -> None:
        store = LocalObjectStore(tmp_path)

        for index in range(5):
            await store.put("nested/doc", str(index).encode())
        await store.check()

        assert sorted(path.name for path in files_under(tmp_path)) == ["doc", "nested"]

    async def test_an_interrupted_write_is_never_listed(self, tmp_path: Path) -> None:
        store = LocalObjectStore(tmp_path)
        await store.put("docs/a", b"x")
        (tmp_path / "docs" / f"{TEMP_FILE_PREFIX}abc123").write_bytes(b"half")

        assert await store.list() == ["docs/a"]

    async def test_the_temporary_file_prefix_is_not_a_valid_local_key(self, tmp_path: Path) -> None:
        store = LocalObjectStore(tmp_path)

        with pytest.raises(InvalidInput, match="reserved"):
            await store.put(f"docs/{TEMP_FILE_PREFIX}x", b"x")

    async def test_a_key_that_is_a_prefix_of_other_keys_cannot_be_written(
        self, tmp_path: Path
    ) -> None:
        store = LocalObjectStore(tmp_path)
        await store.put("a/b", b"x")

        with pytest.raises(Conflict, match="'a'"):
            await store.put("a", b"y")
        assert await store.get("a/b") == b"x"

    async def test_a_key_that_runs_through_an_object_cannot_be_written(
        self, tmp_path: Path
    ) -> None:
        store = LocalObjectStore(tmp_path)
        await store.put("a", b"x")

        with pytest.raises(Conflict, match="'a/b'"):
            await store.put("a/b", b"y")
        assert await store.get("a") == b"x"

    async def test_a_segment_too_long_for_the_filesystem_is_invalid_input(
        self, tmp_path: Path
    ) -> None:
        store = LocalObjectStore(tmp_path)

        with pytest.raises(InvalidInput, match="too long"):
            await store.put("n" * 300, b"x")

    async def test_deleting_the_last_nested_key_removes_emptied_folders(
        self, tmp_path: Path
    ) -> None:
        root = tmp_path / "objects"
        store = LocalObjectStore(root)
        await store.put("a/b/c", b"x")
        await store.put("a/keep", b"x")

        await store.delete("a/b/c")

        assert files_under(root) == {root / "a", root / "a" / "keep"}


class TestHealthCheck:
    async def test_a_usable_store_passes(self, store: ObjectStore) -> None:
        await store.check()

    async def test_a_missing_local_root_is_created(self, tmp_path: Path) -> None:
        root = tmp_path / "not" / "yet"

        await LocalObjectStore(root).check()

        assert root.is_dir()

    async def test_a_local_root_that_is_a_file_fails_naming_the_path(self, tmp_path: Path) -> None:
        root = tmp_path / "objects"
        root.write_bytes(b"not a folder")

        with pytest.raises(ServiceUnavailable) as caught:
            await LocalObjectStore(root).check()

        assert str(root) in caught.value.detail
        assert "not a folder" in caught.value.detail

    @pytest.mark.skipif(os.geteuid() == 0, reason="root can write into read-only folders")
    async def test_a_read_only_local_root_fails_naming_the_path(self, tmp_path: Path) -> None:
        root = tmp_path / "objects"
        root.mkdir(mode=0o500)

        try:
            with pytest.raises(ServiceUnavailable, match="cannot write"):
                await LocalObjectStore(root).check()
        finally:
            root.chmod(0o700)

    async def test_a_missing_bucket_fails_naming_the_bucket(self, s3_endpoint: str) -> None:
        bucket = fresh_bucket()

        async with s3_store(s3_endpoint, bucket) as store:
            with pytest.raises(ServiceUnavailable) as caught:
                await store.check()

        assert repr(bucket) in caught.value.detail
        assert "does not exist" in caught.value.detail

    async def test_an_unreachable_server_fails_naming_the_bucket(self) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            closed_port = sock.getsockname()[1]

        async with s3_store(f"http://127.0.0.1:{closed_port}", "media") as store:
            with pytest.raises(ServiceUnavailable) as caught:
                await store.check()

        assert "'media'" in caught.value.detail
        assert "not reachable" in caught.value.detail


class TestBuildObjectStore:
    async def test_without_a_bucket_objects_go_to_the_data_folder(self, tmp_path: Path) -> None:
        settings = Settings(data_dir=tmp_path, s3_bucket=None, _env_file=None)

        async with build_object_store(settings) as store:
            await store.put("k", b"v")

        assert isinstance(store, LocalObjectStore)
        assert (tmp_path / "objects" / "k").read_bytes() == b"v"

    async def test_with_a_bucket_objects_go_to_that_bucket(
        self, tmp_path: Path, s3_endpoint: str
    ) -> None:
        bucket = fresh_bucket()
        settings = Settings(
            data_dir=tmp_path,
            s3_bucket=bucket,
            s3_endpoint_url=s3_endpoint,
            s3_region="eu-west-1",
            s3_access_key_id="test",
            s3_secret_access_key="test",
            _env_file=None,
        )

        async with build_object_store(settings) as store:
            assert isinstance(store, S3ObjectStore)
            assert store.region == "eu-west-1"
            await store.ensure_bucket()
            await store.put("k", b"v")

        async with s3_store(s3_endpoint, bucket) as reader:
            assert await reader.get("k") == b"v"
        assert not (tmp_path / "objects").exists()
