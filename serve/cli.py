"""``campaign-manager``: the composition root. Each command says what it did and where, and exits
non-zero with one clear line on bad input."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import warnings
from pathlib import Path
from typing import Annotated, Any

import typer

# Typer vendors its own click; its usage errors are instances of this class, not click's.
from typer._click.exceptions import ClickException

from core import logs, telemetry
from core.errors import CampaignManagerError, ConfigurationError, InvalidInput
from core.passwords import hash_password
from core.settings import Settings, load_settings
from serve.stack import LocalStack

app = typer.Typer(
    name="campaign-manager",
    help="Discover artists, run campaigns and outreach, track money: one self-hosted service.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
user_app = typer.Typer(help="Manage user accounts.", no_args_is_help=True)
app.add_typer(user_app, name="user")


def say(message: str) -> None:
    typer.echo(message)


def _settings(ctx: typer.Context, **overrides: Any) -> Settings:
    data_dir = ctx.find_root().params.get("data_dir")
    settings = load_settings(data_dir=data_dir, **overrides)
    # The commands say what they do; the CLI's own logs stay at warning unless CM_LOG_LEVEL
    # asks otherwise (the processes it starts use the setting as it is).
    quiet = None if "log_level" in settings.model_fields_set else "warning"
    telemetry.setup(settings, "cli", log_level=quiet)
    return settings


@app.callback()
def main_options(
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir",
            help="Folder for all local state (default: CM_DATA_DIR or the user data folder).",
        ),
    ] = None,
) -> None:
    """Campaign Manager."""


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="Interface to listen on (CM_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="HTTP port (CM_PORT).")] = None,
) -> None:
    """Start the service: embedded PostgreSQL and Redis unless URLs are set, migrations, Ray
    and the API on Ray Serve. Ctrl-C stops everything it started."""
    from serve.runner import run_service

    settings = _settings(ctx, host=host, port=port)
    say(f"data folder: {settings.data_dir}")
    run_service(settings, say)


@app.command()
def demo(
    ctx: typer.Context,
    artists: Annotated[int, typer.Option(help="Artists on the fixture site.", min=100)] = 10_000,
    seed: Annotated[int, typer.Option(help="The same seed gives the same artists.")] = 7,
    rate: Annotated[
        float,
        typer.Option(
            help="Requests per second per host for discovery (the fixture site takes far more).",
            min=0.1,
        ),
    ] = 100.0,
    host: Annotated[str | None, typer.Option(help="Interface to listen on (CM_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="HTTP port (CM_PORT).")] = None,
    fill: Annotated[
        bool,
        typer.Option(
            help="Fill an empty demo workspace with a discovery, campaigns, outreach and money."
        ),
    ] = True,
) -> None:
    """Run the service offline with a SoundCloud-shaped fixture site to discover artists on,
    and a demo account to sign in with, its workspace filled the first time. Ctrl-C stops
    everything."""
    from serve.demo import FixtureSiteThread, demo_settings, prepare_demo
    from serve.runner import run_service

    settings = _settings(ctx, host=host, port=port)
    say(f"data folder: {settings.data_dir}")
    with FixtureSiteThread(artists, seed) as site:
        say(f"fixture SoundCloud: {site.web_url} (API {site.api_url}), {artists} artists")
        run_service(
            demo_settings(settings, site, rate),
            say,
            on_ready=lambda base_url: prepare_demo(base_url, say, fill=fill),
        )


@app.command()
def openapi(
    ctx: typer.Context,
    out: Annotated[
        Path | None, typer.Option(help="Write to this file instead of standard output.")
    ] = None,
) -> None:
    """Print the API's OpenAPI document (JSON); the web app's API types are made from it."""
    from serve.app import build_app

    document = json.dumps(build_app(_settings(ctx)).openapi(), indent=2, sort_keys=True) + "\n"
    if out is None:
        typer.echo(document, nl=False)
    else:
        out.write_text(document, encoding="utf-8")


@app.command()
def migrate(
    ctx: typer.Context,
    revision: Annotated[str, typer.Option(help="Target revision.")] = "head",
    downgrade: Annotated[bool, typer.Option("--downgrade", help="Go down to REVISION.")] = False,
) -> None:
    """Bring the database schema to a revision (default: the latest)."""
    from storage import migrator
    from storage.database import create_engine

    settings = _settings(ctx)

    async def run(url: str) -> str | None:
        engine = create_engine(url, pool_size=1)
        try:
            if downgrade:
                await migrator.downgrade(engine, revision)
            else:
                await migrator.upgrade(engine, revision)
            return await migrator.current_revision(engine)
        finally:
            await engine.dispose()

    with LocalStack(settings, migrate=False, for_service=False) as stack:
        assert stack.settings.database_url is not None
        current = asyncio.run(run(stack.settings.database_url))
    say(f"database schema at revision {current or 'base (empty)'}")


_TIMEOUT_OPTION = typer.Option(
    "--timeout", help="Seconds each PostgreSQL tool (and the database work) may take.", min=1
)


@app.command()
def backup(
    ctx: typer.Context,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Archive file or folder (default: <data folder>/backups/campaign-manager-"
            "<UTC time>.tar)."
        ),
    ] = None,
    to_object_store: Annotated[
        bool,
        typer.Option(
            "--to-object-store", help="Upload the archive to the object store under backups/."
        ),
    ] = False,
    timeout: Annotated[float, _TIMEOUT_OPTION] = 3600.0,
) -> None:
    """Back up the database (pg_dump) and the object store's files into one archive, with a
    manifest of checksums. Safe while the service runs. See docs/backups.md."""
    from storage.backup import create_backup, describe_size

    if out is not None and to_object_store:
        raise InvalidInput("--out and --to-object-store exclude each other: choose one")
    settings = _settings(ctx)
    say(f"data folder: {settings.data_dir}")
    # The data folder's key signs and encrypts what the database holds, unless CM_SECRET_KEY is
    # set; checked before the stack starts, which would make a new one.
    key_file = settings.secret_key_file
    keep_key = settings.secret_key is None and key_file.is_file()
    with LocalStack(settings, migrate=False, for_service=False) as stack:
        result = asyncio.run(
            create_backup(
                stack.settings,
                embedded_postgres=settings.uses_embedded_postgres,
                secret_key_file=key_file if keep_key else None,
                out=out,
                to_object_store=to_object_store,
                say=say,
                timeout_seconds=timeout,
            )
        )
    manifest = result.manifest
    say(
        f"wrote backup to {result.where} ({describe_size(result.size)}, schema revision "
        f"{manifest.alembic_revision}, {manifest.rows} rows, {_count(manifest.objects, 'object')})"
    )


def _count(items: list[Any], noun: str) -> str:
    return f"{len(items)} {noun}{'' if len(items) == 1 else 's'}"


@app.command()
def restore(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="An archive made by `campaign-manager backup`.")],
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Replace what the database's public schema and the object store already hold.",
        ),
    ] = False,
    timeout: Annotated[float, _TIMEOUT_OPTION] = 3600.0,
) -> None:
    """Restore a backup into an empty data folder or database: checks every file of the archive
    first, loads the database in one transaction, puts the files back, migrates to the latest
    schema. See docs/backups.md."""
    import tempfile

    from storage.backup import restore_archive, verify_archive

    settings = _settings(ctx)
    with tempfile.TemporaryDirectory(prefix="cm-restore-") as staging:
        verified = verify_archive(file, Path(staging))
        manifest = verified.manifest
        say(
            f"verified {file}: made {manifest.created_at:%Y-%m-%d %H:%M:%S} UTC by Campaign "
            f"Manager {manifest.app_version}, schema revision {manifest.alembic_revision}, "
            f"{len(manifest.tables)} tables, {manifest.rows} rows, "
            f"{_count(manifest.objects, 'object')}"
        )
        say(f"data folder: {settings.data_dir}")
        with LocalStack(settings, migrate=False, for_service=False) as stack:
            result = asyncio.run(
                restore_archive(
                    verified,
                    stack.settings,
                    embedded_postgres=settings.uses_embedded_postgres,
                    secret_key_file=(
                        settings.secret_key_file if settings.secret_key is None else None
                    ),
                    force=force,
                    say=say,
                    timeout_seconds=timeout,
                )
            )
    for note in result.notes:
        say(f"note: {note}")
    say(f"restored; database schema at revision {result.revision}")


@user_app.command("create")
def user_create(
    ctx: typer.Context,
    email: Annotated[str, typer.Option(help="Login email address.")],
    password: Annotated[
        str | None,
        typer.Option(
            envvar="CM_NEW_USER_PASSWORD",
            help="Password (asked for on a terminal if not given; needed otherwise).",
        ),
    ] = None,
    name: Annotated[str, typer.Option(help="Display name.")] = "",
    workspace: Annotated[
        str | None, typer.Option(help="Name of the user's first workspace.")
    ] = None,
) -> None:
    """Create a user and their first workspace, with the user as its owner."""
    from storage.database import create_engine, create_sessionmaker
    from storage.repositories.users import UserRepository
    from storage.repositories.workspaces import WorkspaceRepository

    settings = _settings(ctx)
    if password is None:
        if not sys.stdin.isatty():
            raise typer.BadParameter(
                "there is no terminal to ask for it on: pass --password or set "
                "CM_NEW_USER_PASSWORD",
                param_hint="--password",
            )
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    password_hash = hash_password(password)
    workspace_name = workspace or f"{name or email.split('@')[0]}'s workspace"

    async def run(url: str) -> tuple[str, str, str]:
        engine = create_engine(url, pool_size=1)
        try:
            async with create_sessionmaker(engine).begin() as session:
                user = await UserRepository(session).create(
                    email=email, password_hash=password_hash, display_name=name
                )
                team = await WorkspaceRepository(session).create(
                    name=workspace_name, owner_id=user.id
                )
                return user.email, str(user.id), team.slug
        finally:
            await engine.dispose()

    with LocalStack(settings, for_service=False) as stack:
        assert stack.settings.database_url is not None
        user_email, user_id, slug = asyncio.run(run(stack.settings.database_url))
    say(f"created user {user_email} ({user_id}), owner of workspace '{workspace_name}' ({slug})")


@app.command()
def discover(
    ctx: typer.Context,
    workspace: Annotated[str, typer.Option(help="Slug of the workspace that owns the job.")],
    term: Annotated[list[str] | None, typer.Option("--term", help="Search term (repeat).")] = None,
    genre: Annotated[list[str] | None, typer.Option("--genre", help="Genre (repeat).")] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", help="Tag (repeat).")] = None,
    seed: Annotated[
        list[str] | None, typer.Option("--seed", help="Seed artist URL or permalink (repeat).")
    ] = None,
    city: Annotated[str | None, typer.Option(help="Keep artists in this city.")] = None,
    country: Annotated[str | None, typer.Option(help="Keep artists in this country (DE).")] = None,
    min_followers: Annotated[int | None, typer.Option(help="At least this many followers.")] = None,
    max_followers: Annotated[int | None, typer.Option(help="At most this many followers.")] = None,
    active_within_days: Annotated[
        int | None, typer.Option(help="Keep artists with a track this recent.")
    ] = None,
    max_artists: Annotated[int, typer.Option(help="Stop after keeping this many.")] = 500,
    max_depth: Annotated[int, typer.Option(help="Steps away from the seeds.")] = 1,
    detach: Annotated[
        bool, typer.Option("--detach", help="Submit and return (needs CM_RAY_ADDRESS).")
    ] = False,
) -> None:
    """Discover artists: a job walks SoundCloud from a query on the cluster at CM_RAY_ADDRESS
    (as a Ray Job) or on a local Ray, and shows its progress. Ctrl-C cancels it."""
    from pydantic import ValidationError

    from core.discovery import DiscoveryQuery

    settings = _settings(ctx)
    try:
        query = DiscoveryQuery(
            terms=term or [],
            genres=genre or [],
            tags=tag or [],
            seed_artists=seed or [],
            city=city,
            country=country,
            min_followers=min_followers,
            max_followers=max_followers,
            active_within_days=active_within_days,
            max_artists=max_artists,
            max_depth=max_depth,
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "query"
        raise InvalidInput(f"{where}: {first['msg'].removeprefix('Value error, ')}") from None
    # Refused before anything starts: nothing is fetched from a host the user named.
    query.seed_permalinks(settings.soundcloud_web_url)
    if detach and not settings.ray_address:
        raise InvalidInput("--detach needs a cluster to run on: set CM_RAY_ADDRESS")
    if detach and (settings.uses_embedded_postgres or settings.uses_embedded_redis):
        # The embedded servers stop when this command exits, under the detached job.
        raise InvalidInput(
            "--detach needs a database and Redis that outlive this command: "
            "set CM_DATABASE_URL and CM_REDIS_URL"
        )
    from serve.discovery_runs import INTERRUPTED, run_discovery

    with LocalStack(settings) as stack:
        status = run_discovery(stack.settings, workspace, query, say, detach=detach)
    if status == INTERRUPTED:
        raise typer.Exit(130)
    if status not in {"completed", "running", "queued"}:
        raise typer.Exit(1)


@app.command()
def traces(
    ctx: typer.Context,
    last: Annotated[int, typer.Option("--last", min=1, help="How many traces.")] = 20,
) -> None:
    """Print the latest traces recorded in the data folder (spans go there unless
    CM_OTLP_ENDPOINT is set) as trees: span, process role, duration, status, key attributes."""
    from serve.traces import print_traces

    # Not _settings(): reading spans is not worth tracing.
    print_traces(load_settings(data_dir=ctx.find_root().params.get("data_dir")), last, say)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI, turning every expected failure into one line and an exit code."""
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
    logs.configure(os.environ.get("CM_LOG_LEVEL") or "warning", role="cli")
    try:
        # Outside standalone mode click returns the code of a ``typer.Exit`` (and 130 for
        # Ctrl-C) instead of exiting with it.
        code = app(args=argv, standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except ConfigurationError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except CampaignManagerError as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        sys.exit(1)
    except typer.Abort:
        typer.echo("aborted", err=True)
        sys.exit(130)
    except ClickException as exc:
        typer.echo(f"error: {exc.format_message()}", err=True)
        sys.exit(exc.exit_code or 2)
