"""Artist bodies: the shared catalogue, a workspace's contacts and notes, and CSV rows."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Self

from pydantic import BaseModel, Field, field_validator

from core.csv_import import MAX_REPORTED_PROBLEMS
from core.emails import normalize_email
from core.enums import ConsentState, ContactSource, SocialPlatform
from core.errors import InvalidInput
from serve.schemas.common import ReadModel, not_null

# PostgreSQL ``integer`` columns (followers, tracks) and the ``bigint`` SoundCloud id.
MAX_COUNT = 2**31 - 1
MAX_SOUNDCLOUD_ID = 2**63 - 1


def _email(value: str) -> str:
    try:
        return normalize_email(value)
    except InvalidInput as exc:
        raise ValueError(exc.detail) from None


class ArtistCreate(BaseModel):
    soundcloud_id: int = Field(gt=0, le=MAX_SOUNDCLOUD_ID)
    name: str = Field(min_length=1, max_length=300)
    permalink: str = Field(min_length=1, max_length=300, pattern=r"^\S+$")
    soundcloud_username: str | None = Field(default=None, max_length=300)
    permalink_url: str | None = Field(default=None, max_length=500, pattern=r"^https?://\S+$")
    description: str | None = Field(default=None, max_length=10_000)
    genres: list[str] = Field(default_factory=list, max_length=50)
    city: str | None = Field(default=None, max_length=200)
    country: str | None = Field(default=None, pattern=r"^[A-Za-z]{2}$", description="ISO 3166.")
    followers: int = Field(default=0, ge=0, le=MAX_COUNT)
    tracks: int = Field(default=0, ge=0, le=MAX_COUNT)
    verified: bool = False
    avatar_url: str | None = Field(default=None, max_length=500, pattern=r"^https?://\S+$")

    @field_validator("genres")
    @classmethod
    def _short_genres(cls, genres: list[str]) -> list[str]:
        if any(len(genre) > 100 for genre in genres):
            raise ValueError("a genre is at most 100 characters")
        return genres


class SocialProfileRead(ReadModel):
    platform: SocialPlatform
    username: str | None
    url: str
    followers_count: int | None


class ArtistRead(ReadModel):
    id: uuid.UUID
    soundcloud_id: int
    name: str
    soundcloud_username: str | None
    permalink: str
    permalink_url: str | None
    description: str | None
    genres: list[str]
    city: str | None
    country: str | None
    followers: int
    tracks: int
    verified: bool
    avatar_url: str | None
    fetched_at: datetime | None
    growth_7d: float | None = Field(
        description="Follower growth over the 7 days to the latest snapshot, in percent "
        "(12.5 is +12.5%); null when the history covers less than 80% of the window or "
        "started at 0 followers."
    )
    growth_7d_gain: int | None = Field(
        description="Followers gained over the same 7 days (negative when lost)."
    )
    growth_30d: float | None = Field(description="As growth_7d, over 30 days.")
    growth_30d_gain: int | None = Field(description="As growth_7d_gain, over 30 days.")
    watched: bool = Field(
        default=False,
        description="Whether the caller's workspace watches the artist.",
    )
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, artist: Any, *, watched: bool) -> Self:
        """The catalogue row as the caller's workspace sees it."""
        return cls.model_validate(artist).model_copy(update={"watched": watched})


class ArtistDetail(ArtistRead):
    """A catalogue artist with what the caller's workspace holds about them."""

    social_profiles: list[SocialProfileRead]
    contacts_count: int = Field(description="Email contacts in the caller's workspace.")
    notes_count: int = Field(description="Notes in the caller's workspace.")


class SnapshotRead(ReadModel):
    followers: int
    tracks: int
    captured_at: datetime


class ContactCreate(BaseModel):
    email: str = Field(max_length=320)
    source: ContactSource = ContactSource.MANUAL
    consent_state: ConsentState = ConsentState.UNKNOWN

    _valid_email = field_validator("email")(_email)


class ContactUpdate(BaseModel):
    email: str | None = Field(default=None, max_length=320)
    source: ContactSource | None = None
    consent_state: ConsentState | None = None

    _present = field_validator("email", "source", "consent_state")(not_null)

    @field_validator("email")
    @classmethod
    def _valid_email(cls, value: str) -> str:
        return _email(value)


class ContactRead(ReadModel):
    id: uuid.UUID
    artist_id: uuid.UUID
    email: str
    source: ContactSource
    consent_state: ConsentState
    created_at: datetime
    updated_at: datetime


class NoteCreate(BaseModel):
    body: str = Field(min_length=1, max_length=10_000)


class NoteUpdate(BaseModel):
    body: str | None = Field(default=None, min_length=1, max_length=10_000)

    _present = field_validator("body")(not_null)


class NoteRead(ReadModel):
    id: uuid.UUID
    artist_id: uuid.UUID
    author_id: uuid.UUID | None
    body: str
    created_at: datetime
    updated_at: datetime


# The CSV format, import and export alike. Lists (genres, email) are separated by semicolons.
CSV_REQUIRED = ("soundcloud_id", "name", "permalink")
CSV_COLUMNS = (
    *CSV_REQUIRED, "username", "permalink_url", "genres", "city", "country", "followers",
    "tracks", "verified", "email",
)  # fmt: skip
# Catalogue fields each CSV column fills; ``email`` fills the workspace's contacts instead.
CSV_FIELDS = {column: column for column in CSV_COLUMNS if column != "email"} | {
    "username": "soundcloud_username"
}


def _split(value: Any) -> Any:
    return (
        [part.strip() for part in value.split(";") if part.strip()]
        if isinstance(value, str)
        else value
    )


class ArtistCsvRow(ArtistCreate):
    """One row of an imported file, from its non-empty cells by column (``core.csv_import``
    leaves an empty cell out: no city, no genres, 0 followers)."""

    soundcloud_username: str | None = Field(default=None, max_length=300, alias="username")
    email: list[str] = Field(default_factory=list, max_length=20)

    model_config = {"populate_by_name": True}

    _lists = field_validator("genres", "email", mode="before")(_split)

    @field_validator("email")
    @classmethod
    def _valid_emails(cls, emails: list[str]) -> list[str]:
        return [_email(email) for email in emails]

    def catalogue_record(self) -> dict[str, Any]:
        return self.model_dump(exclude={"email"})


class ImportProblem(BaseModel):
    row: int = Field(description="Spreadsheet row of the file; the header is row 1.")
    field: str
    message: str


class ImportResult(BaseModel):
    rows: int = Field(description="Data rows in the file.")
    inserted: int = Field(description="Rows that added an artist to the shared catalogue.")
    existing: int = Field(
        description="Rows naming an artist the catalogue already lists (or an earlier row "
        "added): the catalogue is shared, so like POST's 409 the file does not change it; "
        "the row's emails are added to the workspace's contacts."
    )
    skipped: int = Field(description="Rows not imported because of the errors listed.")
    contacts_added: int = Field(description="Email contacts new to the workspace.")
    errors: list[ImportProblem] = Field(
        description=f"Why rows were skipped (the first {MAX_REPORTED_PROBLEMS} problems)."
    )
