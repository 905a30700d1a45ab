"""SoundCloud users and tracks, built from the JSON the API and the page hydration serve.

Only identity is required (a user's ``id`` and ``permalink``, a track's ``id``): search results
and users embedded in tracks are a short form in which any other field may be missing or null,
so every other field is optional and a value of the wrong shape becomes ``None`` instead of
failing the whole object.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

from scraping.errors import MalformedObject

_LEGACY_TIMESTAMP = "%Y/%m/%d %H:%M:%S %z"
"""The ``2019/05/03 11:22:33 +0000`` form older API answers still carry."""

# A quoted tag runs to its closing quote, or to the end of the list when the quote is never
# closed (a truncated tag list still yields its last tag); anything else is one word.
_TAG = re.compile(r'"([^"]*)"?|(\S+)')


@dataclass(frozen=True, slots=True)
class SoundCloudUser:
    """A SoundCloud account, from a full user object or the short form in search results."""

    id: int
    permalink: str
    username: str | None
    full_name: str | None
    city: str | None
    country_code: str | None
    description: str | None
    avatar_url: str | None
    permalink_url: str | None
    followers_count: int | None
    followings_count: int | None
    track_count: int | None
    verified: bool
    created_at: datetime | None
    last_modified: datetime | None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> SoundCloudUser:
        """Build a user from an API or hydration object.

        Raises:
            MalformedObject: when ``data`` is not a mapping, is another kind of object, or has
                no usable ``id`` or ``permalink``.
        """
        _check_kind(data, "user")
        permalink = _text(data.get("permalink"))
        if permalink is None:
            raise MalformedObject(f"user {data.get('id')!r} has no permalink")
        badges = data.get("badges")
        return cls(
            id=_identifier(data, "user"),
            permalink=permalink,
            username=_text(data.get("username")),
            full_name=_text(data.get("full_name")),
            city=_text(data.get("city")),
            country_code=_country_code(data.get("country_code")),
            description=_text(data.get("description")),
            avatar_url=_text(data.get("avatar_url")),
            permalink_url=_text(data.get("permalink_url")),
            followers_count=_count(data.get("followers_count")),
            followings_count=_count(data.get("followings_count")),
            track_count=_count(data.get("track_count")),
            verified=data.get("verified") is True
            or (isinstance(badges, Mapping) and badges.get("verified") is True),
            created_at=parse_timestamp(data.get("created_at")),
            last_modified=parse_timestamp(data.get("last_modified")),
        )

    @property
    def urn(self) -> str:
        """The ``soundcloud:users:<id>`` form some endpoints (web profiles) take instead of the
        id."""
        return f"soundcloud:users:{self.id}"


class UserLead(NamedTuple):
    """A user as a list shows them, cut to what ranking a lead needs: read from the raw object
    without building a whole ``SoundCloudUser`` (a neighbour list holds a hundred of them)."""

    id: int
    followers: int | None
    verified: bool

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> UserLead:
        """The lead in a user object, full or short form.

        Raises:
            MalformedObject: not a user object, or one without a usable ``id``.
        """
        _check_kind(data, "user")
        badges = data.get("badges")
        return cls(
            _identifier(data, "user"),
            _count(data.get("followers_count")),
            data.get("verified") is True
            or (isinstance(badges, Mapping) and badges.get("verified") is True),
        )

    @classmethod
    def of(cls, user: SoundCloudUser) -> UserLead:
        return cls(user.id, user.followers_count, user.verified)


@dataclass(frozen=True, slots=True)
class SoundCloudTrack:
    """A SoundCloud track with the fields discovery uses (genre, tags, reach, uploader)."""

    id: int
    title: str | None
    permalink_url: str | None
    genre: str | None
    tags: tuple[str, ...]
    created_at: datetime | None
    display_date: datetime | None
    playback_count: int | None
    likes_count: int | None
    user_id: int | None
    user: SoundCloudUser | None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> SoundCloudTrack:
        """Build a track from an API or hydration object.

        An embedded user that cannot be parsed is dropped (``user`` is ``None``) rather than
        failing the track: the track is still worth having, and its ``user_id`` still names
        the uploader.

        Raises:
            MalformedObject: when ``data`` is not a mapping, is another kind of object, or has
                no usable ``id``.
        """
        _check_kind(data, "track")
        user = _embedded_user(data.get("user"))
        user_id = _positive_int(data.get("user_id"))
        tag_list = data.get("tag_list")
        return cls(
            id=_identifier(data, "track"),
            title=_text(data.get("title")),
            permalink_url=_text(data.get("permalink_url")),
            genre=_text(data.get("genre")),
            tags=tuple(parse_tag_list(tag_list if isinstance(tag_list, str) else None)),
            created_at=parse_timestamp(data.get("created_at")),
            display_date=parse_timestamp(data.get("display_date")),
            playback_count=_count(data.get("playback_count")),
            likes_count=_count(data.get("likes_count")),
            user_id=user_id if user_id is not None or user is None else user.id,
            user=user,
        )


def parse_tag_list(tag_list: str | None) -> list[str]:
    """Split a SoundCloud ``tag_list``: space-separated, multi-word tags in double quotes.

    ``'house "deep house" berlin'`` gives ``["house", "deep house", "berlin"]``. A quote that is
    never closed runs to the end of the list; whitespace inside a tag is collapsed and empty
    tags (``""``) are dropped.
    """
    if not tag_list:
        return []
    tags = (" ".join((quoted or word).split()) for quoted, word in _TAG.findall(tag_list))
    return [tag for tag in tags if tag]


def parse_timestamp(value: object) -> datetime | None:
    """Read a SoundCloud timestamp as an aware UTC datetime, or ``None`` when it is not one.

    Accepts ISO 8601 (``2024-03-01T12:00:00Z``, with or without fractional seconds or an
    offset) and the legacy ``2019/05/03 11:22:33 +0000`` form; a time without an offset is
    taken as UTC, which is what SoundCloud serves.
    """
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        try:
            parsed = datetime.strptime(text, _LEGACY_TIMESTAMP)
        except ValueError:
            return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # an offset that pushes year 1 or 9999 out of range
        return None


def _check_kind(data: object, kind: str) -> None:
    if not isinstance(data, Mapping):
        raise MalformedObject(f"a {kind} must be a JSON object, not {type(data).__name__}")
    found = data.get("kind")
    # A missing or null kind is normal in short forms; only another kind is a mistake.
    if found is not None and found != kind:
        raise MalformedObject(f"expected a {kind}, got kind={found!r}")


def _identifier(data: Mapping[str, Any], kind: str) -> int:
    identifier = _positive_int(data.get("id"))
    if identifier is None:
        raise MalformedObject(f"{kind} has no valid id: {data.get('id')!r}")
    return identifier


def _embedded_user(value: object) -> SoundCloudUser | None:
    if not isinstance(value, Mapping):
        return None
    try:
        return SoundCloudUser.from_api(value)
    except MalformedObject:
        return None


def _text(value: object) -> str | None:
    """A stripped string, with blank, missing and non-string values as ``None``."""
    if not isinstance(value, str):
        return None
    return value.strip() or None


def _country_code(value: object) -> str | None:
    code = _text(value)
    if code is None or len(code) != 2 or not (code.isascii() and code.isalpha()):
        return None
    return code.upper()


def _count(value: object) -> int | None:
    """A count as an int >= 0; negative, fractional, boolean or non-numeric values are
    ``None``."""
    # bool is an int subclass, but True is no count.
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, float):
        return int(value) if math.isfinite(value) and value.is_integer() and value >= 0 else None
    if isinstance(value, str):
        digits = value.strip()
        return int(digits) if digits.isascii() and digits.isdigit() else None
    return None


def _positive_int(value: object) -> int | None:
    number = _count(value)
    return number if number else None
