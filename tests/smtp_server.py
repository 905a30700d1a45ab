"""Real SMTP servers on loopback for the tests (aiosmtpd, in the test's event loop): plain, with
a login, with STARTTLS or implicit TLS under a certificate made for the test."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import ipaddress
import ssl
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

USER = "dj@label.example"
PASSWORD = "s3cret-smtp-pass"


@dataclass
class Certificate:
    """A self-signed certificate for 127.0.0.1 and localhost, and contexts for both ends."""

    cert_pem: bytes
    key_pem: bytes

    def server_context(self, folder: Path) -> ssl.SSLContext:
        cert, key = folder / "cert.pem", folder / "key.pem"
        cert.write_bytes(self.cert_pem)
        key.write_bytes(self.key_pem)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        return context

    def client_context(self) -> ssl.SSLContext:
        """Trusts this certificate only, and still checks the host name."""
        return ssl.create_default_context(cadata=self.cert_pem.decode())


def make_certificate() -> Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return Certificate(
        cert_pem=cert.public_bytes(serialization.Encoding.PEM),
        key_pem=key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )


@dataclass
class Sink:
    """Keeps every message the server accepted."""

    messages: list[Envelope] = field(default_factory=list)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.messages.append(envelope)
        return "250 Message accepted"


def _authenticator(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    good = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == USER.encode()
        and auth_data.password == PASSWORD.encode()
    )
    return AuthResult(success=good, handled=False)


@dataclass
class SmtpServer:
    host: str
    port: int
    sink: Sink


@asynccontextmanager
async def smtp_server(
    *,
    auth: bool = False,
    starttls: ssl.SSLContext | None = None,
    implicit_tls: ssl.SSLContext | None = None,
) -> AsyncIterator[SmtpServer]:
    """A server on a free loopback port; with ``auth``, it takes :data:`USER` and
    :data:`PASSWORD` (over plain text too, as a local relay may) and refuses other logins."""
    sink = Sink()
    options: dict[str, Any] = {"hostname": "mx.test", "ident": "Test ESMTP"}
    if auth:
        # Not auth_required: aiosmtpd warns about requiring it without TLS, and the tests only
        # need its answers to a login.
        options |= {"authenticator": _authenticator, "auth_require_tls": starttls is not None}
    if starttls is not None:
        options |= {"tls_context": starttls, "require_starttls": True}
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(sink, **options), host="127.0.0.1", port=0, ssl=implicit_tls
    )
    port = server.sockets[0].getsockname()[1]
    try:
        yield SmtpServer(host="127.0.0.1", port=port, sink=sink)
    finally:
        server.close()
        await server.wait_closed()


@asynccontextmanager
async def silent_server() -> AsyncIterator[int]:
    """Accepts connections and never says a word (a server that hangs); yields its port."""
    held: list[asyncio.StreamWriter] = []

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, host="127.0.0.1", port=0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()


@dataclass
class Received:
    """One message a :class:`Recorder` accepted: to whom, its Message-ID, when."""

    to: str
    message_id: str
    at: float
    data: bytes


@dataclass
class Recorder:
    """A sink that records receive times and answers as told: ``refuse`` maps an address to
    the code its RCPT gets every time (550: a hard bounce); ``refuse_once`` to a code its
    first RCPT gets (421: try later)."""

    received: list[Received] = field(default_factory=list)
    refuse: dict[str, int] = field(default_factory=dict)
    refuse_once: dict[str, int] = field(default_factory=dict)
    refused: list[tuple[str, int]] = field(default_factory=list)
    # Addresses whose RCPT makes the server hang up without an answer.
    hang_up: set[str] = field(default_factory=set)
    # Seconds each DATA takes to answer (a slower server keeps sends in flight for longer).
    delay: float = 0.0

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if address in self.hang_up:
            if server.transport is not None:
                server.transport.close()
            return "421 closing"
        code = self.refuse.get(address) or self.refuse_once.pop(address, None)
        if code is not None:
            self.refused.append((address, code))
            return f"{code} {'mailbox unavailable' if code >= 500 else 'try again later'}"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        data = envelope.content if isinstance(envelope.content, bytes) else b""
        message_id = ""
        for line in data.split(b"\r\n"):
            if line.lower().startswith(b"message-id:"):
                message_id = line.split(b":", 1)[1].strip().decode()
                break
            if not line:
                break
        for to in envelope.rcpt_tos:
            self.received.append(Received(to, message_id, time.time(), data))
        return "250 Message accepted"


@asynccontextmanager
async def recording_server(recorder: Recorder, *, port: int = 0) -> AsyncIterator[SmtpServer]:
    """A plain server on loopback (``port`` 0: a free one) that answers through ``recorder``."""
    loop = asyncio.get_running_loop()
    sessions: list[SMTP] = []

    def session() -> SMTP:
        protocol = SMTP(recorder, hostname="mx.test", ident="Test ESMTP", decode_data=False)
        sessions.append(protocol)
        return protocol

    server = await loop.create_server(session, host="127.0.0.1", port=port)
    bound = server.sockets[0].getsockname()[1]
    try:
        yield SmtpServer(host="127.0.0.1", port=bound, sink=Sink())
    finally:
        server.close()
        # Drop live connections too: a server that dies closes them all.
        for protocol in sessions:
            transport = protocol.transport
            if transport is not None:
                with contextlib.suppress(Exception):
                    transport.abort()  # type: ignore[attr-defined]
        await server.wait_closed()
