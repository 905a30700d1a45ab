"""Who is calling: the bearer token, the member it stands for, what their role allows, and the
address the request came from."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from ipaddress import ip_address

from starlette.types import Scope

from core.enums import Role
from core.errors import Forbidden, Unauthorized
from core.settings import IPNetwork

UNKNOWN_ADDRESS = "unknown"


@dataclass(frozen=True)
class Principal:
    """An authenticated member acting in one workspace."""

    user_id: uuid.UUID
    workspace_id: uuid.UUID
    role: Role
    token_id: str

    def require(self, role: Role, action: str) -> None:
        if not self.role.at_least(role):
            raise Forbidden(
                f"{with_article(self.role)} cannot {action}; it needs the {role} role or higher"
            )


def with_article(word: str) -> str:
    """``"an editor"``, ``"a viewer"``: every role name reads as it sounds."""
    return f"{'an' if word[:1].lower() in 'aeio' else 'a'} {word}"


def bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise Unauthorized("missing Authorization: Bearer <access token>")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Authorization must be 'Bearer <access token>'")
    return token.strip()


def client_address(scope: Scope, trusted_proxies: Iterable[IPNetwork]) -> str:
    """The address of whoever sent the request, for limits and logs.

    The connecting peer, unless it is one of ``trusted_proxies``: then ``X-Forwarded-For`` is
    read from the right (each proxy appends the address it saw) and the first address that is
    not itself a trusted proxy is the client. Anything left of it was written by the client and
    proves nothing.
    """
    client = scope.get("client")
    peer = _normalized(client[0]) if client else UNKNOWN_ADDRESS
    networks = tuple(trusted_proxies)
    if not _is_trusted(peer, networks):
        return peer
    forwarded = b",".join(v for k, v in scope.get("headers", ()) if k == b"x-forwarded-for")
    hops = [h.strip() for h in forwarded.decode("latin-1").split(",") if h.strip()]
    for hop in reversed(hops):
        address = _normalized(_without_port(hop))
        if not _is_trusted(address, networks):
            return address
    # Every hop is a trusted proxy: the leftmost one is where the request entered.
    return _normalized(_without_port(hops[0])) if hops else peer


def request_over_tls(scope: Scope, trusted_proxies: Iterable[IPNetwork]) -> bool:
    """Whether the client reached us over TLS: the connection itself (uvicorn serving https), or
    a trusted proxy (``CM_TRUSTED_PROXIES``) that terminated TLS and says so in the first value
    of ``X-Forwarded-Proto``. From anyone else the header proves nothing."""
    if scope.get("scheme") in {"https", "wss"}:
        return True
    client = scope.get("client")
    peer = _normalized(client[0]) if client else UNKNOWN_ADDRESS
    if not _is_trusted(peer, tuple(trusted_proxies)):
        return False
    proto = next((v for k, v in scope.get("headers", ()) if k == b"x-forwarded-proto"), b"")
    return proto.split(b",")[0].strip().lower() == b"https"


def _without_port(hop: str) -> str:
    if hop.startswith("["):  # "[2001:db8::1]:443"
        return hop[1:].partition("]")[0]
    host, colon, port = hop.rpartition(":")
    return host if colon and "." in host and port.isdigit() else hop


def _normalized(host: str) -> str:
    try:
        return str(ip_address(host))
    except ValueError:
        # Not an address (a unix socket, or garbage a trusted proxy passed on): kept short, as
        # it becomes part of Redis keys.
        return host[:64] or UNKNOWN_ADDRESS


def _is_trusted(host: str, networks: tuple[IPNetwork, ...]) -> bool:
    if not networks:
        return False
    try:
        address = ip_address(host)
    except ValueError:
        return False
    return any(address in network for network in networks)
