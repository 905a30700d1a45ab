"""``campaign-manager backup`` and ``restore`` as a user runs them: a data folder in use is backed
up, restored into an empty one on "another machine", and the restored one holds the same rows
and files and serves them; damaged archives and non-empty targets are refused untouched.

The source folder's PostgreSQL runs in this process while the CLI works (as it would under a
running service); the CLI joins it. The restored folder's server is started by the CLI.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import tarfile
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import text

from core.errors import InvalidInput
from core.settings import Settings
from serve.stack import load_or_create_secret
from storage import migrator
from storage.backup import libpq_environment, verify_archive
from storage.database import create_engine, create_sessionmaker
from storage.embedded import EmbeddedPostgres, EmbeddedRedis
from storage.object_store import LocalObjectStore, ObjectStore, S3ObjectStore
from storage.repositories.workspaces import WorkspaceRepository
from tests.conftest import create_database
from tests.factories import make_artist, make_transaction
from tests.serve.conftest import client_of, running_app

CLI = [sys.executable, "-m", "serve"]
PASSWORD = "correct horse battery"
# Every byte value, and the bytes text handling would mangle.
BINARY = bytes(range(256)) * 40 + b"\x00\r\n\xff"


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CM_")}
    return subprocess.run(
        [*CLI, *args],
        capture_output=True,
        text=True,
        timeout=180,
        env={**clean, **(env or {})},
        stdin=subprocess.DEVNULL,
    )


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one error line, got: {result.stderr!r}"
    assert "Traceback" not in result.stderr
    return lines[0]


def written_archive(result: subprocess.CompletedProcess[str]) -> Path:
    assert result.returncode == 0, result.stderr
    found = re.search(r"wrote backup to (\S+\.tar) \(", result.stdout)
    assert found, result.stdout
    return Path(found.group(1))


async def table_contents(url: str) -> dict[str, tuple[int, str]]:
    """Every table of the schema: its row count and a hash of its rows in a fixed order."""
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.connect() as connection:
            tables = (
                await connection.execute(
                    text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
                )
            ).scalars()
            found = {}
            for table in sorted(tables):
                row = (
                    await connection.execute(
                        text(
                            "SELECT count(*), md5(coalesce(string_agg(t::text, E'\\n' "
                            f"ORDER BY t::text), '')) FROM public.\"{table}\" AS t"
                        )
                    )
                ).one()
                found[table] = (int(row[0]), str(row[1]))
            return found
    finally:
        await engine.dispose()


async def files_of(store: ObjectStore) -> dict[str, bytes]:
    return {
        key: await store.get(key) for key in await store.list() if not key.startswith("backups/")
    }


def app_settings_for(data_dir: Path, database_url: str, redis_url: str) -> Settings:
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        redis_url=redis_url,
        secret_key=SecretStr(load_or_create_secret(data_dir / "secret_key")),
        registrations_per_ip=1000,
    )


@dataclass
class Source:
    data_dir: Path
    database_url: str
    access_token: str
    email: str
    campaign: str
    export_url: str


@pytest.fixture(scope="module")
def backup_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("backup")


@pytest.fixture(scope="module")
async def source(backup_dir: Path) -> AsyncIterator[Source]:
    """A data folder in use: an account, a campaign, artists, money, an export (a file the
    API wrote) and a binary file, all made through the app or the repositories."""
    data_dir = backup_dir / "source"
    data_dir.mkdir()
    postgres = EmbeddedPostgres(data_dir / "postgres")
    database_url = postgres.start()
    redis = EmbeddedRedis(data_dir / "redis")
    redis_url = redis.start()
    try:
        engine = create_engine(database_url, pool_size=2)
        await migrator.upgrade(engine)
        settings = app_settings_for(data_dir, database_url, redis_url)
        async with running_app(settings) as app, client_of(app) as api:
            email = f"mia-{uuid.uuid4().hex[:8]}@label.example"
            registered = await api.post(
                "/api/v1/auth/register",
                json={"email": email, "password": PASSWORD, "display_name": "Mia"},
            )
            assert registered.status_code == 201, registered.text
            token = registered.json()["tokens"]["access_token"]
            workspace_id = registered.json()["workspace"]["id"]
            user_id = registered.json()["user"]["id"]
            headers = {"Authorization": f"Bearer {token}"}
            campaign = "Sommer-Release ☀ «Ñandú»"
            created = await api.post(
                "/api/v1/campaigns",
                json={"name": campaign, "budget_minor": 125_000, "currency": "EUR"},
                headers=headers,
            )
            assert created.status_code == 201, created.text
            async with create_sessionmaker(engine).begin() as session:
                for n in range(3):
                    await make_artist(session, name=f"Artist {n} — Zürich", city="Zürich")
                workspace = await WorkspaceRepository(session).get_for_member(
                    uuid.UUID(workspace_id), uuid.UUID(user_id)
                )
                await make_transaction(session, workspace=workspace, amount_minor=4_999)
            exported = await api.post("/api/v1/artists/export", headers=headers)
            assert exported.status_code == 201, exported.text
        await engine.dispose()
        async with LocalObjectStore(settings.objects_dir) as store:
            await store.put("attachments/cover art.bin", BINARY)
        yield Source(
            data_dir=data_dir,
            database_url=database_url,
            access_token=token,
            email=email,
            campaign=campaign,
            export_url=exported.json()["download_url"],
        )
    finally:
        redis.stop()
        postgres.stop()


@pytest.fixture(scope="module")
def archive(source: Source, backup_dir: Path) -> Path:
    folder = backup_dir / "archives"
    folder.mkdir()
    return written_archive(run("--data-dir", str(source.data_dir), "backup", "--out", str(folder)))


@dataclass
class Restored:
    data_dir: Path
    database_url: str
    output: str


@pytest.fixture(scope="module")
def restored(archive: Path, backup_dir: Path) -> Iterator[Restored]:
    data_dir = backup_dir / "restored"
    result = run("--data-dir", str(data_dir), "restore", str(archive))
    assert result.returncode == 0, result.stderr
    postgres = EmbeddedPostgres(data_dir / "postgres")
    url = postgres.start()
    yield Restored(data_dir=data_dir, database_url=url, output=result.stdout)
    postgres.stop()


class TestBackupThenRestore:
    async def test_every_table_holds_the_same_rows(
        self, source: Source, restored: Restored
    ) -> None:
        before = await table_contents(source.database_url)
        after = await table_contents(restored.database_url)

        assert after == before
        for table in ("users", "workspaces", "campaigns", "artists", "transactions"):
            assert before[table][0] > 0, f"nothing seeded in {table}"

    async def test_every_file_comes_back_byte_for_byte(
        self, source: Source, restored: Restored
    ) -> None:
        async with LocalObjectStore(source.data_dir / "objects") as before_store:
            before = await files_of(before_store)
        async with LocalObjectStore(restored.data_dir / "objects") as after_store:
            after = await files_of(after_store)

        assert after == before
        assert after["attachments/cover art.bin"] == BINARY
        assert any(key.startswith("exports/") for key in after)

    async def test_the_restored_service_serves_the_data_to_its_old_sessions(
        self, source: Source, restored: Restored, backup_dir: Path
    ) -> None:
        engine = create_engine(restored.database_url, pool_size=1)
        revision = await migrator.current_revision(engine)
        await engine.dispose()
        assert revision == migrator.head_revision()
        redis = EmbeddedRedis(backup_dir / "restored-redis")
        settings = app_settings_for(restored.data_dir, restored.database_url, redis.start())
        try:
            async with running_app(settings) as app, client_of(app) as api:
                # A token signed before the backup still works: the signing key came back.
                headers = {"Authorization": f"Bearer {source.access_token}"}
                campaigns = await api.get("/api/v1/campaigns", headers=headers)
                export = await api.get(source.export_url, headers=headers)
                login = await api.post(
                    "/api/v1/auth/login", json={"email": source.email, "password": PASSWORD}
                )
        finally:
            redis.stop()

        assert campaigns.status_code == 200, campaigns.text
        assert [c["name"] for c in campaigns.json()["items"]] == [source.campaign]
        assert export.status_code == 200, export.text
        assert "Zürich" in export.text
        assert login.status_code == 200, login.text

    def test_the_archive_is_private_and_lists_its_manifest_first(self, archive: Path) -> None:
        assert archive.stat().st_mode & 0o077 == 0
        with tarfile.open(archive) as tar:
            names = tar.getnames()
            manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
        assert names[:3] == ["manifest.json", "database.dump", "secret_key"]
        assert manifest["alembic_revision"] == migrator.head_revision()
        assert {item["key"] for item in manifest["objects"]} == {
            name.removeprefix("objects/") for name in names[3:]
        }

    async def test_a_folder_that_already_holds_the_tables_is_refused_as_it_is(
        self, archive: Path, restored: Restored
    ) -> None:
        before = await table_contents(restored.database_url)

        result = run("--data-dir", str(restored.data_dir), "restore", str(archive))

        assert result.returncode == 1
        line = one_error_line(result)
        assert "already holds Campaign Manager's tables" in line
        assert "--force" in line
        assert await table_contents(restored.database_url) == before


def flip_a_byte_of(archive: Path, member: str, copy: Path) -> Path:
    data = bytearray(archive.read_bytes())
    with tarfile.open(archive) as tar:
        info = tar.getmember(member)
    data[info.offset_data + info.size // 2] ^= 0xFF
    copy.write_bytes(bytes(data))
    return copy


class TestDamagedArchives:
    @pytest.mark.parametrize(
        ("damage", "message"),
        [
            ("dump", "is damaged or was altered: database.dump does not match"),
            ("object", "is damaged or was altered: objects/attachments/cover art.bin"),
            ("truncated", "truncated"),
            ("not-tar", "is not a Campaign Manager backup"),
        ],
    )
    def test_a_damaged_archive_is_refused_naming_what_is_wrong(
        self, archive: Path, tmp_path: Path, damage: str, message: str
    ) -> None:
        bad = tmp_path / "bad.tar"
        if damage == "dump":
            flip_a_byte_of(archive, "database.dump", bad)
        elif damage == "object":
            flip_a_byte_of(archive, "objects/attachments/cover art.bin", bad)
        elif damage == "truncated":
            bad.write_bytes(archive.read_bytes()[: archive.stat().st_size * 2 // 3])
        else:
            bad.write_text("id,name\n1,not a backup\n")
        staging = tmp_path / "staging"
        staging.mkdir()

        with pytest.raises(InvalidInput) as refused:
            verify_archive(bad, staging)

        assert message in refused.value.detail

    def test_the_cli_refuses_it_in_one_line_before_making_anything(
        self, archive: Path, tmp_path: Path
    ) -> None:
        bad = flip_a_byte_of(archive, "database.dump", tmp_path / "bad.tar")
        target = tmp_path / "target"

        result = run("--data-dir", str(target), "restore", str(bad))

        assert result.returncode == 1
        assert one_error_line(result).startswith(f"error: {bad} is damaged or was altered")
        assert not target.exists()

    async def test_a_load_that_fails_midway_leaves_the_database_empty(
        self, archive: Path, tmp_path: Path, postgres_url: str
    ) -> None:
        # A manifest whose row count disagrees with the dump: the check that ends the load's
        # transaction fails after every table was created and filled.
        forged = tmp_path / "forged.tar"
        with tarfile.open(archive) as source, tarfile.open(forged, "w") as copy:
            for member in source:
                data = source.extractfile(member).read()  # type: ignore[union-attr]
                if member.name == "manifest.json":
                    manifest = json.loads(data)
                    manifest["tables"]["users"] += 1
                    data = json.dumps(manifest).encode()
                    member.size = len(data)
                copy.addfile(member, io.BytesIO(data))
        database = await create_database(postgres_url, f"restore_{uuid.uuid4().hex[:8]}")

        result = run(
            "--data-dir",
            str(tmp_path / "target"),
            "restore",
            str(forged),
            env={"CM_DATABASE_URL": database},
        )

        assert result.returncode == 1
        assert "table users does not hold" in one_error_line(result)
        assert await table_contents(database) == {}
        assert list((tmp_path / "target" / "objects").rglob("*")) == []


def s3_env(endpoint: str, bucket: str) -> dict[str, str]:
    return {
        "CM_S3_BUCKET": bucket,
        "CM_S3_ENDPOINT_URL": endpoint,
        "CM_S3_ACCESS_KEY_ID": "test",
        "CM_S3_SECRET_ACCESS_KEY": "test",
    }


def s3_store(endpoint: str, bucket: str) -> S3ObjectStore:
    return S3ObjectStore(
        bucket, endpoint_url=endpoint, access_key_id="test", secret_access_key="test"
    )


class TestS3:
    async def test_a_backup_in_the_bucket_restores_into_another_bucket_and_database(
        self, source: Source, s3_endpoint: str, postgres_url: str, tmp_path: Path
    ) -> None:
        origin, destination = (f"backup-{uuid.uuid4().hex[:12]}" for _ in range(2))
        files = {"exports/a b/ümlaut.csv": "name\nZürich\n".encode(), "cover.bin": BINARY}
        async with s3_store(s3_endpoint, origin) as store:
            await store.ensure_bucket()
            for key, data in files.items():
                await store.put(key, data)

            made = run(
                "--data-dir",
                str(source.data_dir),
                "backup",
                "--to-object-store",
                env=s3_env(s3_endpoint, origin),
            )
            assert made.returncode == 0, made.stderr
            (key,) = await store.list("backups/")
            assert list((source.data_dir / "backups").iterdir()) == []  # nothing staged is left
            assert f"S3 bucket {origin!r}" in made.stdout
            archive = tmp_path / "from-s3.tar"
            archive.write_bytes(await store.get(key))
        # The new machine keeps its data on servers of its own: an S3 bucket and a database.
        database = await create_database(postgres_url, f"restore_{uuid.uuid4().hex[:8]}")
        async with s3_store(s3_endpoint, destination) as store:
            await store.ensure_bucket()

            result = run(
                "--data-dir",
                str(tmp_path / "new-machine"),
                "restore",
                str(archive),
                env={"CM_DATABASE_URL": database, **s3_env(s3_endpoint, destination)},
            )

            assert result.returncode == 0, result.stderr
            assert await files_of(store) == files
        assert await table_contents(database) == await table_contents(source.database_url)

    async def test_a_large_file_is_uploaded_in_parts(
        self, s3_endpoint: str, tmp_path: Path
    ) -> None:
        big = tmp_path / "big.tar"
        data = os.urandom(5 * 1024 * 1024) * 2 + BINARY
        big.write_bytes(data)
        async with s3_store(s3_endpoint, f"backup-{uuid.uuid4().hex[:12]}") as store:
            await store.ensure_bucket()
            store.multipart_part_bytes = 5 * 1024 * 1024

            await store.put_file("backups/big.tar", big)

            assert await store.get("backups/big.tar") == data


class TestConnectionSettings:
    @pytest.mark.parametrize(
        ("url", "expected"),
        [
            (
                "postgresql://postgres:@/postgres?host=/run/cm/pg",
                {"PGHOST": "/run/cm/pg", "PGUSER": "postgres", "PGDATABASE": "postgres"},
            ),
            (
                "postgresql+asyncpg://app:p%40ss%3Aword@db.example:6432/cm?ssl=require",
                {
                    "PGHOST": "db.example",
                    "PGPORT": "6432",
                    "PGUSER": "app",
                    "PGPASSWORD": "p@ss:word",
                    "PGDATABASE": "cm",
                    "PGSSLMODE": "require",
                },
            ),
        ],
    )
    def test_the_service_url_becomes_the_tools_environment(
        self, url: str, expected: dict[str, str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # A PGHOST of the user's own shell must not send the tools elsewhere.
        monkeypatch.setenv("PGHOST", "elsewhere.example")
        environment = libpq_environment(url)
        given = {k: v for k, v in environment.items() if k in expected or k == "PGHOST"}
        assert given == expected
