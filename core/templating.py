"""Outreach email templates: checked when saved, rendered per recipient in a Jinja2 sandbox.

A template has three parts, each a Jinja2 template: ``subject``, ``body_html`` and
``body_text``. They see this context and nothing else:

- ``artist``: the catalogue artist the message is for: ``name``, ``username``, ``permalink``,
  ``permalink_url``, ``city``, ``country``, ``genres`` (prints as ``house, techno``; loop over
  it or ``|join`` it for other shapes), ``followers``, ``tracks``
- ``contact``: ``email``, the address the message goes to
- ``campaign``: ``name`` of the campaign the outreach belongs to (empty when there is none)
- ``sender``: ``name`` and ``email`` of who sends it
- ``unsubscribe_url``: the recipient's own unsubscribe link

plus Jinja2's filters and its globals (``range``, ``namespace``, ``cycler``, ``joiner``, ...).

Rules:

- A missing value (an artist without a city) renders as an empty string, so
  ``{{ artist.city or "your city" }}`` works.
- A name that is not in the context is an error, never an empty string: ``{{ artist.nmae }}``
  is refused when the template is saved (:func:`validate_template`) and fails rendering.
- ``body_html`` is autoescaped (an artist called ``<b>DJ</b>`` cannot inject markup);
  ``subject`` and ``body_text`` are not HTML and are not escaped. A rendered subject is one line.
- Templates run in Jinja2's sandbox: private attributes (``''.__class__``), includes and
  imports are refused. Sequence repetition, powers and the rendered size are bounded; the
  sandbox does not bound CPU time, so untrusted bulk rendering belongs in a worker process.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Protocol

from jinja2 import StrictUndefined, TemplateSyntaxError, meta, nodes
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment

from core.errors import FieldProblem, InvalidInput

TEMPLATE_FIELDS = ("subject", "body_html", "body_text")
# Per rendered part; far above any real email, far below what hurts a server.
MAX_RENDERED_CHARS = 1_000_000
MAX_EXPONENT = 100
_TEMPLATE_FILENAME = "<template>"


class Genres(tuple[str, ...]):
    """An artist's genres; prints as ``house, techno`` and iterates like a list."""

    __slots__ = ()

    def __str__(self) -> str:
        return ", ".join(self)


class ArtistRecord(Protocol):
    """What :meth:`ArtistFields.of` reads: a catalogue artist row."""

    name: str
    soundcloud_username: str | None
    permalink: str
    permalink_url: str | None
    city: str | None
    country: str | None
    genres: list[str]
    followers: int
    tracks: int


@dataclass(frozen=True)
class ArtistFields:
    name: str = field(metadata={"doc": "The artist's display name."})
    username: str | None = field(metadata={"doc": "Their SoundCloud username."})
    permalink: str = field(metadata={"doc": "The last part of their SoundCloud address."})
    permalink_url: str | None = field(metadata={"doc": "Their SoundCloud page."})
    city: str | None = field(metadata={"doc": "Their city, if known."})
    country: str | None = field(metadata={"doc": "Their two-letter country code, if known."})
    genres: Genres = field(metadata={"doc": "Their genres, printed as 'house, techno'."})
    followers: int = field(metadata={"doc": "Their SoundCloud followers."})
    tracks: int = field(metadata={"doc": "Their number of tracks."})

    @classmethod
    def of(cls, artist: ArtistRecord) -> ArtistFields:
        return cls(
            name=artist.name,
            username=artist.soundcloud_username,
            permalink=artist.permalink,
            permalink_url=artist.permalink_url,
            city=artist.city,
            country=artist.country,
            genres=Genres(artist.genres or ()),
            followers=artist.followers,
            tracks=artist.tracks,
        )


@dataclass(frozen=True)
class ContactFields:
    email: str | None = field(metadata={"doc": "The address the message goes to."})


@dataclass(frozen=True)
class CampaignFields:
    name: str | None = field(
        metadata={"doc": "The campaign's name (empty when the outreach has none)."}
    )


