"""The shared artist catalogue, and what each workspace keeps about artists: contacts, notes,
its watch list."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Query, Response, UploadFile, status

from core.csv_import import IMPORT_FILE_RULES, MAX_IMPORT_BYTES, ProblemLog, read_csv
from core.enums import ContactSource
from core.errors import Conflict, FieldProblem, InvalidInput
from core.pagination import MAX_PAGE_SIZE
from serve.dependencies import ActivityDep, CurrentPrincipal, Editor, ResourcesDep, SessionDep
from serve.exports import ExportRead, save_export, to_csv
from serve.reads import cached
from serve.resources import Resources
from serve.schemas.artists import (
    CSV_COLUMNS,
    CSV_FIELDS,
    CSV_REQUIRED,
    MAX_COUNT,
    ArtistCreate,
    ArtistCsvRow,
    ArtistDetail,
    ArtistRead,
    ContactCreate,
    ContactRead,
    ContactUpdate,
    ImportProblem,
    ImportResult,
    NoteCreate,
    NoteRead,
    NoteUpdate,
    SnapshotRead,
    SocialProfileRead,
)
from serve.schemas.common import DEFAULT_LIMIT, Cursor, Limit, Page, UtcDatetime, page_of
from storage.models import Artist
from storage.read_versions import CATALOGUE_VERSION_KEY
from storage.repositories.artists import ArtistFilter, ArtistRepository
from storage.repositories.contacts import ArtistContactRepository
from storage.repositories.notes import ArtistNoteRepository
from storage.repositories.watched_artists import WatchedArtistRepository

router = APIRouter(prefix="/artists", tags=["artists"])

# A percent: nothing loses more than all its followers, and no bound above this could matter.
MAX_GROWTH_PERCENT = 1e9
GrowthFloor = Annotated[
    float | None,
    Query(
        ge=-100,
        le=MAX_GROWTH_PERCENT,
        allow_inf_nan=False,
        description="Only artists whose follower growth, in percent, is at least this "
        "(artists of unknown growth are left out).",
    ),
]

ArtistSort = Annotated[
    str,
    Query(
        pattern=r"^-?(followers|name|created_at|updated_at|growth_7d|growth_30d)$",
        description="Field, '-' for descending. Growth sorts are by percent; artists whose "
        "growth is unknown come last either way.",
    ),
]

# ``cached`` versions keys per workspace, but the catalogue is shared: a workspace's cached
# search must go stale when *another* workspace adds an artist. So catalogue reads also carry
# this global version, which every catalogue write bumps once committed. Contacts and notes are
# recorded as "artist" activity, which bumps the caller's workspace version: ``has_contact`` and
# the detail's counts depend on them, and on nothing another workspace can change.


def _catalogue_write(activity: ActivityDep) -> None:
    # Bumped with the request's other side effects, only once its transaction has committed.
    activity.invalidate_catalogue()


CatalogueWrite = Depends(_catalogue_write)


async def _catalogue_key(resources: Resources, *parts: object) -> str:
    version = int(await resources.redis.get(CATALOGUE_VERSION_KEY) or 0)
    # JSON, not ":"-joined text, so that no two different queries share a key.
    return f"c{version}:{json.dumps(parts, default=str, separators=(',', ':'))}"


async def artist_filter(
    principal: CurrentPrincipal,
    q: Annotated[
        str | None, Query(max_length=200, description="Text in the name, permalink or username.")
    ] = None,
    genre: Annotated[str | None, Query(max_length=100)] = None,
    city: Annotated[str | None, Query(max_length=200)] = None,
    country: Annotated[
        str | None, Query(pattern=r"^[A-Za-z]{2}$", description="ISO 3166 code.")
    ] = None,
    min_followers: Annotated[int | None, Query(ge=0, le=MAX_COUNT)] = None,
    max_followers: Annotated[int | None, Query(ge=0, le=MAX_COUNT)] = None,
    verified: bool | None = None,
    has_contact: Annotated[
        bool | None, Query(description="Has an email contact in the caller's workspace.")
    ] = None,
    min_growth_7d: GrowthFloor = None,
    min_growth_30d: GrowthFloor = None,
    watched: Annotated[
        bool | None, Query(description="Watched (or, false, not) by the caller's workspace.")
    ] = None,
) -> ArtistFilter:
    if min_followers is not None and max_followers is not None and min_followers > max_followers:
        message = "min_followers must not be more than max_followers"
        raise InvalidInput(
            message,
            [FieldProblem("min_followers", message), FieldProblem("max_followers", message)],
        )
    return ArtistFilter(
        text=q,
        genre=genre,
        city=city,
        country=country,
        min_followers=min_followers,
        max_followers=max_followers,
        verified=verified,
        min_growth_7d=min_growth_7d,
        min_growth_30d=min_growth_30d,
        has_contact=has_contact,
        watched=watched,
        workspace_id=principal.workspace_id,
    )


ArtistFilterDep = Annotated[ArtistFilter, Depends(artist_filter)]


@router.get("", response_model=Page[ArtistRead])
async def search_artists(
    principal: CurrentPrincipal,
    session: SessionDep,
    resources: ResourcesDep,
    criteria: ArtistFilterDep,
    sort: ArtistSort = "-followers",
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Any:
    """Search the shared catalogue, a page at a time."""

    async def load() -> dict[str, object]:
        page = await ArtistRepository(session).search(
            criteria, sort=sort, limit=limit, cursor=cursor
        )
        watched = await WatchedArtistRepository(session, principal.workspace_id).watched_among(
            artist.id for artist in page.items
        )
        items = [ArtistRead.of(artist, watched=artist.id in watched) for artist in page.items]
        return {
            "items": [item.model_dump(mode="json") for item in items],
            "next_cursor": page.next_cursor,
        }

    key = await _catalogue_key(
        resources, "search", dataclasses.asdict(criteria), sort, limit, cursor
    )
    return await cached(resources, principal, "artist", key, load)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ArtistRead,
    dependencies=[CatalogueWrite],
)
async def create_artist(
    body: ArtistCreate, principal: Editor, session: SessionDep, activity: ActivityDep
) -> ArtistRead:
    """Add an artist to the shared catalogue by hand (409 if its SoundCloud id is there)."""
    repo = ArtistRepository(session)
    result = await repo.upsert_many([body.model_dump()])
    if result.inserted == 0:
        # The upsert refreshed a catalogue row that other workspaces share; raising rolls it back.
        raise Conflict(f"an artist with soundcloud_id {body.soundcloud_id} is already listed")
    artist_id = result.ids[body.soundcloud_id]
    await activity.record(
        "artist.create", "artist", artist_id, {"soundcloud_id": body.soundcloud_id}
    )
    return ArtistRead.model_validate(await repo.get(artist_id))


@router.post("/import", response_model=ImportResult, dependencies=[CatalogueWrite])
async def import_artists(
    file: Annotated[
        UploadFile,
        File(description=f"CSV with a header row; {IMPORT_FILE_RULES}."),
    ],
    principal: Editor,
    session: SessionDep,
    activity: ActivityDep,
) -> ImportResult:
    """Add artists new to the catalogue from a CSV file, and every row's emails as contacts."""
    table = await asyncio.to_thread(
        read_csv,
        await file.read(MAX_IMPORT_BYTES + 1),
        columns=CSV_COLUMNS,
        required=CSV_REQUIRED,
    )
    catalogue = ArtistRepository(session)
    contacts = ArtistContactRepository(session, principal.workspace_id)
    problems = ProblemLog()
    named: set[int] = set()
    inserted = existing = contacts_added = 0
    # Rows are validated off the event loop and written a batch at a time, all in the
    # request's one transaction: an import that fails half-way leaves nothing behind.
    batches = table.batches(ArtistCsvRow)
    while (batch := await asyncio.to_thread(next, batches, None)) is not None:
        problems.add(batch.problems)
        rows = [row for _, row in batch.rows]
        added = await catalogue.add_missing(row.catalogue_record() for row in rows)
        for row in rows:
            if row.soundcloud_id in added.inserted and row.soundcloud_id not in named:
                inserted += 1
            else:
                existing += 1
            named.add(row.soundcloud_id)
        contacts_added += await contacts.add_many(
            [(added.ids[row.soundcloud_id], email) for row in rows for email in row.email],
            source=ContactSource.IMPORT,
        )
    answer = ImportResult(
        rows=table.rows,
        inserted=inserted,
        existing=existing,
        skipped=problems.skipped_rows,
        contacts_added=contacts_added,
        errors=[ImportProblem.model_validate(p, from_attributes=True) for p in problems.reported],
    )
    await activity.record(
        "artist.import",
        "artist",
        None,
        {**answer.model_dump(exclude={"errors"}), "filename": file.filename or ""},
    )
    return answer


