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
- Templates run in Jinja2's immutable sandbox: private attributes (``''.__class__``), changing
  lists and dicts in place, includes and imports are refused. No rendered part and no value a
  template builds on the way (``~``, ``+``, ``*``, ``%``, filters such as ``center``, ``indent``,
  ``replace``, ``join``, string methods) may exceed :data:`MAX_RENDERED_CHARS`; widths are
  checked before the work is done, so ``"x"|center(10**9)`` is refused at once. Such a
  refusal is a :class:`TemplateRefused`.
- The sandbox does not bound time or memory: :mod:`core.template_runner` renders in child
  processes that do, and is what the API and the outreach engine use.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Iterable, Iterator, Mapping, Sized
from dataclasses import asdict, dataclass, field, fields
from functools import update_wrapper, wraps
from typing import Any, Protocol

from jinja2 import StrictUndefined, Template, TemplateSyntaxError, meta, nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

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

    def to_data(self) -> dict[str, Any]:
        """Plain JSON-able data, for a renderer in another process (see :meth:`from_data`)."""
        return asdict(self)

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> TemplateContext:
        artist = dict(data["artist"])
        artist["genres"] = Genres(artist["genres"] or ())
        return cls(
            artist=ArtistFields(**artist),
            contact=ContactFields(**data["contact"]),
            campaign=CampaignFields(**data["campaign"]),
            sender=SenderFields(**data["sender"]),
            unsubscribe_url=data["unsubscribe_url"],
        )


_NO_ARTIST = ArtistFields(
    name="",
    username=None,
    permalink="",
    permalink_url=None,
    city=None,
    country=None,
    genres=Genres(()),
    followers=0,
    tracks=0,
)


def message_context(
    artist: ArtistRecord | None,
    to_email: str,
    campaign_name: str | None,
    sender_name: str,
    sender_email: str,
) -> dict[str, Any]:
    """A recipient's template data as a sender receives it (:meth:`TemplateContext.to_data`
    without the unsubscribe link, which the sender adds): a recipient added by address alone
    has an artist with every field blank."""
    fields = ArtistFields.of(artist) if artist is not None else _NO_ARTIST
    return {
        "artist": {**asdict(fields), "genres": list(fields.genres)},
        "contact": {"email": to_email},
        "campaign": {"name": campaign_name},
        "sender": {"name": sender_name, "email": sender_email},
    }


def sample_context() -> TemplateContext:
    """A recipient with every field filled: what a template is tried on when it is saved."""
    return TemplateContext(
        artist=ArtistFields(
            name="Nova & the Waves",
            username="nova-waves",
            permalink="nova-waves",
            permalink_url="https://soundcloud.com/nova-waves",
            city="Berlin",
            country="DE",
            genres=Genres(("house", "techno", "ambient")),
            followers=12_500,
            tracks=42,
        ),
        contact=ContactFields(email="nova@music.example"),
        campaign=CampaignFields(name="Spring release"),
        sender=SenderFields(name="Mia", email="mia@label.example"),
        unsubscribe_url="https://unsubscribe.invalid/sample",
    )


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


class TemplateRefused(InvalidInput):
    """A part the sandbox will not run: it breaks a bound (size, time, memory) or reaches for
    something unsafe. Refused when a template is saved, not only when it renders."""

    def __init__(self, part: str, message: str) -> None:
        super().__init__(f"{part} {message}", [FieldProblem(part, message)])
        self.part = part
        self.message = message


def _check_size(size: int, what: str) -> None:
    if size > MAX_RENDERED_CHARS:
        raise SecurityError(f"{what} would be longer than {MAX_RENDERED_CHARS} characters")


def _int(value: Any) -> int:
    """A width or count as given, or 0 when it is not a number (the call then fails on its own)."""
    return abs(value) if isinstance(value, int) and not isinstance(value, bool) else 0


def _digits(number: str) -> int:
    # Past 7 digits it is over the bound anyway; int() of a 5,000-digit literal would raise.
    return MAX_RENDERED_CHARS + 1 if len(number) > 7 else int(number)


_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?(.)", re.S)


def _percent_size(template: str, values: Any) -> int:
    """An upper bound of the widths in ``template % values`` (``"%*s" % (10**9, "x")``)."""
    args = values if isinstance(values, tuple) else (values,)
    position, widest = 0, 0
    for spec in _PERCENT_SPEC.finditer(template):
        if spec.group(3) == "%":
            continue
        for number in spec.group(1, 2):
            if number == "*":
                widest = max(widest, _int(args[position]) if position < len(args) else 0)
                position += 1
            elif number:
                widest = max(widest, _digits(number))
        position += 1
    return len(template) + widest