@dataclass(frozen=True)
class SenderFields:
    name: str = field(metadata={"doc": "The sender's name."})
    email: str = field(metadata={"doc": "The sender's address."})


@dataclass(frozen=True)
class TemplateContext:
    """Everything a template may use for one recipient."""

    artist: ArtistFields
    contact: ContactFields
    campaign: CampaignFields
    sender: SenderFields
    unsubscribe_url: str

    def variables(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


_OBJECTS: dict[str, type[Any]] = {
    "artist": ArtistFields,
    "contact": ContactFields,
    "campaign": CampaignFields,
    "sender": SenderFields,
}
_ATTRIBUTES = {name: {f.name for f in fields(kind)} for name, kind in _OBJECTS.items()}
CONTEXT_NAMES = frozenset(f.name for f in fields(TemplateContext))


@dataclass(frozen=True)
class TemplateVariable:
    name: str
    description: str


def template_variables() -> list[TemplateVariable]:
    """The documented context, as ``artist.name``-style names with a description each."""
    documented = [
        TemplateVariable(f"{name}.{f.name}", f.metadata["doc"])
        for name, kind in _OBJECTS.items()
        for f in fields(kind)
    ]
    documented.append(TemplateVariable("unsubscribe_url", "The recipient's unsubscribe link."))
    return documented


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    html: str
    text: str


class TemplateSource(Protocol):
    """The three parts of a template (an ``EmailTemplate`` row, or anything shaped like one)."""

    subject: str
    body_html: str
    body_text: str


class _Sandbox(SandboxedEnvironment):
    """Jinja2's sandbox with ``'x' * 10**9`` and ``10 ** 10**8`` refused instead of run."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Context, operator_: str, left: Any, right: Any) -> Any:
        if operator_ == "**" and _is_number(right) and abs(right) > MAX_EXPONENT:
            raise SecurityError(f"exponents above {MAX_EXPONENT} are not allowed")
        if operator_ == "*":
            for items, times in ((left, right), (right, left)):
                if (
                    isinstance(items, str | list | tuple)
                    and _is_number(times)
                    and len(items) * times > MAX_RENDERED_CHARS
                ):
                    raise SecurityError("a repeated sequence would be too long")
        return super().call_binop(context, operator_, left, right)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _blank_none(value: Any) -> Any:
    return "" if value is None else value


def _sandbox(*, html: bool) -> _Sandbox:
    return _Sandbox(autoescape=html, undefined=StrictUndefined, finalize=_blank_none)


_TEXT = _sandbox(html=False)
_HTML = _sandbox(html=True)


def _environment(part: str) -> _Sandbox:
    return _HTML if part == "body_html" else _TEXT


def validate_template(parts: Mapping[str, str]) -> None:
    """Check template parts (``{"subject": ..., "body_html": ...}``, any subset) before they are
    saved; raise ``InvalidInput`` naming each bad part with its line: syntax errors, names
    outside the context, unknown fields of its objects, private attributes and includes."""
    problems = [problem for part, source in parts.items() for problem in _problems(part, source)]
    if problems:
        detail = "; ".join(f"{p.field} {p.message}" for p in problems)
        raise InvalidInput(f"the template does not work: {detail}", problems)


def _problems(part: str, source: str) -> list[FieldProblem]:
    environment = _environment(part)
    try:
        tree = environment.parse(source)
    except TemplateSyntaxError as exc:
        return [FieldProblem(part, f"line {exc.lineno}: {exc.message}")]
    found = sorted(_findings(tree, known=CONTEXT_NAMES | environment.globals.keys()))
    return [FieldProblem(part, f"line {line}: {message}") for line, message in found]


def _findings(
    tree: nodes.Template, *, known: frozenset[str] | set[str]
) -> Iterator[tuple[int, str]]:
    loads = [name for name in tree.find_all(nodes.Name) if name.ctx == "load"]
    for unknown in meta.find_undeclared_variables(tree) - known:
        line = min(name.lineno for name in loads if name.name == unknown)
        yield line, f"unknown variable {unknown!r}; the context has {_listing(CONTEXT_NAMES)}"
    # A template may rebind ``artist`` (a loop variable, a {% set %}); its fields are then its own.
    rebound = {name.name for name in tree.find_all(nodes.Name) if name.ctx != "load"}
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        target, attribute = _attribute_access(node)
        if attribute is None:
            continue
        if attribute.startswith("_"):
            yield node.lineno, f"private attribute {attribute!r} is not available"
            continue
        if (
            isinstance(target, nodes.Name)
            and target.name in _ATTRIBUTES
            and target.name not in rebound
            and attribute not in _ATTRIBUTES[target.name]
        ):
            fields_ = _listing(_ATTRIBUTES[target.name])
            yield node.lineno, f"{target.name} has no field {attribute!r}; it has {fields_}"
    for statement in tree.find_all((nodes.Extends, nodes.Include, nodes.Import, nodes.FromImport)):
        yield statement.lineno, "a template cannot extend, include or import other templates"


def _attribute_access(node: nodes.Node) -> tuple[nodes.Node | None, str | None]:
    """``(artist, "name")`` for ``artist.name`` and ``artist["name"]``; no name otherwise."""
    if isinstance(node, nodes.Getattr):
        return node.node, str(node.attr)
    if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
        value = node.arg.value
        return node.node, value if isinstance(value, str) else None
    return None, None


def _listing(names: frozenset[str] | set[str]) -> str:
    return ", ".join(sorted(names))


class CompiledEmail:
    """A template parsed once, to render for many recipients."""

    def __init__(self, template: TemplateSource) -> None:
        self._parts = {}
        for part in TEMPLATE_FIELDS:
            source = getattr(template, part)
            try:
                self._parts[part] = _environment(part).from_string(source)
            except TemplateSyntaxError as exc:
                message = f"line {exc.lineno}: {exc.message}"
                raise InvalidInput(f"{part} {message}", [FieldProblem(part, message)]) from None

    def render(self, context: TemplateContext) -> RenderedEmail:
        """Render every part for one recipient; a failing part is an ``InvalidInput`` naming it
        and its line."""
        variables = context.variables()
        rendered = {part: self._render_part(part, variables) for part in TEMPLATE_FIELDS}
        return RenderedEmail(
            # A header is one line: a name with a line break in it cannot add headers.
            subject=" ".join(rendered["subject"].split()),
            html=rendered["body_html"],
            text=rendered["body_text"],
        )

    def _render_part(self, part: str, variables: dict[str, Any]) -> str:
        chunks: list[str] = []
        size = 0
        try:
            for chunk in self._parts[part].generate(variables):
                size += len(chunk)
                if size > MAX_RENDERED_CHARS:
                    raise SecurityError(f"renders to more than {MAX_RENDERED_CHARS} characters")
                chunks.append(chunk)
        # A template is code written by a user: whatever fails in it is the template's fault
        # and is reported as such, with the line, rather than as a server error.
        except Exception as exc:
            line = _template_line(exc)
            where = f"line {line}: " if line is not None else ""
            message = f"{where}{exc}"
            raise InvalidInput(f"{part} {message}", [FieldProblem(part, message)]) from None
        return "".join(chunks)


def render_email(template: TemplateSource, context: TemplateContext) -> RenderedEmail:
    """Render ``template`` for one recipient (see :class:`CompiledEmail` for many)."""
    return CompiledEmail(template).render(context)


def _template_line(exc: BaseException) -> int | None:
    # Jinja2 rewrites tracebacks so that template frames carry the template's line numbers.
    line = None
    frame = exc.__traceback__
    while frame is not None:
        if frame.tb_frame.f_code.co_filename == _TEMPLATE_FILENAME:
            line = frame.tb_lineno
        frame = frame.tb_next
    return line
