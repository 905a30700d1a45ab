"""Sender actors: build each message, hold SMTP connections, keep each mailbox's limits.

An outreach actor hands a :class:`SendJob` (a batch of claimed records, with what their messages
are built from) to one of a small pool of named sender actors. The sender renders every message
in its template children, then sends them over its pooled connections to the mailbox's server,
or writes them to the outbox folder when the outreach has no mailbox. Before each SMTP send it
takes a grant from the mailbox's limiter in Redis (per minute, per day, the gap), which every
sender in the cluster shares. It answers one :class:`~core.delivery.Delivery` per message and
writes nothing to the database: the outreach actor is the single writer of its records.

What a sender can and cannot know about a message (see ``core.delivery``): a refusal of MAIL or
RCPT, or a dropped connection before DATA, means the message was not taken; a reply to DATA says
whether it was; a connection lost while the message's DATA was under way leaves it ``unknown``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import aiosmtplib
import ray

from actors.named import named_actor
from core import metrics, telemetry
from core.delivery import Delivery, Result, from_reply
from core.enums import SmtpStage
from core.errors import InvalidInput, ServiceUnavailable
from core.mailbox_rules import SendingLimits
from core.messages import MailAddress, TrackingLinks, build_message
from core.notices import parse_smtp_url
from core.settings import Settings
from core.template_runner import RenderLimits, TemplateRunner
from core.templating import RenderedEmail, TemplateContext
from storage.mailbox_limiter import Grant, MailboxLimiter
from storage.outbox import Outbox
from storage.redis_client import create_redis
from storage.send_ledger import SendLedger
from storage.smtp import (
    SmtpConnection,
    SmtpEndpoint,
    SmtpFailure,
    connect,
    send_data,
    send_envelope,
)

log = logging.getLogger(__name__)

# A limiter wait this short is slept through; a longer one hands the rest of the batch back.
MAX_LIMIT_SLEEP_SECONDS = 5.0
# A message held back because Redis or the renderers did not answer waits this long.
LEDGER_RETRY = timedelta(seconds=30)


def sender_name(index: int) -> str:
    return f"smtp-sender-{index}"


@dataclass(frozen=True)
class MailboxSpec:
    """Where a batch goes and how fast: the server, its limits, today's cap."""

    mailbox_id: uuid.UUID
    endpoint: SmtpEndpoint
    limits: SendingLimits
    # Today's cap of the mailbox, as it ramps up (the outreach's own daily limit is kept by
    # its actor, which claims no more than it allows).
    day_cap: int

    @property
    def pool_key(self) -> tuple[Any, ...]:
        """Connections are shared by batches that connect the same way (a changed password
        opens new ones)."""
        e = self.endpoint
        return (self.mailbox_id, e.host, e.port, e.tls_mode, e.username, e.password)


@dataclass(frozen=True)
class MessageSpec:
    """One claimed record's message."""

    record_id: uuid.UUID
    # The record's claim count: its entry in the send ledger.
    claim: int
    to_email: str
    to_name: str
    message_id: str
    # The template's parts (subject, body_html, body_text) for the record's step.
    parts: Mapping[str, str]
    # ``TemplateContext.to_data()`` without the unsubscribe link, which the sender makes.
    context: Mapping[str, Any]


@dataclass(frozen=True)
class SendJob:
    workspace_id: uuid.UUID
    sender: MailAddress
    messages: Sequence[MessageSpec]
    # ``None``: the outbox folder.
    mailbox: MailboxSpec | None = None


@dataclass
class _Pool:
    """Idle connections of one mailbox, and how many may be open at once."""

    size: int
    idle: list[SmtpConnection] = field(default_factory=list)
    slots: asyncio.Semaphore = field(init=False)

    def __post_init__(self) -> None:
        self.slots = asyncio.Semaphore(self.size)