def _brace_size(template: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> int:
    """An upper bound of the widths in ``template.format(...)`` (``"{:>1000000000}"``)."""
    widest = 0
    try:
        specs = [spec or "" for _, _, spec, _ in string.Formatter().parse(template)]
    except ValueError:
        return 0  # str.format reports the malformed template itself
    for spec in specs:
        widest = max([widest, *(_digits(n) for n in re.findall(r"\d+", spec))])
        if "{" in spec:  # a nested width ("{:{}}") comes from the arguments
            widest = max([widest, *(_int(v) for v in (*args, *kwargs.values()))])
    return len(template) + widest


def _replace_size(text: str, old: Any, new: Any, count: Any = None) -> int:
    old, new = str(old), str(new)
    found = text.count(old) if old else len(text) + 1
    if isinstance(count, int) and count >= 0:
        found = min(found, count)
    return len(text) + found * max(len(new) - len(old), 0)


def _lines(text: str) -> int:
    return text.count("\n") + 1


# What a filter's output would measure, from its arguments, checked before it runs. The value
# comes first, as the filter gets it (after any context argument).
_FILTER_SIZES: dict[str, Callable[..., int]] = {
    "center": lambda value, width=80: max(len(str(value)), _int(width)),
    "indent": lambda value, width=4, first=False, blank=False: (
        len(str(value))
        + _lines(str(value)) * (len(width) if isinstance(width, str) else _int(width))
    ),
    "wordwrap": lambda value, width=79, break_long_words=True, wrapstring=None, **_: (
        len(str(value))
        + (_lines(str(value)) + len(str(value)) // max(_int(width), 1)) * len(wrapstring or "\n")
    ),
    "replace": lambda value, old, new, count=None: _replace_size(str(value), old, new, count),
    "format": lambda value, *args, **kwargs: _percent_size(str(value), kwargs or args),
    "join": lambda value, d="", attribute=None: max(len(value) - 1, 0) * len(str(d)),
    # Padding a last batch, or making slices, to a billion items.
    "batch": lambda value, linecount, fill_with=None: 0 if fill_with is None else _int(linecount),
    "slice": lambda value, slices, fill_with=None: _int(slices),
    "tojson": lambda value, indent=None: _int(indent),
}


def _padded_size(text: str, width: Any, fillchar: str = " ") -> int:
    return max(len(text), _int(width))


# The same for string methods (``"x".center(10**9)``); the string itself comes first.
_METHOD_SIZES: dict[str, Callable[..., int]] = {
    "center": _padded_size,
    "ljust": _padded_size,
    "rjust": _padded_size,
    "zfill": _padded_size,
    "expandtabs": lambda text, tabsize=8: len(text) + text.count("\t") * _int(tabsize),
    "replace": lambda text, old, new, count=-1: _replace_size(text, old, new, count),
    "join": lambda text, items: max(len(items) - 1, 0) * len(text),
}


def _materialized(args: tuple[Any, ...], index: int) -> tuple[Any, ...]:
    """``args`` with an iterator at ``index`` turned into a list, so that it can be measured
    and still be used."""
    if len(args) > index and not isinstance(args[index], Sized):
        return (*args[:index], list(args[index]), *args[index + 1 :])
    return args


def _bounded_filter(name: str, filter_: Callable[..., Any]) -> Callable[..., Any]:
    size = _FILTER_SIZES.get(name)
    skip = 1 if getattr(filter_, "jinja_pass_arg", None) is not None else 0

    # ``wraps`` keeps ``jinja_pass_arg``, so Jinja2 still passes the context the filter wants.
    @wraps(filter_)
    def bounded(*args: Any, **kwargs: Any) -> Any:
        if size is not None:
            if name == "join":
                args = _materialized(args, skip)
            _check_size(size(*args[skip:], **kwargs), f"the {name} filter")
        result = filter_(*args, **kwargs)
        if isinstance(result, str):
            _check_size(len(result), f"the {name} filter")
        return result

    return bounded


class _CodeGenerator(CodeGenerator):
    """Sends the result of ``~`` through :meth:`_Sandbox.bounded`, as ``+`` is: a string
    doubled in a loop is refused at a million characters instead of growing to gigabytes."""

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.bounded(")
        super().visit_Concat(node, frame)
        self.write(")")


class _Sandbox(ImmutableSandboxedEnvironment):
    """Jinja2's sandbox with sizes bounded: whatever would build a value longer than
    :data:`MAX_RENDERED_CHARS`, or raise a number to a power above :data:`MAX_EXPONENT`, is
    refused before it is built."""

    code_generator_class = _CodeGenerator
    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.filters = {name: _bounded_filter(name, f) for name, f in self.filters.items()}

    @staticmethod
    def concat(pieces: Iterable[str]) -> str:
        # What a {% set %} block, a macro or a {% filter %} captures is joined here.
        text = "".join(pieces)
        _check_size(len(text), "a block")
        return text

    def bounded(self, value: Any) -> Any:
        if isinstance(value, str | list | tuple):
            kind = "string" if isinstance(value, str) else type(value).__name__
            _check_size(len(value), f"a {kind}")
        return value

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
        if operator_ == "%" and isinstance(left, str):
            _check_size(_percent_size(left, right), "a % format")
        result = super().call_binop(context, operator_, left, right)
        return self.bounded(result) if operator_ in {"+", "*"} else result

    def call(self, context: Context, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        owner = getattr(obj, "__self__", None)
        name = getattr(obj, "__name__", "")
        if isinstance(owner, str) and name in _METHOD_SIZES:
            if name == "join":
                args = _materialized(args, 0)
            _check_size(_METHOD_SIZES[name](owner, *args, **kwargs), f"str.{name}")
        result = super().call(context, obj, *args, **kwargs)
        if isinstance(result, str):
            _check_size(len(result), f"{name or 'a call'}()")
        return result

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        sandboxed = super().wrap_str_format(value)
        if sandboxed is None:
            return None
        template = str(value.__self__)
        is_format_map = value.__name__ == "format_map"

        def bounded(*args: Any, **kwargs: Any) -> str:
            if is_format_map and len(args) == 1 and isinstance(args[0], Mapping):
                _check_size(_brace_size(template, (), args[0]), "str.format_map")
            else:
                _check_size(_brace_size(template, args, kwargs), "str.format")
            return sandboxed(*args, **kwargs)

        return update_wrapper(bounded, value)


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


def compile_part(part: str, source: str) -> Template:
    """Parse one part (``subject``, ``body_html`` or ``body_text``) for rendering; a syntax
    error is an ``InvalidInput`` naming the part and its line."""
    try:
        return _environment(part).from_string(source)
    except TemplateSyntaxError as exc:
        message = f"line {exc.lineno}: {exc.message}"
        raise InvalidInput(f"{part} {message}", [FieldProblem(part, message)]) from None


def render_part(part: str, template: Template, variables: Mapping[str, Any]) -> str:
    """Render one compiled part. A failure is an ``InvalidInput`` naming the part and its line,
    a :class:`TemplateRefused` when the sandbox refused it; ``MemoryError`` is left to the
    caller, which knows the memory bound."""
    chunks: list[str] = []
    size = 0
    try:
        for chunk in template.generate(variables):
            size += len(chunk)
            if size > MAX_RENDERED_CHARS:
                raise SecurityError(f"renders to more than {MAX_RENDERED_CHARS} characters")
            chunks.append(chunk)
    except MemoryError:
        raise
    # A template is code written by a user: whatever fails in it is the template's fault
    # and is reported as such, with the line, rather than as a server error.
    except Exception as exc:
        line = _template_line(exc)
        message = f"line {line}: {exc}" if line is not None else str(exc)
        if isinstance(exc, SecurityError):
            raise TemplateRefused(part, message) from None
        raise InvalidInput(f"{part} {message}", [FieldProblem(part, message)]) from None
    return "".join(chunks)


def email_of(rendered: Mapping[str, str]) -> RenderedEmail:
    """The message from its rendered parts."""
    return RenderedEmail(
        # A header is one line: a name with a line break in it cannot add headers.
        subject=" ".join(rendered["subject"].split()),
        html=rendered["body_html"],
        text=rendered["body_text"],
    )


def render_email(template: TemplateSource, context: TemplateContext) -> RenderedEmail:
    """Render ``template`` for one recipient in this process, unbounded in time and memory: for
    templates the project wrote itself (and as the reference the tests compare with). User-written
    templates go through :class:`core.template_runner.TemplateRunner`."""
    variables = context.variables()
    return email_of(
        {
            part: render_part(part, compile_part(part, getattr(template, part)), variables)
            for part in TEMPLATE_FIELDS
        }
    )


def _template_line(exc: BaseException) -> int | None:
    # Jinja2 rewrites tracebacks so that template frames carry the template's line numbers.
    line = None
    frame = exc.__traceback__
    while frame is not None:
        if frame.tb_frame.f_code.co_filename == _TEMPLATE_FILENAME:
            line = frame.tb_lineno
        frame = frame.tb_next
    return line
