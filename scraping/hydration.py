"""Reading SoundCloud web pages: the ``window.__sc_hydration`` data a page embeds, the JS bundles
it links, and the API client id found in either.

Only the standard library: the pages are parsed once each and the parts we need are small.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin

from scraping.errors import MalformedPage
from scraping.objects import SoundCloudUser

_HYDRATION = re.compile(r"window\.__sc_hydration\s*=\s*")

# Bundles carry the id as an object property (client_id:"..."), an assignment
# (client_id="...") or inside a ready-made query string (?client_id=...). Exactly 32
# characters: a longer run of alphanumerics is some other token.
_CLIENT_ID = re.compile(r"""\bclient_id["']?\s*[:=]\s*["']?([A-Za-z0-9]{32})(?![A-Za-z0-9])""")


def parse_hydration(html: str) -> dict[str, Any]:
    """Return the page's hydration as ``{hydratable name: data}``.

    The JSON is decoded straight from the page text, so its size, its layout and escaped
    ``<\\/`` sequences inside strings do not matter. When a name repeats, the last entry wins,
    as it does in the page's own script.

    Raises:
        MalformedPage: when the page has no ``window.__sc_hydration`` assignment, its JSON is
            invalid or truncated, or it is not a list of ``{"hydratable", "data"}`` objects.
    """
    found = _HYDRATION.search(html)
    if found is None:
        raise MalformedPage("the page has no window.__sc_hydration script")
    try:
        entries, _ = json.JSONDecoder().raw_decode(html, found.end())
    except json.JSONDecodeError as error:
        raise MalformedPage(f"the page's hydration is not valid JSON: {error}") from None
    if not isinstance(entries, list):
        raise MalformedPage(f"the page's hydration is a {type(entries).__name__}, not a list")
    hydration: dict[str, Any] = {}
    for entry in entries:
        if not (
            isinstance(entry, dict) and isinstance(entry.get("hydratable"), str) and "data" in entry
        ):
            raise MalformedPage(f"a hydration entry is not a hydratable object: {entry!r:.80}")
        hydration[entry["hydratable"]] = entry["data"]
    return hydration


def client_id_from_hydration(hydration: Mapping[str, Any]) -> str | None:
    """The API client id in the ``apiClient`` hydratable, if the page has one."""
    api_client = hydration.get("apiClient")
    if not isinstance(api_client, Mapping):
        return None
    client_id = api_client.get("id")
    if not isinstance(client_id, str) or not client_id.strip():
        return None
    return client_id.strip()


def script_urls(html: str, base_url: str) -> list[str]:
    """The absolute ``src`` of every ``<script src=...>`` on the page, in page order, once
    each."""
    parser = _ScriptSources()
    parser.feed(html)
    parser.close()
    return list(dict.fromkeys(urljoin(base_url, src) for src in parser.sources))


def client_id_from_script(js: str) -> str | None:
    """The first API client id written into a JS bundle, if any."""
    found = _CLIENT_ID.search(js)
    return found.group(1) if found else None


def user_from_page(html: str) -> SoundCloudUser:
    """The user a profile page is about, from its ``user`` hydratable.

    Raises:
        MalformedPage: when the page has no usable hydration or no ``user`` in it.
        MalformedObject: when the user lacks an id or permalink.
    """
    hydration = parse_hydration(html)
    if "user" not in hydration:
        raise MalformedPage("the page's hydration has no user")
    return SoundCloudUser.from_api(hydration["user"])


class _ScriptSources(HTMLParser):
    """Collects the ``src`` attribute of ``<script>`` tags; script bodies are not markup to
    HTMLParser, so JSON or JS inside them cannot be mistaken for tags."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.sources: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "script":
            return
        src = dict(attrs).get("src")
        if src and src.strip():
            self.sources.append(src.strip())
