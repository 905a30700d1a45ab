"""What every request must satisfy before any route runs, decided once for all of them.

PostgreSQL cannot store a NUL (U+0000) in text or JSONB, nor a lone surrogate (U+D800 to
U+DFFF: Python strings hold one, UTF-8 cannot); asyncpg raises on either in the middle of the
transaction, which was a 500 on every route that writes text. JSONB cannot hold NaN, Infinity
or a number no float can hold, which Python's JSON reader accepts. So the query string (names
and values), JSON bodies (every key and string, at any depth), form fields and uploaded file
names are checked here, and anything of the kind is a 422 naming the field the way the
routes' own 422s do (``name``, ``data.reviews.1.text``, ``q``). Uploaded files themselves are
left to the CSV reader, which reports bad cells as row errors.

Bodies are bounded: JSON, form and other bodies by ``CM_MAX_BODY_BYTES``, multipart bodies sent
to a route that takes files by ``CM_MAX_UPLOAD_BYTES``; over the bound is a 413, decided from
Content-Length when there is one and while streaming otherwise, never buffering more than the
bound. JSON nested deeper than :data:`MAX_JSON_DEPTH` is a 422 (Python's reader recurses, and
a deep body once answered as a 400).

Normal requests stay cheap: a JSON body is only parsed here when its raw bytes could hold
something refused (a ``\\u0000`` or ``\\udXXX`` escape, a raw 0x00, NaN, Infinity, a long
number or exponent), and only scanned for depth when it has more brackets than the bound.
"""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI, params
from fastapi.routing import APIRoute, iter_route_contexts
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.responses import Response
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core import logs
from core.errors import FieldProblem, InvalidInput
from serve.problems import error_response, problem_response, unreadable_json

MAX_JSON_DEPTH = 32
# The audit log's request_id column is VARCHAR(100).
MAX_REQUEST_ID_LENGTH = 100
REQUEST_ID_HEADER = "X-Request-ID"

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# Raw bytes without any of these cannot parse to a refused string or number; those with one
# are parsed here (a false alarm, such as "NaN" inside a string, costs one parse).
_SUSPECT_JSON = re.compile(
    rb"\\u(?:0000|[dD][89abcdefABCDEF][0-9a-fA-F]{2})|\x00|NaN|Infinity|[eE][+-]?[0-9]{3}|[0-9]{300}"
)
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = bytes(byte for byte in range(256) if byte not in b"[]{}")
_OPENERS = frozenset(b"[{")


def routes_taking_files(app: FastAPI) -> tuple[re.Pattern[str], ...]:
    """The paths of ``app``'s routes with a file parameter: only they get the upload size."""
    patterns = []
    # Included routers are resolved lazily; their contexts carry the full, prefixed path.
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if (
            isinstance(route, APIRoute)
            and route.body_field is not None
            and isinstance(route.body_field.field_info, params.File)
            and context.path
        ):
            patterns.append(compile_path(context.path)[0])
    return tuple(patterns)