@router.post("/export", status_code=status.HTTP_201_CREATED, response_model=ExportRead)
async def export_artists(
    principal: CurrentPrincipal,
    session: SessionDep,
    resources: ResourcesDep,
    activity: ActivityDep,
    criteria: ArtistFilterDep,
    sort: ArtistSort = "-followers",
) -> ExportRead:
    """Write the artists a search finds to a CSV file (re-importable) and link to it."""
    repo = ArtistRepository(session)
    contacts = ArtistContactRepository(session, principal.workspace_id)
    rows: list[list[object]] = []
    cursor: str | None = None
    while True:
        page = await repo.search(criteria, sort=sort, limit=MAX_PAGE_SIZE, cursor=cursor)
        emails = await contacts.emails_by_artist([artist.id for artist in page.items])
        rows.extend(_csv_row(artist, emails.get(artist.id, [])) for artist in page.items)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    data = await asyncio.to_thread(to_csv, CSV_COLUMNS, rows)
    export = await save_export(resources, principal, stem="artists", data=data, rows=len(rows))
    # Recorded on the export, not on "artist": nothing changed, so no cached read goes.
    await activity.record(
        "artist.export",
        "export",
        export.id,
        {"rows": export.rows, "filters": _filters_of(criteria, sort)},
    )
    return export


