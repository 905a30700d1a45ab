"""Contacts an artist publishes: email addresses (plain or obfuscated) and links to their other
profiles, found in a SoundCloud description, the web-profiles list and link-in-bio pages.

Everything here is pure text work; fetching the pages the text comes from is the caller's job.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any
from urllib.parse import SplitResult, parse_qs, unquote, urljoin, urlsplit

from core.discovery import LINK_IN_BIO_HOSTS
from core.emails import normalize_email
from core.enums import ContactSource, SocialPlatform
from core.errors import InvalidInput

# Well-known link-in-bio services; the list is core's, so settings default to the same.
DEFAULT_LINK_IN_BIO_HOSTS: tuple[str, ...] = LINK_IN_BIO_HOSTS


@dataclass(frozen=True, slots=True)
class FoundEmail:
    """An address and where it was published."""

    email: str
    source: ContactSource


@dataclass(frozen=True, slots=True)
class FoundProfile:
    """A link to one of the artist's profiles (or their own website)."""

    platform: SocialPlatform
    url: str
    username: str | None


@dataclass(frozen=True, slots=True)
class ContactFindings:
    """What one source yielded. ``link_in_bio_urls`` are pages worth a second fetch."""

    emails: tuple[FoundEmail, ...]
    profiles: tuple[FoundProfile, ...]
    link_in_bio_urls: tuple[str, ...]


# -- emails -----------------------------------------------------------------------------------

# ASCII only: bios in CJK often run text straight into an address ("邮箱name@x.com"), and
# internationalised addresses are too rare in bios to be worth that confusion.
_LOCAL = r"[A-Za-z0-9_%+\-](?:[A-Za-z0-9._%+\-]*[A-Za-z0-9_%+\-])?"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?"
_NOT_AFTER_LOCAL = r"(?<![A-Za-z0-9._%+\-])"

_EMAIL = re.compile(
    rf"(?<![A-Za-z0-9_%+\-]){_LOCAL}@(?:{_LABEL}\.)+([A-Za-z]{{2,63}})(?![A-Za-z0-9_\-])"
)
_MAILTO = re.compile(r"mailto:([^\s?\"'<>]+)", re.IGNORECASE)
_BRACKETED_AT = re.compile(r"\s*[\[({<]\s*(?:at|@)\s*[\])}>]\s*", re.IGNORECASE)
_BRACKETED_DOT = re.compile(r"\s*[\[({<]\s*(?:dot|\.)\s*[\])}>]\s*", re.IGNORECASE)
# Spaced forms only count when the whole address is spaced the same way: "name @ domain . com"
# is an address, while "Resident @ club.com" or "insta @dj.name" are not.
_SPACED = re.compile(
    rf"{_NOT_AFTER_LOCAL}({_LOCAL})[ \t]+@[ \t]+({_LABEL}(?:[ \t]+\.[ \t]+{_LABEL})+)"
)
# Spelled-out "at"/"dot" is ordinary English, so it is only read as an address when it is
# shouted (NAME AT DOMAIN DOT COM) or stands alone as a field value ("Bookings: name at domain
# dot com", at the start of a line, in brackets), never in the middle of a sentence.
_SHOUTED = re.compile(
    rf"{_NOT_AFTER_LOCAL}({_LOCAL})[ \t]+AT[ \t]+({_LABEL}(?:[ \t]+DOT[ \t]+{_LABEL})+)"
    r"(?![A-Za-z0-9])"
)
_STANDALONE = re.compile(
    r"(?:^|(?<=[:;,|\u2022/\u2013\u2014-][ \t])|(?<=[(\[]))[ \t]*"
    rf"({_LOCAL})[ \t]+at[ \t]+({_LABEL}(?:[ \t]+dot[ \t]+{_LABEL})+)"
    r"(?=[ \t]*(?:$|[)\].,;:!?|\u2022]))",
    re.IGNORECASE | re.MULTILINE,
)
_WORD_DOT = re.compile(r"[ \t]+dot[ \t]+", re.IGNORECASE)

# "logo@2x.png" and friends: asset names that look like addresses.
_FILE_EXTENSIONS = frozenset({"png", "jpg", "jpeg", "gif", "webp", "svg", "js", "css"})


def extract_emails(text: str | None) -> list[str]:
    """Every email address in ``text``, lower-cased, once each, in the order first seen.

    Besides plain addresses and ``mailto:`` links this reads the usual obfuscations:
    ``name [at] domain [dot] com`` (any bracket), ``name @ domain . com``, a full-width at sign,
    and spelled-out ``name at domain dot com`` where it cannot be prose (see ``_STANDALONE``).
    """
    if not text:
        return []
    found: dict[str, None] = {}
    for candidate in _EMAIL.finditer(_deobfuscate(text)):
        if candidate.group(1).lower() in _FILE_EXTENSIONS:
            continue
        try:
            found.setdefault(normalize_email(candidate.group(0)))
        except InvalidInput:
            continue
    return list(found)


