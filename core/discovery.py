"""What a discovery job is asked to find, and how a found artist is scored. Pure rules: the API,
the CLI and the job itself all validate queries and score artists with this module."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Self
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from core.errors import FieldProblem, InvalidInput

# Link-in-bio services whose pages list an artist's other profiles (fetched as a second page).
LINK_IN_BIO_HOSTS = (
    "linktr.ee", "lnk.bio", "beacons.ai", "solo.to", "bio.site", "hoo.be", "linkin.bio",
    "campsite.bio", "tap.bio", "msha.ke",
)  # fmt: skip
MAX_ARTISTS_PER_JOB = 100_000
# SoundCloud permalinks: letters, digits, "-" and "_".
_PERMALINK_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_")
# First path segments of SoundCloud pages that are not profiles.
_NOT_PROFILES = frozenset(
    {
        "discover",
        "search",
        "charts",
        "stream",
        "you",
        "upload",
        "pages",
        "settings",
        "messages",
        "notifications",
        "signin",
        "logout",
        "terms-of-use",
        "jobs",
        "imprint",
        "tags",
    }
)

Expansion = Literal["followings", "related"]
DEFAULT_EXPANSIONS: tuple[Expansion, ...] = ("related", "followings")


def _clean_words(values: list[str], *, lower: bool) -> list[str]:
    cleaned: dict[str, None] = {}
    for value in values:
        word = " ".join(value.split())
        if word:
            cleaned.setdefault(word.lower() if lower else word)
    return list(cleaned)


class DiscoveryQuery(BaseModel):
    """Where a job starts its walk over SoundCloud and which artists it keeps.

    At least one source (``terms``, ``genres``, ``tags``, ``seed_artists``; a ``city`` alone is
    searched as a term) is required. Filters apply to what the walk finds; an artist is kept
    when every filter given matches.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    terms: list[str] = Field(default_factory=list, max_length=20)
    genres: list[str] = Field(default_factory=list, max_length=20)
    tags: list[str] = Field(default_factory=list, max_length=20)
    seed_artists: list[str] = Field(
        default_factory=list,
        max_length=50,
        description="SoundCloud profile URLs or permalinks to start from.",
    )
    city: str | None = Field(default=None, max_length=200)
    country: str | None = Field(
        default=None, description="ISO 3166-1 alpha-2 code, e.g. DE.", min_length=2, max_length=2
    )
    min_followers: int | None = Field(default=None, ge=0)
    max_followers: int | None = Field(default=None, ge=0)
    active_within_days: int | None = Field(
        default=None, ge=1, le=3650, description="Kept only with a track this recent."
    )
    max_artists: int = Field(default=500, ge=1, le=MAX_ARTISTS_PER_JOB)
    max_depth: int = Field(
        default=1, ge=0, le=5, description="How many steps the walk goes from what it starts with."
    )
    expand: list[Expansion] = Field(default_factory=lambda: list(DEFAULT_EXPANSIONS))

    @field_validator("terms", "genres", "tags", "seed_artists")
    @classmethod
    def _words(cls, values: list[str]) -> list[str]:
        for value in values:
            if len(value) > 200:
                raise ValueError("each entry must be at most 200 characters")
        return _clean_words(values, lower=False)

    @field_validator("country")
    @classmethod
    def _country(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.isascii() or not value.isalpha():
            raise ValueError("must be a two-letter country code")
        return value.upper()

    @field_validator("city")
    @classmethod
    def _city(cls, value: str | None) -> str | None:
        if value is None:
            return None
        return " ".join(value.split()) or None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if (
            self.min_followers is not None
            and self.max_followers is not None
            and self.min_followers > self.max_followers
        ):
            raise ValueError("min_followers must not be above max_followers")
        if not (self.terms or self.genres or self.tags or self.seed_artists or self.city):
            raise ValueError(
                "give at least one of terms, genres, tags, seed_artists or city to start from"
            )
        return self

    def seed_permalinks(self, web_url: str) -> list[str]:
        """The seeds as permalinks on the site at ``web_url`` (see :func:`seed_permalink`).

        Raises:
            InvalidInput: a seed on another host, or one that is not a profile.
        """
        return [seed_permalink(seed, web_url) for seed in self.seed_artists]

    @property
    def search_terms(self) -> list[str]:
        """Terms searched as users; a city with no other source is searched by name."""
        if self.terms or self.genres or self.tags or self.seed_artists or self.city is None:
            return list(self.terms)
        return [self.city]


def seed_permalink(seed: str, web_url: str) -> str:
    """The permalink of a seed given as a profile URL (or a URL under it) or a bare permalink.

    Raises:
        InvalidInput: a URL on another host than ``web_url``'s (nothing outside SoundCloud is
            ever fetched on a user's say-so), or something that is not a profile.
    """
    seed = seed.strip()
    problem = FieldProblem("seed_artists", f"{seed!r} is not a SoundCloud profile URL or permalink")
    if "://" in seed or seed.startswith("//"):
        parts = urlsplit(seed)
        allowed = urlsplit(web_url).netloc.lower()
        host = parts.netloc.lower()
        if parts.scheme not in {"http", "https"} or host not in {allowed, f"www.{allowed}"}:
            message = f"{seed!r} is not on {allowed}"
            raise InvalidInput(message, [FieldProblem("seed_artists", message)])
        path = parts.path.strip("/")
    else:
        path = seed.strip("/")
    permalink = path.split("/")[0].lower() if path else ""
    if not permalink or not set(permalink) <= _PERMALINK_CHARS or permalink in _NOT_PROFILES:
        raise InvalidInput(problem.message, [problem])
    return permalink


@dataclass(frozen=True)
class Candidate:
    """What the walk knows about an artist when it decides to keep and rank it."""

    followers: int | None
    tracks: int | None
    verified: bool
    has_email: bool
    has_profiles: bool
    last_track_at: datetime | None
    city: str | None = None
    country: str | None = None


def matches(query: DiscoveryQuery, candidate: Candidate, *, now: datetime) -> bool:
    """Whether the artist passes every filter of the query (unknown values fail a filter)."""
    if query.min_followers is not None and (candidate.followers or 0) < query.min_followers:
        return False
    if query.max_followers is not None and (
        candidate.followers is None or candidate.followers > query.max_followers
    ):
        return False
    if query.country is not None and (candidate.country or "").upper() != query.country:
        return False
    if query.city is not None and (candidate.city or "").strip().lower() != query.city.lower():
        return False
    if query.active_within_days is not None:
        last = candidate.last_track_at
        if last is None or (now - last).days >= query.active_within_days:
            return False
    return True


def score(candidate: Candidate, *, now: datetime) -> float:
    """How promising an artist is for outreach, from 0 to 100.

    Reach counts (log of followers, saturating at a million), but a way to get in touch counts
    as much: an email is what outreach needs, other profiles help. Recent activity and a body
    of work say the artist is still making music; verification adds a little.
    """
    followers = max(candidate.followers or 0, 0)
    reach = min(math.log10(followers + 1) / 6, 1.0) * 35
    contact = (25 if candidate.has_email else 0) + (10 if candidate.has_profiles else 0)
    activity = 0.0
    if candidate.last_track_at is not None:
        days = max((now - candidate.last_track_at).days, 0)
        activity = 20 * max(0.0, 1 - days / 365)
    body_of_work = min((candidate.tracks or 0) / 20, 1.0) * 5
    verified = 5 if candidate.verified else 0
    return round(reach + contact + activity + body_of_work + verified, 2)
