"""Outreach messages as they leave: a rendered template turned into an RFC 5322 message with
its unsubscribe headers, open pixel and tracked links, all on ``CM_PUBLIC_URL``.

Rules (:func:`build_message`):

- A message with an HTML body is ``multipart/alternative``: a text part, then the HTML part.
  An empty (blank) text body is derived from the HTML (:func:`text_from_html`, links written
  out as ``label (URL)``); an empty HTML body makes a text-only message, without a pixel.
- Every message carries a visible unsubscribe link: a part that does not already show the
  record's unsubscribe URL (the template's ``unsubscribe_url``) gets a one-line footer with it.
- ``List-Unsubscribe: <PUBLIC/u/TOKEN>`` (then ``<mailto:...>`` when an address is given) and
  ``List-Unsubscribe-Post: List-Unsubscribe=One-Click`` (RFC 8058). Mailbox providers only
  offer one-click for an https URL in a DKIM-signed message: signing is the mail server's job.
- In the HTML, every ``a``/``area`` ``href`` that is an absolute http(s) URL becomes
  ``PUBLIC/t/c/TOKEN``, a click redirect that only ever leads to that URL; ``mailto:``,
  ``tel:``, anchors, relative links, the unsubscribe link and URLs that cannot be targets
  (see :func:`core.link_tokens.target_problem`) are left as they are. The text part's links
  are not rewritten: a reader of plain text sees where a link goes. The open pixel
  ``<img src="PUBLIC/t/o/TOKEN" width="1" height="1" alt="">`` goes before ``</body>``, or at
  the end of a fragment. The HTML is read with :mod:`html.parser`; only the start tags whose
  link is rewritten are written anew, every other byte stays as the template rendered it.
- Headers cannot be injected: display names and the subject are collapsed to one line (every
  line break, tab or control character becomes a space) before they reach a header;
  addresses must be plain ASCII addresses.
- Bodies are encoded for 7-bit transport (quoted-printable or base64 when not plain ASCII with
  short lines), headers with RFC 2047 where not ASCII, so any SMTP server accepts the bytes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage, MIMEPart
from email.policy import Policy
from email.utils import format_datetime
from functools import cached_property
from html import escape
from html.parser import HTMLParser
from uuid import UUID

from core.emails import normalize_email
from core.errors import FieldProblem, InvalidInput
from core.link_tokens import LinkSigner, RecordUnsubscribe
from core.templating import RenderedEmail

UNSUBSCRIBE_PATH = "/u/"
OPEN_PATH = "/t/o/"
CLICK_PATH = "/t/c/"
ONE_CLICK = "List-Unsubscribe=One-Click"
# The message_id column's width.
MAX_MESSAGE_ID_CHARS = 500

# Bodies are encoded when they are not 7-bit safe, so the bytes pass any SMTP server, with or
# without 8BITMIME.
MESSAGE_POLICY = policy.SMTP.clone(cte_type="7bit")

_MESSAGE_ID = re.compile(r"<[^<>@\s]+@[^<>@\s]+>")
_HTML_SPACE = " \t\n\r\f"
_LINK_TAGS = frozenset({"a", "area"})


@dataclass(frozen=True)
class MailAddress:
    """An address and the display name shown with it."""

    email: str
    name: str = ""


@dataclass(frozen=True)
class TrackingLinks:
    """The public links of one email record's message, on the service's public base URL."""

    public_url: str
    signer: LinkSigner
    record_id: UUID

    @classmethod
    def for_record(cls, public_url: str, secret: str, record_id: UUID) -> TrackingLinks:
        return cls(public_url=public_url, signer=LinkSigner(secret), record_id=record_id)

    @cached_property
    def unsubscribe_url(self) -> str:
        """The recipient's unsubscribe page (and one-click target); give it to the template as
        ``unsubscribe_url`` so the link in the body is the one in ``List-Unsubscribe``."""
        token = self.signer.unsubscribe_token(RecordUnsubscribe(self.record_id))
        return self._url(UNSUBSCRIBE_PATH, token)

    @cached_property
    def open_url(self) -> str:
        return self._url(OPEN_PATH, self.signer.open_token(self.record_id))

    def click_url(self, target: str) -> str | None:
        """The redirect to ``target``, or ``None`` when ``target`` is not a click target."""
        try:
            return self._url(CLICK_PATH, self.signer.click_token(self.record_id, target))
        except InvalidInput:
            return None

    def _url(self, path: str, token: str) -> str:
        return f"{self.public_url.rstrip('/')}{path}{token}"


def message_id_for(record_id: UUID, sender_email: str) -> str:
    """The Message-ID of a record's message: ``<record-id@sender-domain>``, the same every time
    it is built, so a resend is recognisably the same message."""
    return f"<{record_id}@{message_domain(sender_email)}>"


def message_domain(sender_email: str) -> str:
    """The right-hand side of the Message-IDs of mail from ``sender_email``: its domain, in
    ASCII."""
    domain = normalize_email(sender_email, field="sender.email").rpartition("@")[2]
    try:
        return domain.encode("idna").decode("ascii")
    except UnicodeError:
        raise _invalid("sender.email", f"{domain!r} is not a usable mail domain") from None


def build_message(
    rendered: RenderedEmail,
    *,
    sender: MailAddress,
    recipient: MailAddress,
    message_id: str,
    links: TrackingLinks,
    date: datetime,
    unsubscribe_mailto: str | None = None,
) -> EmailMessage:
    """The message for one recipient, ready for SMTP (see the module's rules).

    ``message_id`` is the record's stored Message-ID (:func:`message_id_for`); ``date`` must be
    timezone-aware; ``unsubscribe_mailto`` is an address that unsubscribes whoever writes to it.
    A sender or recipient that is not a plain ASCII address is an ``InvalidInput`` naming it.
    """
    if date.tzinfo is None:
        raise ValueError("date must be timezone-aware")
    if len(message_id) > MAX_MESSAGE_ID_CHARS or not (
        message_id.isascii() and _MESSAGE_ID.fullmatch(message_id)
    ):
        raise ValueError(f"{message_id!r} is not a Message-ID")
    unsubscribe_uris = [links.unsubscribe_url]
    if unsubscribe_mailto is not None:
        address = _address(MailAddress(unsubscribe_mailto), "unsubscribe_mailto").addr_spec
        unsubscribe_uris.append(f"mailto:{address}?subject=unsubscribe")

    message = EmailMessage(policy=MESSAGE_POLICY)
    message["From"] = _address(sender, "sender")
    message["To"] = _address(recipient, "recipient")
    message["Subject"] = _one_line(rendered.subject)
    message["Date"] = format_datetime(date)
    message["Message-ID"] = message_id
    message["List-Unsubscribe"] = _UriListHeader("List-Unsubscribe", unsubscribe_uris)
    message["List-Unsubscribe-Post"] = ONE_CLICK

    html = rendered.html if rendered.html.strip() else ""
    text = rendered.text if rendered.text.strip() else text_from_html(html)
    text = _with_text_footer(text, links.unsubscribe_url)
    if not html:
        message.set_content(text)
        return message
    html = track_html(html, links)
    message["MIME-Version"] = "1.0"
    message.make_alternative()
    # "=_" never occurs in quoted-printable or base64 text, so only a 7-bit body could hold
    # this boundary; a fixed one spares the generator a regex compiled per message.
    boundary = f"=_{links.record_id.hex}"
    if boundary not in text and boundary not in html:
        message.set_boundary(boundary)
    for body, subtype in ((text, "plain"), (html, "html")):
        # Plain MIME parts: add_alternative makes each part a message with its own MIME-Version.
        part = MIMEPart(policy=MESSAGE_POLICY)
        part.set_content(body, subtype=subtype)
        # typeshed wants the container's own class; the email package takes any MIMEPart.
        message.attach(part)  # type: ignore[arg-type]
    return message


def track_html(html: str, links: TrackingLinks) -> str:
    """``html`` with its http(s) links turned into click redirects, the open pixel before the
    end of its body and, when it shows no unsubscribe link, a footer with one."""
    scanner = _LinkScanner(html)
    scanner.feed(html)
    scanner.close()
    edits: list[tuple[int, int, str]] = []
    shows_unsubscribe = False
    for tag in scanner.tags:
        if tag.href == links.unsubscribe_url:
            shows_unsubscribe = True
            continue
        redirect = links.click_url(tag.href)
        if redirect is not None:
            edits.append((tag.start, tag.end, tag.with_href(redirect)))
    tail = f'<img src="{escape(links.open_url)}" width="1" height="1" alt="">'
    if not shows_unsubscribe:
        tail = f'<p><a href="{escape(links.unsubscribe_url)}">Unsubscribe</a></p>{tail}'
    at = scanner.body_end if scanner.body_end is not None else len(html)
    edits.append((at, at, tail))

    pieces: list[str] = []
    done = 0
    for start, end, replacement in sorted(edits):
        pieces += [html[done:start], replacement]
        done = end
    pieces.append(html[done:])
    return "".join(pieces)


def text_from_html(html: str) -> str:
    """A plain-text reading of ``html``: blocks on their own lines, list items as ``- ``,
    links as ``label (URL)``; scripts, styles and the head are dropped."""
    reader = _TextReader()
    reader.feed(html)
    reader.close()
    lines = [" ".join(line.split()) for line in "".join(reader.out).splitlines()]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


@dataclass(frozen=True)
class _LinkTag:
    start: int
    end: int
    name: str
    attrs: list[tuple[str, str | None]]
    closed: bool
    href: str

    def with_href(self, href: str) -> str:
        """The tag written anew with ``href``; browsers follow only an element's first
        ``href``, so any later one is dropped rather than left to confuse a reader."""
        parts = [self.name]
        seen_href = False
        for name, value in self.attrs:
            if name == "href":
                if seen_href:
                    continue
                seen_href, value = True, href
            parts.append(name if value is None else f'{name}="{escape(value)}"')
        return "<" + " ".join(parts) + (" />" if self.closed else ">")


class _LinkScanner(HTMLParser):
    """Finds the link start tags (with their place in the source) and the end of the body."""

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=True)
        self._source = source
        self._line_starts = [0]
        while (newline := source.find("\n", self._line_starts[-1])) != -1:
            self._line_starts.append(newline + 1)
        self.tags: list[_LinkTag] = []
        self.body_end: int | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._link(tag, attrs, closed=False)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._link(tag, attrs, closed=True)

    def handle_endtag(self, tag: str) -> None:
        if tag == "body":
            self.body_end = self._offset()

    def _offset(self) -> int:
        line, column = self.getpos()
        return self._line_starts[line - 1] + column

    def _link(self, tag: str, attrs: list[tuple[str, str | None]], *, closed: bool) -> None:
        href = next((value for name, value in attrs if name == "href"), None)
        if tag not in _LINK_TAGS or href is None:
            return
        start, raw = self._offset(), self.get_starttag_text() or ""
        # Only a tag found exactly where the parser says is rewritten; anything else is left.
        if raw and self._source.startswith(raw, start):
            self.tags.append(
                _LinkTag(start, start + len(raw), tag, attrs, closed, href.strip(_HTML_SPACE))
            )


_BLOCK_TAGS = frozenset(
    {
        *("address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt"),
        *("figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6"),
        *("header", "hr", "li", "main", "nav", "ol", "p", "pre", "section", "table", "tr"),
        "ul",
    }
)
_HIDDEN_TAGS = frozenset({"head", "script", "style", "template", "title"})
_SPELLED_OUT_SCHEMES = ("http://", "https://", "mailto:")


class _TextReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self._hidden = 0
        # Each open link: its href and where its label starts in ``out``.
        self._links: list[tuple[str | None, int]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN_TAGS:
            self._hidden += 1
            return
        if tag in _BLOCK_TAGS:
            self.out.append("\n")
        if tag == "li":
            self.out.append("- ")
        if tag == "a":
            href = next((value for name, value in attrs if name == "href"), None)
            self._links.append((href.strip(_HTML_SPACE) if href else None, len(self.out)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK_TAGS:
            self.out.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN_TAGS:
            self._hidden = max(self._hidden - 1, 0)
            return
        if tag == "a" and self._links:
            href, label_start = self._links.pop()
            label = " ".join("".join(self.out[label_start:]).split())
            if href and href.lower().startswith(_SPELLED_OUT_SCHEMES) and label != href:
                self.out.append(f" ({href})" if label else href)
        if tag in _BLOCK_TAGS:
            self.out.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.out.append(data)


class _UriListHeader(str):
    """A header holding ``<uri>, <uri>`` that folds between URIs and never inside one.

    Python's folder turns a word longer than a line (a tokenised URL is one) into RFC 2047
    encoded words, which no client reads as a URI; and SMTP clients such as aiosmtplib flatten
    a message again with their own policy. A header object with its own ``fold`` is used as
    it is by every policy (see :meth:`email.policy.EmailPolicy.fold`), so the folding travels
    with the message. Lines stay far under SMTP's 998-character limit: a URI is at most the
    public URL and a 60-character token, or a checked address.
    """

    name: str
    _uris: tuple[str, ...]

    def __new__(cls, name: str, uris: list[str]) -> _UriListHeader:
        for uri in uris:
            if not uri.isascii() or any(c in "<>," or not c.isprintable() for c in uri):
                raise ValueError(f"{uri!r} cannot be written in {name}")
        header = super().__new__(cls, ", ".join(f"<{uri}>" for uri in uris))
        header.name = name
        header._uris = tuple(uris)
        return header

    def fold(self, *, policy: Policy) -> str:
        separator = f",{policy.linesep} "
        return f"{self.name}: {separator.join(f'<{u}>' for u in self._uris)}{policy.linesep}"


def _one_line(value: str) -> str:
    """``value`` with every run of whitespace and control characters made one space: a line
    break can never reach a header."""
    return " ".join("".join(c if c.isprintable() else " " for c in value).split())


def _address(party: MailAddress, field: str) -> Address:
    email = normalize_email(party.email, field=f"{field}.email")
    if not email.isascii():
        raise _invalid(f"{field}.email", f"{email!r} is not an ASCII address")
    try:
        return Address(display_name=_one_line(party.name), addr_spec=email)
    except (ValueError, HeaderParseError):
        raise _invalid(f"{field}.email", f"{email!r} cannot be written in a header") from None


def _with_text_footer(text: str, unsubscribe_url: str) -> str:
    if unsubscribe_url in text:
        return text
    footer = f"Unsubscribe: {unsubscribe_url}"
    return f"{text.rstrip()}\n\n{footer}\n" if text.strip() else f"{footer}\n"


def _invalid(field: str, message: str) -> InvalidInput:
    return InvalidInput(message, [FieldProblem(field, message)])