def _deobfuscate(text: str) -> str:
    """Rewrite every obfuscated address in ``text`` as a plain one."""
    # NFKC folds full-width forms (U+FF20 for "@", U+FF0E for ".", letters) into ASCII.
    text = unicodedata.normalize("NFKC", text)
    # Spaces keep a decoded address from gluing onto the text around the link.
    text = _MAILTO.sub(lambda link: f" {unquote(link.group(1))} ", text)
    text = _BRACKETED_AT.sub("@", text)
    text = _BRACKETED_DOT.sub(".", text)
    text = _SPACED.sub(lambda m: f"{m.group(1)}@{''.join(m.group(2).split())}", text)
    text = _SHOUTED.sub(_spelled_out, text)
    return _STANDALONE.sub(_spelled_out, text)


def _spelled_out(match: re.Match[str]) -> str:
    return f"{match.group(1)}@{_WORD_DOT.sub('.', match.group(2))}"


# -- links ------------------------------------------------------------------------------------

_GATE_HOSTS = frozenset({"gate.sc", "www.gate.sc"})

_PLATFORM_DOMAINS: Mapping[str, SocialPlatform] = {
    "instagram.com": SocialPlatform.INSTAGRAM,
    "linktr.ee": SocialPlatform.LINKTREE,
    "bandcamp.com": SocialPlatform.BANDCAMP,
    "spotify.com": SocialPlatform.SPOTIFY,
    "youtube.com": SocialPlatform.YOUTUBE,
    "youtu.be": SocialPlatform.YOUTUBE,
    "facebook.com": SocialPlatform.FACEBOOK,
    "fb.com": SocialPlatform.FACEBOOK,
    "tiktok.com": SocialPlatform.TIKTOK,
    "twitter.com": SocialPlatform.TWITTER,
    "x.com": SocialPlatform.TWITTER,
    "beatport.com": SocialPlatform.BEATPORT,
    "ra.co": SocialPlatform.RESIDENT_ADVISOR,
    "residentadvisor.net": SocialPlatform.RESIDENT_ADVISOR,
    "soundcloud.com": SocialPlatform.SOUNDCLOUD,
}

# First path segments that are site sections, not accounts.
_NOT_ACCOUNTS: Mapping[SocialPlatform, frozenset[str]] = {
    SocialPlatform.INSTAGRAM: frozenset({"p", "reel", "reels", "explore", "stories", "tv"}),
    SocialPlatform.FACEBOOK: frozenset({"profile.php", "pages", "events", "groups", "watch"}),
    SocialPlatform.TWITTER: frozenset({"i", "intent", "share", "hashtag", "search", "home"}),
    SocialPlatform.SOUNDCLOUD: frozenset({"discover", "search", "stream", "tags", "charts"}),
}

# Without a scheme, only hosts that are unmistakably links count: "www." ones and the known
# platforms and link-in-bio services. Any other "word.word" could be prose ("feat.Name").
_BARE_HOSTS = "|".join(
    re.escape(host)
    for host in sorted({*_PLATFORM_DOMAINS, *DEFAULT_LINK_IN_BIO_HOSTS}, key=len, reverse=True)
)
_LINK = re.compile(
    r"https?://[^\s<>\"'`]+"
    rf"|(?<![\w@.\-/:])(?:www\.(?:{_LABEL}\.)+[a-z]{{2,63}}|(?:{_LABEL}\.)*(?:{_BARE_HOSTS}))"
    r"(?![\w\-]|\.\w)(?:[/?#][^\s<>\"'`]*)?",
    re.IGNORECASE,
)
_TRAILING = ".,;:!?)]}"


def unwrap_gate(url: str) -> str:
    """The target of a SoundCloud ``gate.sc`` redirect link, however deeply wrapped; ``url``
    itself when it is not a gate link or names no target."""
    while (target := _gate_target(url)) is not None:
        url = target
    return url


def _gate_target(url: str) -> str | None:
    parts = _split(url.strip())
    if (
        parts is None
        or parts.scheme not in {"http", "https"}
        or parts.hostname not in _GATE_HOSTS
        or parts.path not in {"", "/"}
    ):
        return None
    targets = parse_qs(parts.query).get("url")
    if not targets or not targets[0].strip():
        return None
    # The target sits inside the query, so it is shorter than ``url``: unwrapping terminates.
    return targets[0].strip()


