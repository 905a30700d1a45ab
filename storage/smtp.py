"""Talking to a mailbox's SMTP server: address checks, TLS, authentication, then the envelope
and the message, every step bounded.

The host is typed by a user and the service connects to it, so every address it resolves to is
checked (``core.mailbox_rules.refusal``) and the connection is made to a checked address, never
to a second lookup that could answer differently. A failure (:class:`SmtpFailure`) says which
step failed and carries the server's own answer when there was one.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
from dataclasses import dataclass, field
from typing import Any

import aiosmtplib

from core import telemetry
from core.delivery import error_text
from core.enums import SmtpStage, SmtpTlsMode
from core.mailbox_rules import refusal

# A server's answer is shown to the user; past this it is cut (a reply is one or a few lines).
MAX_MESSAGE_CHARS = 1_000
# Each step with a server is a CLIENT span (docs/observability.md).
_SMTP_SPAN = {"network.protocol.name": "smtp"}


@dataclass(frozen=True)
class SmtpEndpoint:
    """Where and how to connect; ``password`` is the opened secret and is never printed."""

    host: str
    port: int
    tls_mode: SmtpTlsMode
    username: str | None = None
    password: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class SmtpOutcome:
    """How far a connection got: ``stage`` is the last step done, or the one that failed."""

    ok: bool
    stage: SmtpStage
    code: int | None
    message: str


class SmtpFailure(Exception):
    """A step failed: ``stage`` names it, ``code`` is the server's reply when it refused
    (``None``: it did not answer, or the connection was lost). Its text reads
    ``rcpt: 550 mailbox unavailable``."""

    def __init__(self, stage: SmtpStage, code: int | None, message: str) -> None:
        self.stage = stage
        self.code = code
        self.message = _cut(message)
        super().__init__(f"{stage.value}: {error_text(code, self.message)}")

    @property
    def outcome(self) -> SmtpOutcome:
        """The failure as a connection test reports it."""
        return SmtpOutcome(ok=False, stage=self.stage, code=self.code, message=self.message)

    def __reduce__(self) -> tuple[Any, ...]:
        # Raised in a sender actor and read by its caller: Ray pickles it on the way.
        return type(self), (self.stage, self.code, self.message)


@dataclass
class SmtpConnection:
    """A connected (and, when the endpoint says so, encrypted and authenticated) client."""

    client: aiosmtplib.SMTP
    outcome: SmtpOutcome

    async def close(self, time_limit: float) -> None:
        """Say QUIT if the server still listens; drop the connection either way."""
        with contextlib.suppress(aiosmtplib.SMTPException, OSError, TimeoutError):
            async with asyncio.timeout(time_limit):
                await self.client.quit()
        self.client.close()


@telemetry.traced("SMTP connect", kind="client", attributes=_SMTP_SPAN)
async def connect(
    endpoint: SmtpEndpoint,
    *,
    allow_private: bool,
    time_limit: float,
    tls_context: ssl.SSLContext | None = None,
) -> SmtpConnection:
    """Connect, upgrade or start TLS as ``endpoint.tls_mode`` says, and log in when it names a
    user, all within ``time_limit`` seconds; raises :class:`SmtpFailure`.

    ``tls_context`` replaces the system's trusted certificates (a private CA); certificates and
    host names are always verified.
    """
    stage = SmtpStage.CONNECT
    client: aiosmtplib.SMTP | None = None
    try:
        async with asyncio.timeout(time_limit):
            sock = await _open_socket(endpoint, allow_private=allow_private)
            client = aiosmtplib.SMTP(
                hostname=endpoint.host,
                sock=sock,
                use_tls=endpoint.tls_mode is SmtpTlsMode.TLS,
                start_tls=False,
                tls_context=tls_context,
                timeout=time_limit,
            )
            if endpoint.tls_mode is SmtpTlsMode.TLS:
                # Past the TCP connect everything travels inside TLS: the greeting and EHLO
                # are the tls step too.
                stage = SmtpStage.TLS
            reply = await client.connect()
            await client.ehlo()
            if endpoint.tls_mode is SmtpTlsMode.STARTTLS:
                stage = SmtpStage.TLS
                if not client.supports_extension("starttls"):
                    raise SmtpFailure(stage, None, "the server does not offer STARTTLS")
                reply = await client.starttls()
                await client.ehlo()
            if endpoint.username:
                stage = SmtpStage.AUTH
                reply = await client.login(endpoint.username, endpoint.password or "")
            return SmtpConnection(
                client, SmtpOutcome(ok=True, stage=stage, code=reply.code, message=reply.message)
            )
    except BaseException as exc:
        if client is not None:
            client.close()
        if isinstance(exc, SmtpFailure):
            raise
        if isinstance(exc, TimeoutError):
            raise SmtpFailure(stage, None, f"no answer within {time_limit:g} s") from None
        if isinstance(exc, aiosmtplib.SMTPResponseException):
            raise SmtpFailure(stage, exc.code, exc.message) from None
        if isinstance(exc, aiosmtplib.SMTPException | OSError):
            if _tls_error(exc) is not None:
                stage = SmtpStage.TLS
            raise SmtpFailure(stage, None, _describe(exc)) from None
        raise


@telemetry.traced("SMTP MAIL RCPT", kind="client", attributes=_SMTP_SPAN)
async def send_envelope(
    connection: SmtpConnection, sender_email: str, to_email: str, time_limit: float
) -> None:
    """MAIL and RCPT for one message, each answered within ``time_limit`` seconds; a refusal
    or a lost connection is an :class:`SmtpFailure` at its step."""
    client = connection.client
    stage = SmtpStage.MAIL
    try:
        await client.mail(sender_email, timeout=time_limit)
        stage = SmtpStage.RCPT
        await client.rcpt(to_email, timeout=time_limit)
    except aiosmtplib.SMTPResponseException as refused:
        raise SmtpFailure(stage, refused.code, refused.message) from None
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        raise SmtpFailure(stage, None, _describe(exc)) from None


@telemetry.traced("SMTP DATA", kind="client", attributes=_SMTP_SPAN)
async def send_data(
    connection: SmtpConnection, raw: bytes, time_limit: float
) -> aiosmtplib.SMTPResponse:
    """DATA: the message itself, after :func:`send_envelope`; the server's acceptance, or an
    :class:`SmtpFailure` at ``data`` (``code`` ``None``: lost while under way, its fate
    unknown)."""
    try:
        return await connection.client.data(raw, timeout=time_limit)
    except aiosmtplib.SMTPResponseException as refused:
        raise SmtpFailure(SmtpStage.DATA, refused.code, refused.message) from None
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        raise SmtpFailure(SmtpStage.DATA, None, _describe(exc)) from None


async def probe(
    endpoint: SmtpEndpoint,
    *,
    allow_private: bool,
    time_limit: float,
    tls_context: ssl.SSLContext | None = None,
) -> SmtpOutcome:
    """Connect as :func:`connect` does, then hang up: the outcome, never an exception."""
    try:
        connection = await connect(
            endpoint, allow_private=allow_private, time_limit=time_limit, tls_context=tls_context
        )
    except SmtpFailure as failure:
        return failure.outcome
    await connection.close(time_limit)
    return connection.outcome


async def _open_socket(endpoint: SmtpEndpoint, *, allow_private: bool) -> socket.socket:
    """A TCP socket connected to the first address of the host that may be used and answers."""
    loop = asyncio.get_running_loop()
    try:
        found = await loop.getaddrinfo(endpoint.host, endpoint.port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise SmtpFailure(
            SmtpStage.CONNECT, None, f"cannot resolve {endpoint.host}: {exc.strerror}"
        ) from None
    allowed = []
    refused = []
    for family, kind, proto, _, address in found:
        reason = refusal(str(address[0]), allow_private=allow_private)
        if reason is None:
            allowed.append((family, kind, proto, address))
        else:
            refused.append(f"{address[0]} is {reason}")
    if not allowed:
        reasons = "; ".join(dict.fromkeys(refused))
        raise SmtpFailure(
            SmtpStage.CONNECT, None, f"refused to connect to {endpoint.host}: {reasons}"
        )
    error: OSError | None = None
    for family, kind, proto, address in allowed:
        sock = socket.socket(family, kind, proto)
        sock.setblocking(False)
        try:
            await loop.sock_connect(sock, address)
        except OSError as exc:
            sock.close()
            error = exc
            continue
        except BaseException:
            sock.close()
            raise
        return sock
    assert error is not None
    raise SmtpFailure(
        SmtpStage.CONNECT,
        None,
        f"cannot connect to {endpoint.host} port {endpoint.port}: {_describe(error)}",
    )


def _tls_error(exc: BaseException) -> ssl.SSLError | None:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, ssl.SSLError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def _describe(exc: BaseException) -> str:
    tls = _tls_error(exc)
    if isinstance(tls, ssl.SSLCertVerificationError):
        return f"TLS certificate not accepted: {tls.verify_message}"
    if tls is not None:
        return f"TLS failed: {tls.reason or tls}"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def _cut(message: str) -> str:
    message = message.strip()
    return message if len(message) <= MAX_MESSAGE_CHARS else message[:MAX_MESSAGE_CHARS] + "…"