def _filters_of(criteria: ArtistFilter, sort: str) -> dict[str, object]:
    chosen = {
        name: value
        for name, value in dataclasses.asdict(criteria).items()
        if value not in (None, ()) and name not in {"workspace_id", "soundcloud_ids"}
    }
    return {**chosen, "sort": sort}


def _csv_row(artist: Artist, emails: list[str]) -> list[object]:
    values: dict[str, object] = {
        column: getattr(artist, field) for column, field in CSV_FIELDS.items()
    }
    values["genres"] = ";".join(artist.genres)
    values["verified"] = "true" if artist.verified else "false"
    values["email"] = ";".join(emails)
    return [values[column] for column in CSV_COLUMNS]


@router.get("/{artist_id}", response_model=ArtistDetail)
async def get_artist(
    artist_id: uuid.UUID,
    principal: CurrentPrincipal,
    session: SessionDep,
    resources: ResourcesDep,
) -> Any:
    """One catalogue artist with social profiles, and what the workspace holds on them."""

    async def load() -> dict[str, object]:
        artist = await ArtistRepository(session).get(artist_id, with_profiles=True)
        watched = WatchedArtistRepository(session, principal.workspace_id)
        detail = ArtistDetail(
            **ArtistRead.of(
                artist, watched=bool(await watched.watched_among([artist_id]))
            ).model_dump(),
            social_profiles=[SocialProfileRead.model_validate(p) for p in artist.social_profiles],
            contacts_count=await ArtistContactRepository(
                session, principal.workspace_id
            ).count_for_artist(artist_id),
            notes_count=await ArtistNoteRepository(
                session, principal.workspace_id
            ).count_for_artist(artist_id),
        )
        return detail.model_dump(mode="json")

    key = await _catalogue_key(resources, "one", artist_id)
    return await cached(resources, principal, "artist", key, load)


@router.get("/{artist_id}/snapshots", response_model=list[SnapshotRead])
async def list_snapshots(
    artist_id: uuid.UUID,
    principal: CurrentPrincipal,
    session: SessionDep,
    since: Annotated[
        UtcDatetime | None, Query(description="Only from this time on (UTC unless it says).")
    ] = None,
) -> list[SnapshotRead]:
    """An artist's followers and tracks over time, oldest first."""
    repo = ArtistRepository(session)
    await repo.get(artist_id)
    return [SnapshotRead.model_validate(s) for s in await repo.snapshots(artist_id, since=since)]


