"""Every error leaves as ``application/problem+json`` (RFC 9457) with a stable ``type``.

An outage of PostgreSQL or Redis (told apart from other errors by ``storage/outages.py``) is a
503 ``/problems/service-unavailable`` with ``Retry-After`` and ``part`` naming what is down
(``database`` or ``cache``), wherever it surfaced: a route, a dependency, a middleware. It is
never a 500, and never a 401 or 404 made from a failed lookup.
"""

from __future__ import annotations

import json
import logging
import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.errors import (
    CampaignManagerError,
    FieldProblem,
    InvalidInput,
    RateLimited,
    ServiceUnavailable,
    Unauthorized,
)
from serve.headers import SECURITY_HEADERS
from storage.outages import RETRY_AFTER_SECONDS, Part, unavailable_part

log = logging.getLogger(__name__)

# Relative URI references, as RFC 9457 allows; stable across deployments.
PROBLEM_TYPE_BASE = "/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"


def problem_response(
    status: int,
    type_slug: str,
    title: str,
    detail: str,
    *,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + type_slug,
        "title": title,
        "status": status,
        "detail": detail,
    }
    if instance is not None:
        body["instance"] = instance
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, CampaignManagerError)
    return error_response(exc, request.url.path)


def error_response(exc: CampaignManagerError, instance: str) -> JSONResponse:
    """The problem+json answer for a domain error (also sent by middleware, before routing)."""
    extra: dict[str, Any] = {}
    headers: dict[str, str] = {}
    if isinstance(exc, InvalidInput):
        extra["errors"] = [{"field": p.field, "message": p.message} for p in exc.problems]
    if isinstance(exc, RateLimited):
        headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after)))
    if isinstance(exc, Unauthorized):
        headers["WWW-Authenticate"] = "Bearer"
    if isinstance(exc, ServiceUnavailable):
        headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return problem_response(
        exc.status, exc.type, exc.title, exc.detail, instance=instance, headers=headers, **extra
    )


# How each part is named to clients.
_PART_NAMES: dict[Part, str] = {"database": "the database (PostgreSQL)", "cache": "Redis"}


def unavailable_response(part: Part, instance: str) -> JSONResponse:
    """503 with ``Retry-After``: ``part`` (``database`` or ``cache``) is down or not answering."""
    return problem_response(
        503,
        "service-unavailable",
        "Service unavailable",
        f"{_PART_NAMES[part]} is unavailable; try again in a few seconds",
        instance=instance,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        part=part,
    )


class OutageMiddleware:
    """Answers 503 (see :func:`unavailable_response`) for an outage of PostgreSQL or Redis raised
    anywhere inside it, before any of the response was sent; every other error passes on to the
    500 handler. Installed outside the middlewares that use Redis themselves (idempotency)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception as exc:
            part = unavailable_part(exc)
            if part is None or started:
                raise
            log.warning(
                "%s %s: 503, the %s is unavailable (%s: %s)",
                scope["method"],
                scope["path"],
                part,
                type(exc).__name__,
                str(exc)[:200],
            )
            await unavailable_response(part, scope["path"])(scope, receive, send)


def unreadable_json(error: Exception) -> str:
    """Why a JSON body could not be read, for a 422 naming ``body``."""
    if isinstance(error, json.JSONDecodeError):
        return f"invalid JSON: {error.msg} at character {error.pos}"
    if isinstance(error, UnicodeDecodeError):
        return "invalid JSON: the body is not UTF-8 text"
    if isinstance(error, RecursionError):
        return "invalid JSON: nested too deeply"
    return f"invalid JSON: {error}"


def _body_problem(message: str, instance: str) -> JSONResponse:
    return error_response(InvalidInput(message, [FieldProblem("body", message)]), instance)


def _field_name(location: tuple[Any, ...] | list[Any]) -> str:
    # ("body", "budget", "amount") -> "budget.amount"; ("query", "limit") -> "limit"
    parts = [str(part) for part in location]
    if parts and parts[0] in {"body", "query", "path", "header", "cookie"}:
        parts = parts[1:]
    return ".".join(parts) or "body"


def _field_error(error: Any) -> dict[str, str]:
    if error["type"] == "json_invalid":
        # FastAPI puts the character position where a field name would be.
        position = error["loc"][-1]
        reason = error.get("ctx", {}).get("error", error["msg"])
        return {"field": "body", "message": f"invalid JSON: {reason} at character {position}"}
    return {"field": _field_name(error["loc"]), "message": error["msg"]}


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [_field_error(error) for error in exc.errors()]
    fields = ", ".join(dict.fromkeys(e["field"] for e in errors))
    return problem_response(
        422,
        "validation-error",
        "Invalid input",
        f"invalid fields: {fields}",
        instance=request.url.path,
        errors=errors,
    )


# FastAPI's answer when reading a JSON body raised anything but a JSONDecodeError (text that is
# not UTF-8, for one); Starlette answers broken form data with a bare 400 too. The body is the
# client's input, so either is a 422 like any other.
_UNREADABLE_BODY = "There was an error parsing the body"


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400:
        if isinstance(exc.__context__, MultiPartException):
            return _body_problem(f"invalid form data: {exc.detail}", request.url.path)
        if exc.detail == _UNREADABLE_BODY and isinstance(exc.__cause__, Exception):
            return _body_problem(unreadable_json(exc.__cause__), request.url.path)
    slug = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "http-error")
    title = {404: "Not found", 405: "Method not allowed"}.get(exc.status_code, "HTTP error")
    return problem_response(
        exc.status_code,
        slug,
        title,
        str(exc.detail),
        instance=request.url.path,
        headers=dict(exc.headers or {}),
    )


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    # Sent from outside every middleware, so it brings the headers they would have added.
    return problem_response(
        500,
        "internal-error",
        "Internal error",
        "the server failed to handle this request",
        instance=request.url.path,
        headers=dict(SECURITY_HEADERS),
    )


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(CampaignManagerError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
