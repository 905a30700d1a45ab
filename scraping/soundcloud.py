"""The SoundCloud client: the anonymous API client id, the API calls discovery makes, and
paging through SoundCloud's linked-partitioning lists.

Everything goes through a ``Fetcher``, so the client inherits its allowed hosts, pacing and
retries; what the client adds is what SoundCloud means by its answers (a 401 is a stale client
id; a web-profiles 401 is a logged-in-only endpoint) and which parts of a page to trust.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from scraping.errors import (
    ClientIdUnavailable,
    DisallowedHost,
    FetchError,
    MalformedObject,
    MalformedPage,
)
from scraping.fetcher import Fetcher
from scraping.hydration import (
    client_id_from_hydration,
    client_id_from_script,
    parse_hydration,
    script_urls,
    user_from_page,
)
from scraping.objects import SoundCloudTrack, SoundCloudUser, UserLead

MAX_PAGE_SIZE = 200
"""The largest ``limit`` the API honours."""
_STALE_CLIENT_ID = frozenset({401, 403})

_T = TypeVar("_T")


@dataclass(frozen=True)
class SoundCloudEndpoints:
    """Where SoundCloud lives: the real sites by default, a ``FixtureSite`` in tests."""

    web_url: str = "https://soundcloud.com"
    api_url: str = "https://api-v2.soundcloud.com"
    assets_url: str = "https://a-v2.sndcdn.com"
    """Where soundcloud.com's JS bundles (one of which holds the client id) are served."""

    def hosts(self) -> frozenset[str]:
        """The netlocs (``host`` or ``host:port``) the client fetches from: a fetcher's
        ``allowed_hosts``."""
        return frozenset(
            urlsplit(url).netloc.lower() for url in (self.web_url, self.api_url, self.assets_url)
        )

    def is_soundcloud_url(self, url: str) -> bool:
        """Whether ``url`` is a page on the web host (``www.`` and ``m.`` forms included)."""
        parts = urlsplit(url)
        web_host = urlsplit(self.web_url).netloc.lower()
        return parts.scheme in {"http", "https"} and parts.netloc.lower() in {
            web_host,
            f"www.{web_host}",
            f"m.{web_host}",
        }

    def page_url(self, url_or_permalink: str) -> str:
        """The canonical web URL of a SoundCloud page, from its URL (any scheme, ``www.`` or
        ``m.`` host, query and fragment dropped) or a bare ``permalink[/track]``.

        Raises:
            DisallowedHost: for a URL on any other host, or one with no page path.
        """
        text = url_or_permalink.strip()
        if "://" not in text:
            first_segment = text.lstrip("/").split("/", 1)[0]
            # "soundcloud.com/artist" is a URL without its scheme; "artist" is a permalink.
            if "." in first_segment or ":" in first_segment:
                text = f"https://{text}"
            else:
                text = f"{self.web_url}/{text.lstrip('/')}"
        path = urlsplit(text).path.rstrip("/")
        if not self.is_soundcloud_url(text) or not path:
            raise DisallowedHost(url_or_permalink)
        return f"{self.web_url}{path}"


