"""``Idempotency-Key`` on POST: a retried request gets the first answer instead of acting twice.

The first request with a key takes a short lock in Redis, runs, and stores its response for a
day (5xx answers are not stored, so they can be retried). A retry with the same key and body
replays the stored response with ``Idempotent-Replayed: true``; the same key with another body
is a 422; a retry while the first is still running is a 409. Keys are scoped to the caller (the
token's user and workspace, or the client address before login) and to the path.

Routes that hand out credentials (everything under ``/auth/``) ignore the header and always
run: a replay would give a spent refresh token's successor to whoever sends it again, which
defeats reuse detection, and would keep live tokens in Redis for a day. A retried refresh is
therefore a reuse, and the client logs in again, as it must whenever a refresh answer is lost.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from collections.abc import Awaitable
from typing import Any

from redis.asyncio import Redis
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.errors import Unauthorized
from core.tokens import decode_access_token
from serve.problems import problem_response
from serve.resources import Resources
from serve.security import client_address
from storage.outages import is_outage

log = logging.getLogger(__name__)

HEADER = b"idempotency-key"
LOCK_SECONDS = 60
KEEP_SECONDS = 24 * 3600
MAX_KEY_LENGTH = 200
# Register, login, refresh, logout and workspace switch: every answer holds tokens (or, for
# logout, acting again is harmless).
NEVER_REPLAYED = "/api/v1/auth/"


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        key = headers.get(HEADER)
        path = scope["path"]
        if key is None or path.startswith(NEVER_REPLAYED):
            await self.app(scope, receive, send)
            return
        text = key.decode("latin-1").strip()
        if not 1 <= len(text) <= MAX_KEY_LENGTH or not text.isprintable():
            await _problem(
                scope,
                receive,
                send,
                422,
                "validation-error",
                "Invalid input",
                f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable characters",
                path,
                errors=[{"field": "Idempotency-Key", "message": "invalid"}],
            )
            return
        resources = scope["app"].state.resources
        body, more = await _read_body(receive)
        caller = _caller(scope, headers, resources)
        fingerprint = hashlib.sha256(body).hexdigest()
        digest = hashlib.sha256(f"{caller}|{path}|{text}".encode()).hexdigest()
        redis_key = f"cm:idem:{digest}"
        redis: Redis = resources.redis

        pending = json.dumps({"state": "pending", "fingerprint": fingerprint})
        if not await redis.set(redis_key, pending, nx=True, ex=LOCK_SECONDS):
            stored = json.loads(await redis.get(redis_key) or b"{}")
            if stored.get("fingerprint") not in (None, fingerprint):
                await _problem(
                    scope,
                    receive,
                    send,
                    422,
                    "idempotency-key-reused",
                    "Invalid input",
                    "this Idempotency-Key was used with a different request body",
                    path,
                    errors=[{"field": "Idempotency-Key", "message": "reused"}],
                )
            elif stored.get("state") == "done":
                await _replay(stored, send)
            else:
                await _problem(
                    scope,
                    receive,
                    send,
                    409,
                    "idempotency-in-progress",
                    "Conflict",
                    "a request with this Idempotency-Key is still being processed",
                    path,
                )
            return

        response: dict[str, Any] = {"status": 500, "headers": [], "body": b""}

        async def replay_body() -> Message:
            nonlocal more
            if more is not None:
                message, more = more, None
                return message
            return await receive()

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                response["status"] = message["status"]
                response["headers"] = message.get("headers", [])
            elif message["type"] == "http.response.body":
                response["body"] += message.get("body", b"")
            await send(message)

        try:
            await self.app(scope, replay_body, capture)
        except BaseException:
            await _quietly(redis.delete(redis_key))
            raise
        if response["status"] >= 500:
            await _quietly(redis.delete(redis_key))
            return
        stored = {
            "state": "done",
            "fingerprint": fingerprint,
            "status": response["status"],
            "headers": [
                [k.decode("latin-1"), v.decode("latin-1")]
                for k, v in response["headers"]
                if k.lower() in {b"content-type", b"location"}
            ],
            "body": base64.b64encode(response["body"]).decode(),
        }
        await _quietly(redis.set(redis_key, json.dumps(stored), ex=KEEP_SECONDS))


async def _quietly(command: Awaitable[object]) -> None:
    """Run a Redis command whose failure must not change the answer: the request's own error
    is the one to report, or its answer has been sent. If Redis is down the key's lock expires
    within ``LOCK_SECONDS``, after which a retry runs again."""
    try:
        await command
    except Exception as exc:
        if not is_outage(exc):
            raise
        log.warning("idempotency key not updated, Redis is unavailable: %s", exc)


async def _read_body(receive: Receive) -> tuple[bytes, Message | None]:
    """The whole request body, and one message that rebuilds it for the app."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), message
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            body = b"".join(chunks)
            return body, {"type": "http.request", "body": body, "more_body": False}


def _caller(scope: Scope, headers: dict[bytes, bytes], resources: Resources) -> str:
    authorization = headers.get(b"authorization", b"").decode("latin-1")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() == "bearer" and token:
        try:
            claims = decode_access_token(resources.secret_key, token.strip())
            return f"user:{claims.user_id}:{claims.workspace_id}"
        except Unauthorized:
            pass
    return f"client:{client_address(scope, resources.settings.trusted_proxy_networks)}"


async def _replay(stored: dict[str, Any], send: Send) -> None:
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in stored["headers"]]
    headers.append((b"idempotent-replayed", b"true"))
    await send({"type": "http.response.start", "status": stored["status"], "headers": headers})
    await send({"type": "http.response.body", "body": base64.b64decode(stored["body"])})


async def _problem(
    scope: Scope,
    receive: Receive,
    send: Send,
    status: int,
    slug: str,
    title: str,
    detail: str,
    path: str,
    **extra: Any,
) -> None:
    response = problem_response(status, slug, title, detail, instance=path, **extra)
    await response(scope, receive, send)