def find_links(text: str | None) -> list[str]:
    """Every link in free text, gate-unwrapped, once each, in the order first seen.

    ``https://...`` links are taken as written; links without a scheme only for ``www.``
    hosts and known platforms (``instagram.com/name``), which are given ``https://``.
    """
    if not text:
        return []
    links: list[str] = []
    for match in _LINK.finditer(text):
        link = match.group(0).rstrip(_TRAILING)
        links.append(link if "://" in link else f"https://{link}")
    return collect_links(links)


def collect_links(hrefs: Iterable[str]) -> list[str]:
    """The absolute ``http(s)`` and ``mailto:`` links among ``hrefs``, gate-unwrapped, once each,
    in order."""
    links: dict[str, None] = {}
    for href in hrefs:
        link = href.strip()
        if link.lower().startswith("mailto:"):
            links.setdefault(link)
            continue
        link = unwrap_gate(link)
        parts = _split(link)
        if parts is not None and parts.scheme in {"http", "https"} and parts.hostname:
            links.setdefault(link)
    return list(links)


def links_from_html(html: str, base_url: str) -> list[str]:
    """The ``<a href>`` targets of a page (a link-in-bio page), made absolute against
    ``base_url``, gate-unwrapped and once each; ``mailto:`` links are kept as written."""
    parser = _Anchors()
    parser.feed(html)
    parser.close()
    return collect_links(
        href if href.lower().startswith("mailto:") else urljoin(base_url, href)
        for href in parser.hrefs
    )


def classify_link(url: str, *, link_in_bio_hosts: Collection[str] = ()) -> FoundProfile | None:
    """The profile a link points to, or ``None`` when it is not an absolute ``http(s)`` link.

    Known platforms are matched on the domain and any subdomain; hosts in
    ``link_in_bio_hosts`` (``host`` or ``host:port``) count as Linktree; any other site is the
    artist's website. The URL is normalised: lower-case scheme and host, no fragment, no
    trailing slash.
    """
    parts = _split(url.strip())
    if parts is None or parts.scheme not in {"http", "https"} or not parts.hostname:
        return None
    try:
        host = _host_and_port(parts)
    except ValueError:  # a port that is not a number
        return None
    path = parts.path.rstrip("/")
    normalised = f"{parts.scheme}://{host}{path}" + (f"?{parts.query}" if parts.query else "")
    segments = [unquote(segment) for segment in path.split("/") if segment]
    if _is_link_in_bio(parts, _host_set(link_in_bio_hosts)):
        return FoundProfile(SocialPlatform.LINKTREE, normalised, _first(segments))
    platform = _platform(parts.hostname)
    return FoundProfile(platform, normalised, _username(platform, parts.hostname, segments))


def _split(url: str) -> SplitResult | None:
    try:
        return urlsplit(url)
    except ValueError:  # e.g. an unbalanced "[" in the host
        return None


def _host_and_port(parts: SplitResult) -> str:
    host = parts.hostname or ""
    if ":" in host:  # IPv6 literals keep their brackets
        host = f"[{host}]"
    return host if parts.port is None else f"{host}:{parts.port}"


def _host_set(hosts: Iterable[str]) -> frozenset[str]:
    return frozenset(host.strip().lower() for host in hosts)


def _is_link_in_bio(parts: SplitResult, hosts: frozenset[str]) -> bool:
    host = parts.hostname or ""
    try:
        with_port = _host_and_port(parts)
    except ValueError:
        return False
    return bool({host, host.removeprefix("www."), with_port} & hosts)


def _platform(host: str) -> SocialPlatform:
    labels = host.split(".")
    for start in range(len(labels) - 1):
        platform = _PLATFORM_DOMAINS.get(".".join(labels[start:]))
        if platform is not None:
            return platform
    return SocialPlatform.WEBSITE


def _handle(segment: str | None) -> str | None:
    """The name in an ``@name`` path segment."""
    if segment is None or not segment.startswith("@"):
        return None
    return segment[1:] or None


def _first(segments: Sequence[str]) -> str | None:
    return segments[0] if segments else None