class SoundCloudClient:
    """SoundCloud's public API as an anonymous web client sees it.

    Args:
        fetcher: does every request; give it ``allowed_hosts=endpoints.hosts()`` so that
            ``next_href`` links and bundles cannot lead anywhere else.
        endpoints: where SoundCloud is.
        client_id: a known API client id; found on the home page when not given or stale.
        page_size: items per API page, at most 200.
    """

    def __init__(
        self,
        fetcher: Fetcher,
        endpoints: SoundCloudEndpoints = SoundCloudEndpoints(),
        *,
        client_id: str | None = None,
        page_size: int = MAX_PAGE_SIZE,
    ) -> None:
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be 1-{MAX_PAGE_SIZE}, not {page_size}")
        self.fetcher = fetcher
        self.endpoints = endpoints
        self.page_size = page_size
        self._client_id = client_id
        # One discovery at a time: many tasks hitting a stale id at once refresh it once.
        self._client_id_lock = asyncio.Lock()

    # -- the client id -----------------------------------------------------------------------

    async def client_id(self) -> str:
        """The API client id, found once and then cached.

        Raises:
            ClientIdUnavailable: neither the home page's hydration nor its bundles have one.
        """
        if self._client_id is None:
            async with self._client_id_lock:
                if self._client_id is None:
                    self._client_id = await self._find_client_id()
        return self._client_id

    async def refresh_client_id(self) -> str:
        """Find the client id again (SoundCloud rotates it) and count the refresh."""
        async with self._client_id_lock:
            return await self._refresh_locked()

    async def _replace_stale(self, stale: str) -> str:
        async with self._client_id_lock:
            if self._client_id is not None and self._client_id != stale:
                return self._client_id  # another task refreshed it while this one waited
            return await self._refresh_locked()

    async def _refresh_locked(self) -> str:
        self._client_id = await self._find_client_id()
        self.fetcher.stats.count("client_id_refreshes")
        return self._client_id

    async def _find_client_id(self) -> str:
        home_url = f"{self.endpoints.web_url}/"
        home = await self.fetcher.get_text(home_url)
        try:
            found = client_id_from_hydration(parse_hydration(home))
        except MalformedPage:
            found = None  # no usable hydration: the bundles may still carry the id
        if found:
            return found
        hosts = self.endpoints.hosts()
        # The id sits in one of the last bundles, so reading from the end takes fewest fetches.
        for url in reversed(script_urls(home, home_url)):
            if urlsplit(url).netloc.lower() not in hosts:
                continue  # third-party scripts never hold it
            try:
                found = client_id_from_script(await self.fetcher.get_text(url))
            except FetchError:
                continue  # one missing bundle is no reason to stop looking in the others
            if found:
                return found
        raise ClientIdUnavailable(f"no API client id on {home_url} or in its scripts")

    # -- requests ----------------------------------------------------------------------------

    async def api(self, path_or_url: str, params: Mapping[str, str] | None = None) -> Any:
        """GET an API path (``/users/1``) or absolute URL (a ``next_href``) with the client id.

        A 401 or 403 means the id went stale: it is refreshed once and the request retried
        once; a second failure raises.

        Raises:
            FetchError: a non-2xx answer (after the fetcher's retries).
            MalformedPage: an answer that is not JSON.
        """
        client_id = await self.client_id()
        try:
            return await self.fetcher.get_json(self._api_url(path_or_url, params, client_id))
        except FetchError as error:
            if error.status not in _STALE_CLIENT_ID:
                raise
        client_id = await self._replace_stale(client_id)
        return await self.fetcher.get_json(self._api_url(path_or_url, params, client_id))

    def _api_url(self, path_or_url: str, params: Mapping[str, str] | None, client_id: str) -> str:
        url = path_or_url if "://" in path_or_url else f"{self.endpoints.api_url}{path_or_url}"
        parts = urlsplit(url)
        replaced = {"client_id", *(params or {})}
        query = [
            (key, value)
            for key, value in parse_qsl(parts.query, keep_blank_values=True)
            if key not in replaced
        ]
        query += [*(params or {}).items(), ("client_id", client_id)]
        return urlunsplit(parts._replace(query=urlencode(query)))

    async def resolve(self, url: str) -> SoundCloudUser | SoundCloudTrack:
        """The user or track a SoundCloud page URL (or ``permalink[/track]``) shows.

        Raises:
            DisallowedHost: ``url`` is not on the web host; nothing is fetched.
            FetchError: unknown page (404) or the request failed.
            MalformedPage: the answer is neither a user nor a track.
            MalformedObject: it is one, without an id or permalink.
        """
        page_url = self.endpoints.page_url(url)
        found = await self.api("/resolve", {"url": page_url})
        kind = found.get("kind") if isinstance(found, Mapping) else None
        if kind == "user":
            return SoundCloudUser.from_api(found)
        if kind == "track":
            return SoundCloudTrack.from_api(found)
        raise MalformedPage(f"{page_url} resolved to a {kind or 'non-object'}, not a user/track")

    async def user(self, user_id: int) -> SoundCloudUser:
        """The full user object from the API."""
        return SoundCloudUser.from_api(await self.api(f"/users/{user_id}"))

    async def profile(self, permalink: str) -> SoundCloudUser:
        """The user as their web profile page's hydration shows it (no API call).

        Raises:
            MalformedPage: the page's hydration is missing or truncated.
        """
        page = await self.fetcher.get_text(f"{self.endpoints.web_url}/{quote(permalink, safe='')}")
        return user_from_page(page)

    async def web_profiles(self, user_id: int) -> list[dict[str, Any]]:
        """The user's links (``{url, network, title, username}``; urls may be gate.sc-wrapped).

        SoundCloud answers 401/403 here when the endpoint wants a logged-in client, which a
        new client id does not fix: that gives ``[]`` and counts ``web_profiles_unavailable``.
        """
        client_id = await self.client_id()
        url = self._api_url(f"/users/soundcloud:users:{user_id}/web-profiles", None, client_id)
        try:
            profiles = await self.fetcher.get_json(url)
        except FetchError as error:
            if error.status not in _STALE_CLIENT_ID:
                raise
            self.fetcher.stats.count("web_profiles_unavailable")
            return []
        if not isinstance(profiles, list):
            raise MalformedPage(f"{url}: web profiles are a {type(profiles).__name__}, not a list")
        usable = [profile for profile in profiles if isinstance(profile, dict)]
        if len(usable) < len(profiles):
            self.fetcher.stats.count("malformed", len(profiles) - len(usable))
        return usable

    # -- lists -------------------------------------------------------------------------------

    def search_users(self, q: str, *, limit: int | None = None) -> AsyncIterator[SoundCloudUser]:
        """Users matching ``q`` (short form: counts and location may be missing)."""
        return self._walk("/search/users", SoundCloudUser.from_api, limit, {"q": q})

    def search_tracks(
        self, q: str, *, genre_or_tag: str | None = None, limit: int | None = None
    ) -> AsyncIterator[SoundCloudTrack]:
        """Tracks matching ``q``, optionally only those with ``genre_or_tag``."""
        params = {"q": q}
        if genre_or_tag:
            params["filter.genre_or_tag"] = genre_or_tag
        return self._walk("/search/tracks", SoundCloudTrack.from_api, limit, params)

    def followings(
        self, user_id: int, *, limit: int | None = None
    ) -> AsyncIterator[SoundCloudUser]:
        """Who the user follows."""
        return self._walk(f"/users/{user_id}/followings", SoundCloudUser.from_api, limit)

    def followers(self, user_id: int, *, limit: int | None = None) -> AsyncIterator[SoundCloudUser]:
        """Who follows the user."""
        return self._walk(f"/users/{user_id}/followers", SoundCloudUser.from_api, limit)

    def user_tracks(
        self, user_id: int, *, limit: int | None = None
    ) -> AsyncIterator[SoundCloudTrack]:
        """The user's tracks, newest first."""
        return self._walk(f"/users/{user_id}/tracks", SoundCloudTrack.from_api, limit)

    def related_artists(
        self, user_id: int, *, limit: int | None = None
    ) -> AsyncIterator[SoundCloudUser]:
        """Artists SoundCloud considers similar to the user."""
        return self._walk(f"/users/{user_id}/relatedartists", SoundCloudUser.from_api, limit)

    def neighbour_leads(
        self, user_id: int, list_name: str, *, limit: int | None = None
    ) -> AsyncIterator[UserLead]:
        """Users one step away (``list_name``: ``related`` artists or ``followings``), read
        only as far as ranking them needs.

        Raises:
            ValueError: an unknown list name.
        """
        paths = {"related": "relatedartists", "followings": "followings"}
        if list_name not in paths:
            raise ValueError(f"no neighbour list {list_name!r}; known: {sorted(paths)}")
        return self._walk(f"/users/{user_id}/{paths[list_name]}", UserLead.from_api, limit)

    def related_tracks(
        self, track_id: int, *, limit: int | None = None
    ) -> AsyncIterator[SoundCloudTrack]:
        """Tracks SoundCloud considers similar to the track."""
        return self._walk(f"/tracks/{track_id}/related", SoundCloudTrack.from_api, limit)

    def recent_tracks(
        self, tag: str, *, limit: int | None = None
    ) -> AsyncIterator[SoundCloudTrack]:
        """The newest tracks carrying ``tag`` (a multi-word tag may be given with spaces)."""
        path = f"/recent-tracks/{quote(tag.strip(), safe='')}"
        return self._walk(path, SoundCloudTrack.from_api, limit)

    async def _walk(
        self,
        path: str,
        parse: Callable[[Any], _T],
        limit: int | None,
        params: Mapping[str, str] | None = None,
    ) -> AsyncIterator[_T]:
        """Every item of a paged list, following ``next_href`` until it runs out or ``limit``
        items were yielded. Items that do not parse are skipped and counted ``malformed``.

        Raises:
            MalformedPage: a page that is not ``{"collection": [...]}``.
        """
        remaining = limit
        url, query = path, {**(params or {}), "linked_partitioning": "1"}
        while remaining is None or remaining > 0:
            page_size = self.page_size if remaining is None else min(self.page_size, remaining)
            page = await self.api(url, {**query, "limit": str(page_size)})
            items = page.get("collection") if isinstance(page, Mapping) else None
            if not isinstance(items, list):
                raise MalformedPage(f"{url}: not a {{'collection': [...]}} page")
            for item in items:
                try:
                    parsed = parse(item)
                except MalformedObject:
                    self.fetcher.stats.count("malformed")
                    continue
                yield parsed
                if remaining is not None:
                    remaining -= 1
                    if remaining == 0:
                        return
            next_href = page.get("next_href")
            # An empty page that still links onwards would otherwise be followed forever.
            if not items or not isinstance(next_href, str) or not next_href:
                return
            # next_href carries the offset and the other parameters, but not the client id.
            url, query = next_href, {"linked_partitioning": "1"}