@router.put("/{artist_id}/watch", status_code=status.HTTP_204_NO_CONTENT)
async def watch_artist(
    artist_id: uuid.UUID, principal: Editor, session: SessionDep, activity: ActivityDep
) -> Response:
    """Watch an artist: the workspace's searches can list it and its numbers are kept fresh."""
    added = await WatchedArtistRepository(session, principal.workspace_id).watch(
        artist_id, by=principal.user_id
    )
    if added:
        await activity.record("artist.watch", "artist", artist_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete("/{artist_id}/watch", status_code=status.HTTP_204_NO_CONTENT)
async def unwatch_artist(
    artist_id: uuid.UUID, principal: Editor, session: SessionDep, activity: ActivityDep
) -> Response:
    """Stop watching an artist (also when the workspace was not watching it)."""
    await ArtistRepository(session).get(artist_id)
    if await WatchedArtistRepository(session, principal.workspace_id).unwatch(artist_id):
        await activity.record("artist.unwatch", "artist", artist_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{artist_id}/contacts", response_model=Page[ContactRead])
async def list_contacts(
    artist_id: uuid.UUID,
    principal: CurrentPrincipal,
    session: SessionDep,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> dict[str, object]:
    """The workspace's email contacts for an artist, newest first."""
    page = await ArtistContactRepository(session, principal.workspace_id).for_artist(
        artist_id, limit=limit, cursor=cursor
    )
    return page_of(page, ContactRead)


@router.post(
    "/{artist_id}/contacts", status_code=status.HTTP_201_CREATED, response_model=ContactRead
)
async def add_contact(
    artist_id: uuid.UUID,
    body: ContactCreate,
    principal: Editor,
    session: SessionDep,
    activity: ActivityDep,
) -> ContactRead:
    """Add an email contact for an artist to the workspace (409 if it is there)."""
    await ArtistRepository(session).get(artist_id)
    contact = await ArtistContactRepository(session, principal.workspace_id).add(
        artist_id=artist_id, **body.model_dump()
    )
    await activity.record(
        "artist.contact_add",
        "artist",
        artist_id,
        {"contact_id": str(contact.id), "source": contact.source},
    )
    return ContactRead.model_validate(contact)


@router.patch("/{artist_id}/contacts/{contact_id}", response_model=ContactRead)
async def update_contact(
    artist_id: uuid.UUID,
    contact_id: uuid.UUID,
    body: ContactUpdate,
    principal: Editor,
    session: SessionDep,
    activity: ActivityDep,
) -> ContactRead:
    """Change a contact's email, source or consent state."""
    repo = ArtistContactRepository(session, principal.workspace_id)
    await repo.get_for_artist(artist_id, contact_id)
    changes = body.model_dump(exclude_unset=True)
    contact = await repo.update(contact_id, changes)
    await activity.record(
        "artist.contact_update",
        "artist",
        artist_id,
        {"contact_id": str(contact_id), "fields": sorted(changes)},
    )
    return ContactRead.model_validate(contact)


@router.delete("/{artist_id}/contacts/{contact_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_contact(
    artist_id: uuid.UUID,
    contact_id: uuid.UUID,
    principal: Editor,
    session: SessionDep,
    activity: ActivityDep,
) -> Response:
    """Remove a contact from the workspace."""
    repo = ArtistContactRepository(session, principal.workspace_id)
    await repo.get_for_artist(artist_id, contact_id)
    await repo.delete(contact_id)
    await activity.record(
        "artist.contact_delete", "artist", artist_id, {"contact_id": str(contact_id)}
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{artist_id}/notes", response_model=Page[NoteRead])
async def list_notes(
    artist_id: uuid.UUID,
    principal: CurrentPrincipal,
    session: SessionDep,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> dict[str, object]:
    """The workspace's notes on an artist, newest first."""
    await ArtistRepository(session).get(artist_id)
    page = await ArtistNoteRepository(session, principal.workspace_id).for_artist(
        artist_id, limit=limit, cursor=cursor
    )
    return page_of(page, NoteRead)


@router.post("/{artist_id}/notes", status_code=status.HTTP_201_CREATED, response_model=NoteRead)
async def add_note(
    artist_id: uuid.UUID,
    body: NoteCreate,
    principal: Editor,
    session: SessionDep,
    activity: ActivityDep,
) -> NoteRead:
    """Write a note on an artist, signed by the caller."""
    note = await ArtistNoteRepository(session, principal.workspace_id).add(
        artist_id=artist_id, author_id=principal.user_id, body=body.body
    )
    await activity.record("artist.note_add", "artist", artist_id, {"note_id": str(note.id)})
    return NoteRead.model_validate(note)


@router.patch("/{artist_id}/notes/{note_id}", response_model=NoteRead)
async def update_note(
    artist_id: uuid.UUID,
    note_id: uuid.UUID,
    body: NoteUpdate,
    principal: Editor,
    session: SessionDep,
    activity: ActivityDep,
) -> NoteRead:
    """Edit a note's text."""
    repo = ArtistNoteRepository(session, principal.workspace_id)
    await repo.get_for_artist(artist_id, note_id)
    note = await repo.update(note_id, body.model_dump(exclude_unset=True))
    await activity.record("artist.note_update", "artist", artist_id, {"note_id": str(note_id)})
    return NoteRead.model_validate(note)


@router.delete("/{artist_id}/notes/{note_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_note(
    artist_id: uuid.UUID,
    note_id: uuid.UUID,
    principal: Editor,
    session: SessionDep,
    activity: ActivityDep,
) -> Response:
    """Delete a note."""
    repo = ArtistNoteRepository(session, principal.workspace_id)
    await repo.get_for_artist(artist_id, note_id)
    await repo.delete(note_id)
    await activity.record("artist.note_delete", "artist", artist_id, {"note_id": str(note_id)})
    return Response(status_code=status.HTTP_204_NO_CONTENT)