class _ServerDown(Exception):
    """The connection could not be made or was lost before a message was handed over."""

    def __init__(self, code: int | None, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Sender:
    """The work of one sender actor (plain asyncio; the actor wraps it)."""

    def __init__(self, settings: Settings) -> None:
        if settings.redis_url is None or settings.secret_key is None:
            raise ValueError("resolve CM_REDIS_URL and CM_SECRET_KEY before starting a sender")
        self.settings = settings
        self._redis = create_redis(settings.redis_url)
        self._limiter = MailboxLimiter(self._redis)
        self._ledger = SendLedger(self._redis)
        self._templates = TemplateRunner(
            RenderLimits(seconds=settings.template_render_seconds, workers=2)
        )
        self._outbox = Outbox.in_data_dir(settings.data_dir)
        self._pools: dict[tuple[Any, ...], _Pool] = {}
        self._rng = random.Random()
        self._secret = settings.secret_key.get_secret_value()

    async def deliver(self, job: SendJob) -> list[Delivery]:
        """Build and send every message of ``job``; one delivery per message, in order.

        Messages are rendered (as many at once as there are template children) while the
        connections send those already built, so neither waits for the whole batch."""
        built: asyncio.Queue[tuple[MessageSpec, bytes] | None] = asyncio.Queue()
        unbuilt: dict[uuid.UUID, Delivery] = {}
        consumers = 1 if job.mailbox is None else self._pool_of(job.mailbox).size
        slots = asyncio.Semaphore(self._templates.limits.workers)

        async def build(spec: MessageSpec) -> None:
            async with slots:
                item = await self._build(spec, job.sender)
            if isinstance(item, Delivery):
                unbuilt[spec.record_id] = item
            else:
                built.put_nowait(item)

        async def build_all() -> None:
            try:
                await asyncio.gather(*(build(spec) for spec in job.messages))
            finally:
                for _ in range(consumers):
                    built.put_nowait(None)

        producer = asyncio.create_task(build_all())
        try:
            if job.mailbox is None:
                sent = await self._to_outbox(job.workspace_id, built)
            else:
                sent = await self._over_smtp(job.mailbox, job.sender, built, producer)
            await producer
        finally:
            if not producer.done():
                producer.cancel()
            await self._ledger.flush()
        outcome = {d.record_id: d for d in sent} | unbuilt
        deliveries = [outcome[spec.record_id] for spec in job.messages]
        transport = "outbox" if job.mailbox is None else "smtp"
        for result, count in Counter(d.result for d in deliveries).items():
            metrics.SENDS.inc(count, outcome=result.value, transport=transport)
        return deliveries

    def _pool_of(self, mailbox: MailboxSpec) -> _Pool:
        pool = self._pools.get(mailbox.pool_key)
        if pool is None:
            pool = self._pools[mailbox.pool_key] = _Pool(self.settings.smtp_connections)
        return pool

    async def _build(
        self, spec: MessageSpec, sender: MailAddress
    ) -> tuple[MessageSpec, bytes] | Delivery:
        links = TrackingLinks.for_record(self.settings.public_url, self._secret, spec.record_id)
        data = dict(spec.context)
        data["unsubscribe_url"] = links.unsubscribe_url
        try:
            rendered = await self._templates.render_parts(
                spec.parts, TemplateContext.from_data(data)
            )
            message = build_message(
                RenderedEmail(
                    subject=rendered.get("subject", ""),
                    html=rendered.get("body_html", ""),
                    text=rendered.get("body_text", ""),
                ),
                sender=sender,
                recipient=MailAddress(spec.to_email, spec.to_name),
                message_id=spec.message_id,
                links=links,
                date=datetime.now(UTC),
            )
        except InvalidInput as exc:
            # The template cannot be rendered for this recipient: nothing was sent.
            return Delivery(spec.record_id, Result.FAILED, message=f"the template failed: {exc}")
        except ServiceUnavailable as exc:
            # No renderer free: later, not at once (a tight loop would only ask again).
            return _later(spec, exc)
        return spec, message.as_bytes()

    async def _to_outbox(
        self,
        workspace_id: uuid.UUID,
        built: asyncio.Queue[tuple[MessageSpec, bytes] | None],
    ) -> list[Delivery]:
        deliveries = []
        while (item := await built.get()) is not None:
            spec, raw = item
            try:
                if not await self._ledger.begin_data(spec.record_id, spec.claim):
                    deliveries.append(_taken_back(spec))
                    continue
            except ServiceUnavailable as exc:
                deliveries.append(_later(spec, exc))
                continue
            try:
                await self._outbox.write_bytes(workspace_id, spec.record_id, raw)
            except OSError as exc:
                # Not written (a full disk): nothing went anywhere, and the folder itself failed.
                deliveries.append(
                    Delivery(
                        spec.record_id,
                        Result.NOT_ATTEMPTED,
                        message=f"the outbox folder could not be written: {exc}",
                        server_failure=True,
                    )
                )
            else:
                deliveries.append(Delivery(spec.record_id, Result.SENT, at=datetime.now(UTC)))
            self._ledger.finish_soon(spec.claim, deliveries[-1])
        return deliveries

    async def _over_smtp(
        self,
        mailbox: MailboxSpec,
        sender: MailAddress,
        built: asyncio.Queue[tuple[MessageSpec, bytes] | None],
        producer: asyncio.Task[None],
    ) -> list[Delivery]:
        """Send what ``built`` yields over the mailbox's pooled connections, one worker per
        connection, until each worker has taken its end marker."""
        pool = self._pool_of(mailbox)
        results: list[Delivery] = []
        # Set when the rest of the batch must be handed back (a limit for the day, a server
        # that is down): every worker stops sending and hands back what it takes.
        stop: list[Delivery] = []

        async def work() -> None:
            connection: SmtpConnection | None = None
            # A worker holds one of the mailbox's slots while it sends: batches sent at once
            # by this sender share the mailbox's connections, never more.
            async with pool.slots:
                try:
                    while (item := await built.get()) is not None:
                        spec, raw = item
                        if stop:
                            results.append(_handed_back(spec, stop[0]))
                            continue
                        delivery, connection = await self._send_one(
                            mailbox, pool, connection, sender, spec, raw
                        )
                        results.append(delivery)
                        if delivery.result is Result.NOT_ATTEMPTED:
                            stop.append(delivery)
                finally:
                    if connection is not None:
                        pool.idle.append(connection)

        await asyncio.gather(*(work() for _ in range(pool.size)))
        return results

    async def _send_one(
        self,
        mailbox: MailboxSpec,
        pool: _Pool,
        connection: SmtpConnection | None,
        sender: MailAddress,
        spec: MessageSpec,
        raw: bytes,
    ) -> tuple[Delivery, SmtpConnection | None]:
        """Send one message; returns its delivery and the connection to keep using (``None``
        when it was lost)."""
        fresh = connection is None and not pool.idle
        try:
            if connection is None:
                connection = pool.idle.pop() if pool.idle else await self._connect(mailbox)
        except _ServerDown as down:
            return self._down(spec, down), None
        grant = await self._take_grant(mailbox)
        if not isinstance(grant, Grant):
            return Delivery(
                spec.record_id,
                Result.NOT_ATTEMPTED,
                message=grant[1],
                retry_at=grant[0],
            ), connection
        delivery, kept = await self._hand_over(grant, connection, sender, spec, raw, fresh)
        if kept is None and not fresh and delivery.result is Result.NOT_ATTEMPTED:
            # A kept connection the server had since closed (an idle timeout, a restart):
            # nothing was handed over, so one new connection gets the same message.
            try:
                connection = await self._connect(mailbox)
            except _ServerDown as down:
                await self._refund(grant)
                delivery = self._down(spec, down)
            else:
                delivery, kept = await self._hand_over(grant, connection, sender, spec, raw, True)
        return delivery, kept

    async def _hand_over(
        self,
        grant: Grant,
        connection: SmtpConnection,
        sender: MailAddress,
        spec: MessageSpec,
        raw: bytes,
        fresh: bool,
    ) -> tuple[Delivery, SmtpConnection | None]:
        """MAIL, RCPT, DATA for one started message (see the module). A connection lost
        before DATA gives the grant back only if it was ``fresh`` (the caller tries once more
        over a new connection otherwise)."""
        timeout = self.settings.smtp_timeout_seconds
        try:
            try:
                await send_envelope(connection, sender.email, spec.to_email, timeout)
            except SmtpFailure as failure:
                if failure.code is not None:
                    await self._refund(grant)
                    return await self._refused_before_data(spec, connection, failure)
                # Nothing of the message was handed over.
                await self._drop(connection)
                if not fresh:
                    # A kept connection: the caller tries once more over a new one.
                    return self._down(spec, _ServerDown(None, failure.message)), None
                # A new connection that greeted us, then hung up at this message: the message
                # is the likely cause, so it is tried again later and counted (up to the
                # attempts a message gets), and the rest of the batch goes on.
                await self._refund(grant)
                return Delivery(
                    spec.record_id,
                    Result.RETRY,
                    message=f"the server closed the connection at this message ({failure.message})",
                    at=datetime.now(UTC),
                ), None
            refused_now = await self._enter_data(grant, spec)
            if refused_now is not None:
                return refused_now, await self._reset(connection)
            try:
                reply = await send_data(connection, raw, timeout)
            except SmtpFailure as failure:
                if failure.code is not None:
                    result = from_reply(failure.code)
                    # A refusal of the message itself is not the address's fault: failed, not
                    # a bounce, unless temporary.
                    if result is Result.BOUNCED:
                        result = Result.FAILED
                    delivery = _answered(spec, failure.code, failure.message, result)
                    self._ledger.finish_soon(spec.claim, delivery)
                    return delivery, await self._reset(connection)
                await self._drop(connection)
                delivery = Delivery(
                    spec.record_id,
                    Result.UNKNOWN,
                    message="the connection was lost while the message was being sent "
                    f"({failure.message}); it may or may not have been delivered",
                    at=datetime.now(UTC),
                    server_failure=True,
                )
                self._ledger.finish_soon(spec.claim, delivery)
                return delivery, None
        except asyncio.CancelledError:
            await self._drop(connection)
            raise
        delivery = _answered(spec, reply.code, reply.message)
        self._ledger.finish_soon(spec.claim, delivery)
        return delivery, connection

    async def _enter_data(self, grant: Grant, spec: MessageSpec) -> Delivery | None:
        """Move the message's claim to DATA in the send ledger; or, when it may not go (its
        claim was taken back, the ledger does not answer), give the grant back and say why."""
        try:
            if await self._ledger.begin_data(spec.record_id, spec.claim):
                return None
            refused = _taken_back(spec)
        except ServiceUnavailable as exc:
            refused = _later(spec, exc)
        await self._refund(grant)
        return refused

    async def _refused_before_data(
        self,
        spec: MessageSpec,
        connection: SmtpConnection,
        refused: SmtpFailure,
    ) -> tuple[Delivery, SmtpConnection | None]:
        """MAIL or RCPT refused: a 5xx to the recipient is a hard bounce, a 4xx a retry; a
        refusal of the sender (MAIL) is the mailbox's problem and stops the batch."""
        assert refused.code is not None
        alive = await self._reset(connection)
        if refused.stage is SmtpStage.MAIL:
            return self._down(spec, _ServerDown(refused.code, refused.message)), alive
        return _answered(spec, refused.code, refused.message), alive

    def _down(self, spec: MessageSpec, down: _ServerDown) -> Delivery:
        return Delivery(
            spec.record_id,
            Result.NOT_ATTEMPTED,
            code=down.code,
            message=down.message,
            server_failure=True,
        )

    async def _connect(self, mailbox: MailboxSpec) -> SmtpConnection:
        try:
            return await connect(
                mailbox.endpoint,
                allow_private=self.settings.smtp_allow_private_hosts,
                time_limit=self.settings.smtp_timeout_seconds,
            )
        except SmtpFailure as failure:
            raise _ServerDown(failure.code, f"{failure.stage.value}: {failure.message}") from None

    async def _take_grant(self, mailbox: MailboxSpec) -> Grant | tuple[datetime, str]:
        """A grant to send now, or when the next send may go and why not now. Short waits
        (the gap, the minute) are slept through."""
        while True:
            try:
                answer = await self._limiter.acquire(
                    mailbox.mailbox_id,
                    mailbox.limits,
                    day_cap=mailbox.day_cap,
                    gap_seconds=mailbox.limits.draw_gap(self._rng),
                )
            except ServiceUnavailable as exc:
                return datetime.now(UTC) + timedelta(seconds=30), str(exc)
            if isinstance(answer, Grant):
                return answer
            if answer.wait_seconds > MAX_LIMIT_SLEEP_SECONDS:
                return answer.retry_at, f"held by the mailbox's {answer.reason.value} limit"
            await asyncio.sleep(answer.wait_seconds)

    async def _refund(self, grant: Grant) -> None:
        with contextlib.suppress(ServiceUnavailable):
            await self._limiter.refund(grant)

    async def _reset(self, connection: SmtpConnection) -> SmtpConnection | None:
        """RSET after a refused message; a connection that does not take it is dropped."""
        try:
            await connection.client.rset(timeout=self.settings.smtp_timeout_seconds)
        except (aiosmtplib.SMTPException, OSError, TimeoutError):
            await self._drop(connection)
            return None
        return connection

    async def _drop(self, connection: SmtpConnection) -> None:
        connection.client.close()

    async def deliver_notice(
        self,
        workspace_id: uuid.UUID,
        notice_id: uuid.UUID,
        to: str,
        raw: bytes,
        smtp_url: str | None,
    ) -> str:
        """Send a notice (``core/notices.py``) through ``smtp_url`` (the caller's
        ``CM_SMTP_URL``), or write it to the workspace's outbox folder when there is none;
        returns where it went.

        Raises:
            SmtpFailure: the relay could not be reached or refused the notice, at the step
                it failed (``connect``, ``tls``, ``auth``, ``mail``, ``rcpt``, ``data``), with
                what the server said.
            OSError: the outbox folder could not be written.
        """
        if smtp_url is None:
            await self._outbox.write_bytes(workspace_id, notice_id, raw)
            return "outbox"
        relay = parse_smtp_url(smtp_url)
        endpoint = SmtpEndpoint(
            host=relay.host,
            port=relay.port,
            tls_mode=relay.tls_mode,
            username=relay.username,
            password=relay.password,
        )
        timeout = self.settings.smtp_timeout_seconds
        connection = await connect(
            endpoint, allow_private=self.settings.smtp_allow_private_hosts, time_limit=timeout
        )
        try:
            await send_envelope(connection, relay.sender, to, timeout)
            await send_data(connection, raw, timeout)
        finally:
            await connection.close(timeout)
        return "smtp"

    async def close(self) -> None:
        for pool in self._pools.values():
            for connection in pool.idle:
                await connection.close(1.0)
        await self._templates.close()
        await self._redis.aclose()


def _answered(spec: MessageSpec, code: int, message: str, result: Result | None = None) -> Delivery:
    """The server's final answer to a message (``result`` overrides what its code says)."""
    return Delivery(
        spec.record_id,
        result or from_reply(code),
        code=code,
        message=message,
        at=datetime.now(UTC),
    )


def _handed_back(spec: MessageSpec, why: Delivery) -> Delivery:
    """A message not tried because an earlier one of its batch stopped the batch."""
    return Delivery(
        spec.record_id,
        Result.NOT_ATTEMPTED,
        code=why.code,
        message=why.message,
        retry_at=why.retry_at,
        server_failure=why.server_failure,
    )


def _later(spec: MessageSpec, why: ServiceUnavailable) -> Delivery:
    """Not sent because Redis or the renderers did not answer: again in a while, not at once
    (a tight loop would only ask again)."""
    return Delivery(
        spec.record_id,
        Result.NOT_ATTEMPTED,
        message=str(why),
        retry_at=datetime.now(UTC) + LEDGER_RETRY,
    )


def _taken_back(spec: MessageSpec) -> Delivery:
    return Delivery(
        spec.record_id, Result.NOT_ATTEMPTED, message="taken back by a restarted outreach actor"
    )


@ray.remote
class SenderActor:
    """One sender of the pool; Ray restarts it after a crash (its pools start empty)."""

    def __init__(self, settings: Settings) -> None:
        telemetry.setup(settings, "sender")
        self._sender = Sender(settings)

    async def deliver(self, job: SendJob, carrier: dict[str, str] | None = None) -> list[Delivery]:
        with telemetry.continued(carrier, "SenderActor.deliver"):
            return await self._sender.deliver(job)

    async def notice(
        self,
        workspace_id: uuid.UUID,
        notice_id: uuid.UUID,
        to: str,
        raw: bytes,
        smtp_url: str | None,
        carrier: dict[str, str] | None = None,
    ) -> str:
        with telemetry.continued(carrier, "SenderActor.notice"):
            return await self._sender.deliver_notice(workspace_id, notice_id, to, raw, smtp_url)

    async def ping(self) -> bool:
        return True


async def send_notice(
    settings: Settings, workspace_id: uuid.UUID, notice_id: uuid.UUID, to: str, raw: bytes
) -> str:
    """Deliver a notice through a sender actor (in this process when it is not connected to
    Ray, as in a test of the app alone); returns where it went."""
    if ray.is_initialized():
        actor = await asyncio.to_thread(lambda: sender_pool(settings)[0])
        try:
            where: str = await actor.notice.remote(
                workspace_id, notice_id, to, raw, settings.smtp_url, carrier=telemetry.carry()
            )
        except ray.exceptions.RayTaskError as failed:
            # The sender's own exception, as in-process: its text is what the server said, not
            # the actor's traceback.
            if isinstance(failed.cause, Exception):
                raise failed.cause from failed
            raise
        return where
    sender = Sender(settings)
    try:
        return await sender.deliver_notice(workspace_id, notice_id, to, raw, settings.smtp_url)
    finally:
        await sender.close()


def sender_pool(settings: Settings) -> list[Any]:
    """The cluster's sender actors (``CM_SENDER_ACTORS`` of them), started on first use and
    spread over the cluster's nodes (losing a node loses only its share; Ray restarts those)."""
    return [
        named_actor(SenderActor, sender_name(index), settings, scheduling_strategy="SPREAD")
        for index in range(settings.sender_actors)
    ]


__all__ = [
    "MailboxSpec",
    "MessageSpec",
    "SendJob",
    "Sender",
    "SenderActor",
    "send_notice",
    "sender_pool",
]