class EdgeMiddleware:
    """Refuses unstorable text, deep JSON and oversized bodies; passes everything else on with
    its body replayed unchanged."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        max_upload_bytes: int,
        upload_paths: Sequence[re.Pattern[str]],
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_upload_bytes = max_upload_bytes
        self.upload_paths = tuple(upload_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        headers = {name.lower(): value for name, value in scope["headers"]}
        # Serve puts one on every request (the client's own when it sent one); logs carry it.
        logs.request_id.set(headers.get(b"x-request-id", b"").decode("latin-1")[:100] or None)
        problem = _query_problem(scope["query_string"]) or _request_id_problem(headers)
        if problem is not None:
            await _refuse(problem, path, scope, receive, send)
            return
        media_type, options = parse_options_header(headers.get(b"content-type", b""))
        multipart = media_type == b"multipart/form-data"
        takes_files = any(pattern.match(path) for pattern in self.upload_paths)
        limit = self.max_upload_bytes if multipart and takes_files else self.max_body_bytes
        declared = headers.get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            await _too_large(limit, path, scope, receive, send)
            return
        if multipart:
            await self._inspect_streaming(scope, receive, send, options, limit)
            return
        try:
            body = await _read_at_most(receive, limit)
        except _ClientLeft:
            return  # nobody to answer, and a partial body must not be acted on
        if body is None:
            await _too_large(limit, path, scope, receive, send)
            return
        problem = _body_problem(media_type, body)
        if problem is not None:
            await _refuse(problem, path, scope, receive, send)
            return
        await self.app(scope, _replaying(body, receive), send)

    async def _inspect_streaming(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        options: dict[bytes, bytes],
        limit: int,
    ) -> None:
        """Multipart bodies may be large, so each chunk is inspected on its way to the app
        instead of buffered. FastAPI reads the whole form before it runs a route, so when a
        chunk is refused the app is told the client left, its answer is dropped, and the
        refusal is sent instead."""
        form = _FormInspector(options, self.max_body_bytes)
        received = 0
        refusal: Response | None = None
        started = False

        async def inspected() -> Message:
            nonlocal received, refusal
            if refusal is not None:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] != "http.request":
                return message
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > limit:
                refusal = _too_large_response(limit, scope["path"])
            elif (problem := form.feed(chunk)) is not None:
                refusal = _refusal(problem, scope["path"])
            return {"type": "http.disconnect"} if refusal is not None else message

        async def answer(message: Message) -> None:
            nonlocal started
            if refusal is not None and not started:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, inspected, answer)
        except Exception:
            # Whatever the app made of the disconnect it was told of is not the answer.
            if refusal is None or started:
                raise
        if refusal is not None and not started:
            await refusal(scope, receive, send)


def _describe(character: str) -> str:
    if character == "\x00":
        return "a NUL character (U+0000)"
    return f"an unpaired surrogate (U+{ord(character):04X})"


def _shown(name: str) -> str:
    """A name fit to report: what cannot be stored becomes U+FFFD."""
    return _UNSTORABLE.sub("\ufffd", name)


def _text_problem(field: str, text: str) -> FieldProblem | None:
    found = _UNSTORABLE.search(text)
    if found is None:
        return None
    return FieldProblem(
        _shown(field), f"contains {_describe(found.group())}, which cannot be stored"
    )


def _pairs_problem(encoded: bytes) -> FieldProblem | None:
    """A query string or urlencoded body, decoded as Starlette decodes it."""
    for name, value in parse_qsl(encoded.decode("latin-1"), keep_blank_values=True):
        problem = _text_problem(name, name) or _text_problem(name, value)
        if problem is not None:
            return problem
    return None


def _query_problem(query_string: bytes) -> FieldProblem | None:
    return _pairs_problem(query_string) if query_string else None


def _request_id_problem(headers: dict[bytes, bytes]) -> FieldProblem | None:
    """The request id is stored with every audit row the request writes."""
    value = headers.get(REQUEST_ID_HEADER.lower().encode())
    if value is None:
        return None
    if (
        1 <= len(value) <= MAX_REQUEST_ID_LENGTH
        and value.isascii()
        and value.decode().isprintable()
    ):
        return None
    return FieldProblem(
        REQUEST_ID_HEADER, f"must be 1 to {MAX_REQUEST_ID_LENGTH} printable ASCII characters"
    )


def _is_json(media_type: bytes) -> bool:
    # As FastAPI decides; a body without a type is checked as JSON too, to be safe.
    main, _, sub = media_type.partition(b"/")
    return not media_type or (main == b"application" and (sub == b"json" or sub.endswith(b"+json")))


def _body_problem(media_type: bytes, body: bytes) -> FieldProblem | None:
    if not body:
        return None
    if media_type == b"application/x-www-form-urlencoded":
        return _pairs_problem(body)
    if not _is_json(media_type):
        return None
    if _nested_deeper_than(body, MAX_JSON_DEPTH):
        return FieldProblem("body", f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    if _SUSPECT_JSON.search(body) is None:
        return None
    try:
        document = json.loads(
            body,
            parse_constant=_no_constant,
            parse_float=_finite_float,
            parse_int=_bounded_int,
        )
    except (ValueError, RecursionError) as exc:
        return FieldProblem("body", unreadable_json(exc))
    return _json_problem(document, ())


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError("a number is too large to store")
    return number


def _bounded_int(text: str) -> int:
    # Python refuses to convert more digits than this anyway, with advice meant for developers.
    digits = sys.get_int_max_str_digits()
    if digits and len(text.lstrip("-")) > digits:
        raise ValueError(f"a number has more than {digits} digits")
    return int(text)


def _json_problem(value: Any, path: tuple[str, ...]) -> FieldProblem | None:
    """The first string (key or value) that cannot be stored, named by its path."""
    if isinstance(value, str):
        return _text_problem(".".join(path) or "body", value)
    if isinstance(value, dict):
        for key, item in value.items():
            problem = _text_problem(".".join((*path, key)), key) or _json_problem(
                item, (*path, key)
            )
            if problem is not None:
                return problem
    elif isinstance(value, list):
        for index, item in enumerate(value):
            problem = _json_problem(item, (*path, str(index)))
            if problem is not None:
                return problem
    return None


def _nested_deeper_than(body: bytes, bound: int) -> bool:
    if body.count(b"[") + body.count(b"{") <= bound:
        return False
    brackets = _JSON_STRING.sub(b"", body).translate(None, delete=_NOT_BRACKETS)
    depth = 0
    for byte in brackets:
        depth += 1 if byte in _OPENERS else -1
        if depth > bound:
            return True
    return False


class _FormInspector:
    """Checks a multipart body's part names, file names and text fields as it streams by."""

    def __init__(self, options: dict[bytes, bytes], max_text_bytes: int) -> None:
        self.problem: FieldProblem | None = None
        self.max_text_bytes = max_text_bytes
        boundary = options.get(b"boundary")
        # Starlette decodes names and text with the declared charset, or latin-1 failing that.
        self.charset = options.get(b"charset", b"utf-8").decode("latin-1")
        self.header_name = b""
        self.header_value = b""
        self.disposition = b""
        self.name = ""
        self.text: bytearray | None = None
        self.parser: MultipartParser | None = None
        if boundary:
            self.parser = MultipartParser(
                boundary,
                {
                    "on_part_begin": self._part_begin,
                    "on_header_field": self._header_field,
                    "on_header_value": self._header_value,
                    "on_header_end": self._header_end,
                    "on_headers_finished": self._headers_finished,
                    "on_part_data": self._part_data,
                    "on_part_end": self._part_end,
                },
            )

    def feed(self, chunk: bytes) -> FieldProblem | None:
        if self.parser is not None and self.problem is None and chunk:
            try:
                self.parser.write(chunk)
            except FormParserError:
                # Starlette's parser refuses the same bytes, with its own message.
                self.parser = None
        return self.problem

    def _decode(self, data: bytes | bytearray) -> str:
        try:
            return data.decode(self.charset)
        except (UnicodeDecodeError, LookupError):
            return data.decode("latin-1")

    def _fail(self, problem: FieldProblem | None) -> None:
        if self.problem is None:
            self.problem = problem

    def _part_begin(self) -> None:
        self.disposition = b""
        self.name = ""
        self.text = None

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self.header_name += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]

    def _header_end(self) -> None:
        if self.header_name.lower() == b"content-disposition":
            self.disposition = self.header_value
        self.header_name = self.header_value = b""

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self.disposition)
        self.name = self._decode(options.get(b"name", b""))
        self._fail(_text_problem(self.name, self.name))
        if b"filename" in options:
            filename = self._decode(options[b"filename"])
            problem = _text_problem(self.name, filename)
            if problem is not None:
                self._fail(FieldProblem(problem.field, f"file name {problem.message}"))
        else:
            self.text = bytearray()

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self.text is None:
            return
        self.text += data[start:end]
        if len(self.text) > self.max_text_bytes:
            message = f"a text field may hold at most {self.max_text_bytes} bytes"
            self._fail(FieldProblem(_shown(self.name), message))
            self.text = None

    def _part_end(self) -> None:
        if self.text is not None:
            self._fail(_text_problem(self.name, self._decode(self.text)))
        self.text = None


class _ClientLeft(Exception):
    pass


async def _read_at_most(receive: Receive, limit: int) -> bytes | None:
    """The whole body, or None as soon as it grows past ``limit`` (the rest is never read)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise _ClientLeft
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replaying(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


def _refusal(problem: FieldProblem, path: str) -> Response:
    detail = f"{problem.field}: {problem.message}"
    return error_response(InvalidInput(detail, [problem]), path)


def _too_large_response(limit: int, path: str) -> Response:
    return problem_response(
        413,
        "payload-too-large",
        "Payload too large",
        f"the request body is larger than the limit of {limit} bytes",
        instance=path,
        max_bytes=limit,
    )


async def _refuse(
    problem: FieldProblem, path: str, scope: Scope, receive: Receive, send: Send
) -> None:
    await _refusal(problem, path)(scope, receive, send)


async def _too_large(limit: int, path: str, scope: Scope, receive: Receive, send: Send) -> None:
    await _too_large_response(limit, path)(scope, receive, send)