def _username(platform: SocialPlatform, host: str, segments: Sequence[str]) -> str | None:
    """The account name in a profile URL, for platforms whose URLs carry one."""
    first = _first(segments)
    second = segments[1] if len(segments) > 1 else None
    match platform:
        case SocialPlatform.BANDCAMP:
            artist = host.removesuffix("bandcamp.com").rstrip(".").split(".")[-1]
            return artist if artist and artist != "www" else None
        case SocialPlatform.TIKTOK:
            return _handle(first)
        case SocialPlatform.YOUTUBE:
            if host.endswith("youtu.be"):  # short links name a video, not a channel
                return None
            return second if first in {"c", "user"} else _handle(first)
        case SocialPlatform.SPOTIFY:
            return second if first == "user" else None
        case SocialPlatform.BEATPORT:
            return second if first == "artist" else None
        case SocialPlatform.RESIDENT_ADVISOR:
            return second if first == "dj" else None
        case SocialPlatform.WEBSITE:
            return None
        case _:
            return first if first not in _NOT_ACCOUNTS.get(platform, frozenset()) else None


# -- putting it together ----------------------------------------------------------------------


def contacts_from_profile(
    description: str | None,
    web_profiles: Sequence[Mapping[str, Any]] = (),
    *,
    link_in_bio_hosts: Collection[str] = DEFAULT_LINK_IN_BIO_HOSTS,
) -> ContactFindings:
    """Contacts in a SoundCloud profile: its description and its web-profiles list
    (``{url, network, title, username}`` entries, urls possibly gate-wrapped).

    An address found in both places is reported once, with the first source seen (the
    description). Link-in-bio pages are listed for a second fetch; ``link_in_bio_hosts`` adds
    to the well-known services, it does not replace them.
    """
    hosts = _host_set((*DEFAULT_LINK_IN_BIO_HOSTS, *link_in_bio_hosts))
    emails = [FoundEmail(email, ContactSource.DESCRIPTION) for email in extract_emails(description)]
    links = find_links(description)
    for entry in web_profiles:
        url = entry.get("url") if isinstance(entry, Mapping) else None
        if not isinstance(url, str):
            continue
        url = unwrap_gate(url.strip())
        if url.lower().startswith("mailto:") or str(entry.get("network")).lower() == "email":
            emails += (FoundEmail(found, ContactSource.WEB_PROFILE) for found in _addresses(url))
        else:
            links.append(url)
    profiles = _profiles(links, hosts)
    return ContactFindings(
        emails=_unique_emails(emails),
        profiles=profiles,
        link_in_bio_urls=tuple(
            profile.url
            for profile in profiles
            if (parts := _split(profile.url)) is not None and _is_link_in_bio(parts, hosts)
        ),
    )


def contacts_from_link_in_bio(
    links: Sequence[str], *, link_in_bio_hosts: Collection[str] = DEFAULT_LINK_IN_BIO_HOSTS
) -> ContactFindings:
    """Contacts among the links of a link-in-bio page: ``mailto:`` addresses and profiles.

    Links back to link-in-bio services (the page itself, the service's own footer) are left
    out: they are not the artist's profiles. As in ``contacts_from_profile``,
    ``link_in_bio_hosts`` adds to the well-known services.
    """
    hosts = _host_set((*DEFAULT_LINK_IN_BIO_HOSTS, *link_in_bio_hosts))
    targets = [unwrap_gate(link.strip()) for link in links]
    emails = [
        FoundEmail(email, ContactSource.LINK_IN_BIO)
        for target in targets
        if target.lower().startswith("mailto:")
        for email in _addresses(target)
    ]
    outbound = [
        target
        for target in targets
        if (parts := _split(target)) is not None and not _is_link_in_bio(parts, hosts)
    ]
    return ContactFindings(
        emails=_unique_emails(emails), profiles=_profiles(outbound, hosts), link_in_bio_urls=()
    )


def _addresses(mailto: str) -> list[str]:
    """The recipients of a ``mailto:`` link; addresses in its ``?cc=``/``?body=`` are not the
    artist's."""
    return extract_emails(mailto.partition("?")[0])


def _profiles(links: Iterable[str], hosts: frozenset[str]) -> tuple[FoundProfile, ...]:
    profiles: dict[str, FoundProfile] = {}
    for link in links:
        profile = classify_link(link, link_in_bio_hosts=hosts)
        if profile is not None:
            profiles.setdefault(profile.url, profile)
    return tuple(profiles.values())


def _unique_emails(emails: Iterable[FoundEmail]) -> tuple[FoundEmail, ...]:
    unique: dict[str, FoundEmail] = {}
    for found in emails:
        unique.setdefault(found.email, found)
    return tuple(unique.values())


class _Anchors(HTMLParser):
    """Collects the ``href`` of ``<a>`` tags, skipping links within the page itself."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "a":
            return
        href = (dict(attrs).get("href") or "").strip()
        if href and not href.startswith("#"):
            self.hrefs.append(href)
