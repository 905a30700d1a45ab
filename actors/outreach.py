"""Outreach actors: one named, restartable actor per live outreach campaign.

The actor is the single writer of its outreach's status: launch, pause, resume and cancel are
asked of it, and it commits each transition to PostgreSQL before it answers. While the outreach
is ``sending`` it runs a loop: claim a batch of due records (``storage/repositories/
send_queue.py``: ``queued -> sending`` with their Message-IDs, committed), hand it to a sender
actor (``actors/senders.py``), settle what the sender answered, and again, with a few batches in
flight. It honours the outreach's daily limit and each recipient's sending window, waits for a
schedule, and completes the outreach when nothing is left to send.

Restarts: Ray restarts a dead actor (``max_restarts=-1``) and its ``__init__`` rebuilds it from
the database: records left ``sending`` become ``unknown`` (they were handed out; whether the
server took them nobody knows), and the loop goes on. A schedule found long past at that moment
waits for a confirm (the outreach is paused with the reason). When the outreach is paused,
completed or cancelled, the actor exits; a resume starts a new one.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

import ray

from actors.named import named_actor
from actors.senders import (
    MAX_LIMIT_SLEEP_SECONDS,
    MailboxSpec,
    MessageSpec,
    SendJob,
    sender_pool,
)
from core import metrics, outreach_rules, telemetry
from core.delivery import SERVER_FAILURES_TO_PAUSE, Delivery, Result
from core.enums import EmailStatus, OutreachStatus
from core.errors import Conflict, NotFound, ServiceUnavailable
from core.messages import MailAddress
from core.outreach_rules import Command
from core.secret_box import MAILBOX_PASSWORD, SecretBox
from core.sending_window import SendingWindow, next_send_time, time_zone_for
from core.settings import Settings
from core.templating import TEMPLATE_FIELDS, message_context
from storage.activity import Activity
from storage.database import create_engine, create_sessionmaker
from storage.models import Campaign, EmailTemplate, Mailbox, OutreachCampaign, OutreachStep
from storage.outages import RetryBackoff, unavailable_part
from storage.redis_client import create_redis
from storage.repositories.analytics_events import AnalyticsEventRepository, NewEvent
from storage.repositories.email_records import EmailRecordRepository
from storage.repositories.outreach_campaigns import (
    OutreachCampaignRepository,
    live_outreaches,
    pace_of,
)
from storage.repositories.outreach_steps import OutreachStepRepository
from storage.repositories.send_queue import Claimed, SendQueue
from storage.send_ledger import SendLedger
from storage.smtp import SmtpEndpoint

log = logging.getLogger(__name__)

SYSTEM_ACTOR = "outreach"
# The longest the loop sleeps before looking again (a resend, a paused limiter, a new day).
MAX_IDLE_SECONDS = 30.0
# A window that opens within this is waited for in the loop rather than postponed in the row.
_WINDOW_SLACK = timedelta(seconds=1)
EXIT_DELAY_SECONDS = 2.0
SETUP_SECONDS = 2.0
# Bound on any statement of the actor, and on any wait for a row lock: a step that meets it
# fails, and the send loop starts again (nothing is half-written: each step is a transaction).
STATEMENT_SECONDS = 30.0
# The outreach's share of the send queue's depth (a metric) is counted at most this often.
QUEUE_DEPTH_SECONDS = 5.0


class ActorClosing(RuntimeError):
    """This actor is exiting (its outreach stopped): ask a new one."""


def actor_name(outreach_id: uuid.UUID) -> str:
    return f"outreach-{outreach_id}"


@dataclass(frozen=True)
class _Setup:
    """What every batch of the outreach is built from, read at the start of each round."""

    outreach: OutreachCampaign
    parts_by_step: dict[int, dict[str, str]]
    steps: list[OutreachStep]
    sender: MailAddress
    campaign_name: str | None
    mailbox: MailboxSpec | None
    window: SendingWindow | None


class OutreachRun:
    """The state and loop of one outreach (plain asyncio; :class:`OutreachActor` wraps it)."""

    def __init__(
        self,
        settings: Settings,
        outreach_id: uuid.UUID,
        workspace_id: uuid.UUID,
        senders: Sequence[Any] | None = None,
    ) -> None:
        if settings.database_url is None or settings.redis_url is None:
            raise ValueError("resolve CM_DATABASE_URL and CM_REDIS_URL before running outreach")
        if settings.secret_key is None:
            raise ValueError("resolve CM_SECRET_KEY before running outreach")
        self.settings = settings
        self.outreach_id = outreach_id
        self.workspace_id = workspace_id
        self._engine = create_engine(
            settings.database_url, pool_size=3, statement_seconds=STATEMENT_SECONDS
        )
        self._sessions = create_sessionmaker(self._engine)
        self._redis = create_redis(settings.redis_url)
        self._ledger = SendLedger(self._redis)
        self._senders = list(senders) if senders is not None else sender_pool(settings)
        self._next_sender = itertools.cycle(range(len(self._senders)))
        self._box = SecretBox(settings.secret_key.get_secret_value(), MAILBOX_PASSWORD)
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._loop: asyncio.Task[None] | None = None
        self._started = False
        # Set, under the lock, once the actor has decided to exit: no command is taken after.
        self.closing = False
        # What the send loop is doing now, for :meth:`state` (an operator's question).
        self.doing = "starting"
        self.status: OutreachStatus | None = None
        self.counts: dict[str, int] = {}
        self._server_failures = 0
        # Waits before the loop restarts after PostgreSQL or Redis went away under it.
        self._outage_backoff = RetryBackoff()
        # Bumped by every user command: a batch handed out before a resume does not count
        # its server failures against the outreach after it.
        self._epoch = 0
        self._setup_cache: tuple[float, _Setup] | None = None
        self._depth_read_at = float("-inf")

    # -- transactions -----------------------------------------------------------------------

    @asynccontextmanager
    async def _transaction(self, user_id: uuid.UUID | None = None) -> AsyncIterator[Activity]:
        async with Activity.transaction(
            self._sessions,
            self._redis,
            self.workspace_id,
            user_id=user_id,
            system=None if user_id else SYSTEM_ACTOR,
        ) as activity:
            yield activity

    async def _load(self, activity: Activity, *, lock: bool = False) -> OutreachCampaign:
        repo = OutreachCampaignRepository(activity.session, self.workspace_id)
        return await (repo.lock if lock else repo.get)(self.outreach_id)

    async def _move(
        self,
        activity: Activity,
        outreach: OutreachCampaign,
        status: OutreachStatus,
        action: str,
        *,
        reason: str | None = None,
    ) -> None:
        """Write a transition, its audit row, analytics event and live event."""
        before = outreach.status
        values: dict[str, Any] = {"status": status, "pause_reason": reason}
        if before is OutreachStatus.DRAFT:
            values["launched_at"] = datetime.now(UTC)
        await OutreachCampaignRepository(activity.session, self.workspace_id).update(
            self.outreach_id, values
        )
        data: dict[str, Any] = {"from": before.value, "to": status.value}
        if reason:
            data["reason"] = reason
        await activity.record(action, "outreach_campaign", self.outreach_id, data)
        await AnalyticsEventRepository(activity.session, self.workspace_id).record_many(
            [
                NewEvent(
                    entity_type="outreach_campaign",
                    entity_id=self.outreach_id,
                    event_type=action,
                    data=data,
                )
            ]
        )
        self.status = status

    # -- start-up ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Rebuild from the database (see the module) and run the loop if the outreach is live.
        Idempotent."""
        async with self._lock:
            if self._started:
                return
            await self._recover()
            async with self._transaction() as activity:
                outreach = await self._load(activity, lock=True)
                self.status = outreach.status
                stale = (
                    outreach_rules.stale_schedule(outreach.scheduled_at, datetime.now(UTC))
                    if outreach.status is OutreachStatus.SCHEDULED
                    else None
                )
                if stale is not None:
                    await self._move(
                        activity,
                        outreach,
                        OutreachStatus.PAUSED,
                        "outreach_campaign.pause",
                        reason=stale,
                    )
            self._started = True
            self._run_if_live()

    async def _recover(self) -> None:
        """Settle what a previous actor left handed out, from the send ledger."""
        async with self._sessions() as session:
            handed = await SendQueue(session, self.workspace_id, self.outreach_id).handed_out()
        if not handed:
            return
        deliveries = await self._ledger.recover(
            handed, wait_seconds=self.settings.smtp_timeout_seconds + 2
        )
        await self._settle(await self._setup(), deliveries, dict(handed))
        outcome = Counter(d.result.value for d in deliveries)
        async with self._transaction() as activity:
            await activity.record(
                "outreach_campaign.recovered",
                "outreach_campaign",
                self.outreach_id,
                {"handed_out": len(handed), **outcome},
            )

    def _run_if_live(self) -> None:
        if self.status in outreach_rules.LIVE and (self._loop is None or self._loop.done()):
            # Sending is traced batch by batch, not as part of the request that launched it.
            with telemetry.detached():
                self._loop = asyncio.create_task(self._run())
        self._wake.set()

    # -- commands ---------------------------------------------------------------------------

    async def command(self, command: Command, user_id: uuid.UUID) -> str | None:
        """Apply a user's command; returns ``None`` once it is committed, or why it cannot be
        (a conflict's message)."""

        async def step(activity: Activity, outreach: OutreachCampaign) -> str | None:
            now = datetime.now(UTC)
            target = outreach_rules.after(command, outreach.status, outreach.scheduled_at, now)
            if command is Command.LAUNCH:
                problem = await self._launch_problem(activity, outreach)
                if problem is not None:
                    return f"the outreach campaign cannot launch: {problem}"
            await self._move(activity, outreach, target, f"outreach_campaign.{command.value}")
            return None

        return await self._as_user(user_id, step)

    async def _as_user(
        self,
        user_id: uuid.UUID,
        step: Callable[[Activity, OutreachCampaign], Awaitable[str | None]],
    ) -> str | None:
        """Run a user's ``step`` on the locked outreach in one transaction of theirs; ``None``
        once committed, or why not (the step's answer, or a conflict's message). The send loop
        then starts afresh: new settings, no failures counted from before."""
        await self.start()
        async with self._lock:
            self._refuse_if_closing()
            try:
                async with self._transaction(user_id) as activity:
                    refused = await step(activity, await self._load(activity, lock=True))
                    if refused is not None:
                        return refused
                    # Before the commit lets a settle waiting on the row go on: batches handed
                    # out before this command no longer count towards a pause.
                    self._epoch += 1
                    self._server_failures = 0
            except Conflict as conflict:
                return conflict.detail
            self._setup_cache = None
            self._run_if_live()
        return None

    async def _launch_problem(self, activity: Activity, outreach: OutreachCampaign) -> str | None:
        session = activity.session
        counts = await EmailRecordRepository(session, self.workspace_id).count_by_status(
            self.outreach_id
        )
        template_problem = None
        steps = await OutreachStepRepository(session, self.workspace_id).for_outreach(outreach.id)
        templates = [outreach.template_id, *(step.template_id for step in steps)]
        for template_id in templates:
            template = await session.get(EmailTemplate, template_id)
            if template is None or not outreach_rules.template_usable(
                template.subject, template.body_html, template.body_text
            ):
                template_problem = f"its template {template_id} has no subject or no body"
                break
        mailbox_problem = None
        if outreach.mailbox_id is None and not self.settings.outbox_enabled:
            mailbox_problem = "it has no mailbox, and the outbox folder is off (CM_OUTBOX_ENABLED)"
        return outreach_rules.launch_problems(
            queued=counts.get(EmailStatus.QUEUED, 0),
            template_ready=template_problem,
            mailbox_ready=mailbox_problem,
        )

    async def resend(self, record_id: uuid.UUID, user_id: uuid.UUID) -> str | None:
        """Queue an unknown or failed record again at the user's word; a completed outreach
        goes back to sending."""

        async def step(activity: Activity, outreach: OutreachCampaign) -> str | None:
            if outreach.status is OutreachStatus.CANCELLED:
                return "the outreach campaign is cancelled"
            await SendQueue(activity.session, self.workspace_id, self.outreach_id).resend(record_id)
            await activity.record(
                "email_record.resend",
                "email_record",
                record_id,
                {"outreach_campaign_id": str(self.outreach_id)},
            )
            if outreach.status is OutreachStatus.COMPLETED:
                await self._move(
                    activity, outreach, OutreachStatus.SENDING, "outreach_campaign.resume"
                )
            return None

        return await self._as_user(user_id, step)

    def _refuse_if_closing(self) -> None:
        if self.closing:
            raise ActorClosing(f"the actor of outreach {self.outreach_id} is exiting")

    async def close_if_idle(self) -> bool:
        """Decide, under the lock, to exit if nothing runs; once decided no command is
        taken (they get :class:`ActorClosing` and ask a new actor)."""
        async with self._lock:
            if not self.idle or self.closing:
                return False
            # The database, not this actor's memory, says whether the outreach still sends.
            async with self._sessions() as session:
                try:
                    outreach = await OutreachCampaignRepository(session, self.workspace_id).get(
                        self.outreach_id
                    )
                except NotFound:  # deleted: nothing to run for
                    outreach = None
            if outreach is not None and outreach.status in outreach_rules.LIVE:
                self.status = outreach.status
                self._run_if_live()
                return False
            self.closing = True
        await self.close()
        return True

    async def state(self) -> dict[str, Any]:
        """The actor's view: status, counters, batches in flight."""
        return {
            "status": self.status.value if self.status else None,
            "counts": dict(self.counts),
            "running": self._loop is not None and not self._loop.done(),
            "doing": self.doing,
        }

    # -- the loop ---------------------------------------------------------------------------

    async def _run(self) -> None:
        try:
            # What a failed step of an earlier loop left handed out is settled first.
            await self._recover()
            await self._send_until_done()
        except NotFound:
            # The outreach was deleted under the loop: nothing is left to send.
            log.info("outreach %s: deleted; the send loop stops", self.outreach_id)
            self.status = None
        except Exception as exc:
            part = unavailable_part(exc)
            if part is None:
                log.exception("outreach %s: the send loop failed; it restarts", self.outreach_id)
                delay = 1.0
            else:
                # Nothing is lost: what was handed out is settled from the ledger on restart.
                delay = self._outage_backoff.next_delay()
                log.warning(
                    "outreach %s: the %s is unavailable (%s: %s); sending resumes in %.1f s",
                    self.outreach_id,
                    part,
                    type(exc).__name__,
                    str(exc)[:200],
                    delay,
                )
            await asyncio.sleep(delay)
            self._loop = None
            self._run_if_live()

    async def _send_until_done(self) -> None:
        in_flight: set[asyncio.Task[None]] = set()
        try:
            while True:
                if self.status is OutreachStatus.SCHEDULED and not await self._wait_schedule():
                    continue
                if self.status is not OutreachStatus.SENDING:
                    break
                self.doing = "reading its setup"
                setup = await self._setup_now()
                await self._report_queue(len(in_flight))
                wait: float | None = None
                while len(in_flight) < self.settings.send_batches_in_flight:
                    if self.status is not OutreachStatus.SENDING:
                        break
                    self.doing = "claiming"
                    claimed, wait = await self._claim(setup, in_flight=len(in_flight))
                    if not claimed:
                        break
                    in_flight.add(asyncio.create_task(self._dispatch(setup, claimed)))
                    metrics.SEND_BATCHES_IN_FLIGHT.set(len(in_flight))
                if in_flight:
                    self.doing = f"waiting for {len(in_flight)} batches at the senders"
                    done, in_flight = await asyncio.wait(
                        in_flight, return_when=asyncio.FIRST_COMPLETED
                    )
                    metrics.SEND_BATCHES_IN_FLIGHT.set(len(in_flight))
                    for task in done:
                        task.result()
                    continue
                if self.status is not OutreachStatus.SENDING:
                    break
                if wait is None and await self._complete_if_done():
                    break
                self.doing = f"waiting {wait if wait is not None else MAX_IDLE_SECONDS:.1f} s"
                await self._sleep(wait if wait is not None else MAX_IDLE_SECONDS)
        finally:
            if in_flight:
                await asyncio.gather(*in_flight, return_exceptions=True)
            metrics.SEND_BATCHES_IN_FLIGHT.set(0)
            metrics.SEND_QUEUE_DEPTH.set(0)
        await self._refresh_counts()

    async def _report_queue(self, in_flight: int) -> None:
        """This outreach's share of the queue metrics: its batches at the senders, and (one
        count at most every :data:`QUEUE_DEPTH_SECONDS`) its messages queued or being sent."""
        metrics.SEND_BATCHES_IN_FLIGHT.set(in_flight)
        now = asyncio.get_running_loop().time()
        if now - self._depth_read_at < QUEUE_DEPTH_SECONDS:
            return
        self._depth_read_at = now
        try:
            async with self._sessions() as session:
                queue = SendQueue(session, self.workspace_id, self.outreach_id)
                waiting, _ = await queue.waiting()
        except Exception:  # a figure for a graph never stops the sending
            log.debug("outreach %s: counting its queue failed", self.outreach_id, exc_info=True)
            return
        metrics.SEND_QUEUE_DEPTH.set(waiting)

    async def _sleep(self, seconds: float) -> None:
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max(0.05, min(seconds, MAX_IDLE_SECONDS))):
                await self._wake.wait()

    async def _wait_schedule(self) -> bool:
        """Sleep towards the schedule; at its time move to sending. True once sending."""
        async with self._sessions() as session:
            outreach = await OutreachCampaignRepository(session, self.workspace_id).get(
                self.outreach_id
            )
        due = outreach.scheduled_at
        now = datetime.now(UTC)
        if due is not None and due > now:
            await self._sleep((due - now).total_seconds())
            return False
        async with self._lock, self._transaction() as activity:
            outreach = await self._load(activity, lock=True)
            self.status = outreach.status
            if outreach.status is OutreachStatus.SCHEDULED:
                await self._move(
                    activity, outreach, OutreachStatus.SENDING, "outreach_campaign.start"
                )
        return self.status is OutreachStatus.SENDING

    async def _setup_now(self) -> _Setup:
        """The setup, read again at most every :data:`SETUP_SECONDS` (a template or mailbox
        edited while sending applies from the next read)."""
        now = asyncio.get_running_loop().time()
        if self._setup_cache is None or now - self._setup_cache[0] > SETUP_SECONDS:
            self._setup_cache = (now, await self._setup())
        return self._setup_cache[1]

    async def _setup(self) -> _Setup:
        async with self._sessions() as session:
            outreach = await OutreachCampaignRepository(session, self.workspace_id).get(
                self.outreach_id
            )
            steps = await OutreachStepRepository(session, self.workspace_id).for_outreach(
                outreach.id
            )
            parts: dict[int, dict[str, str]] = {}
            template = await session.get(EmailTemplate, outreach.template_id)
            if template is not None:
                parts[0] = _parts(template)
            for step in steps:
                follow_up = await session.get(EmailTemplate, step.template_id)
                if follow_up is not None:
                    parts[step.position] = _parts(follow_up)
            campaign = (
                await session.get(Campaign, outreach.campaign_id) if outreach.campaign_id else None
            )
            mailbox = (
                await session.get(Mailbox, outreach.mailbox_id) if outreach.mailbox_id else None
            )
            sender = MailAddress(outreach.sender_email, outreach.sender_name)
            spec = window = None
            if mailbox is not None:
                sender = MailAddress(mailbox.from_email, mailbox.from_name or outreach.sender_name)
                limits, window = pace_of(mailbox)
                first = await EmailRecordRepository(session, self.workspace_id).first_sent_through(
                    mailbox.id
                )
                today = datetime.now(UTC).date()
                days_in_use = (today - first.astimezone(UTC).date()).days if first else 0
                spec = MailboxSpec(
                    mailbox_id=mailbox.id,
                    endpoint=SmtpEndpoint(
                        host=mailbox.host,
                        port=mailbox.port,
                        tls_mode=mailbox.tls_mode,
                        username=mailbox.username,
                        password=self._box.open(mailbox.password_sealed)
                        if mailbox.password_sealed
                        else None,
                    ),
                    limits=limits,
                    day_cap=limits.daily_cap_on(days_in_use),
                )
        return _Setup(
            outreach=outreach,
            parts_by_step=parts,
            steps=steps,
            sender=sender,
            campaign_name=campaign.name if campaign else None,
            mailbox=spec,
            window=window,
        )

    async def _claim(self, setup: _Setup, *, in_flight: int) -> tuple[list[Claimed], float | None]:
        """Claim the next batch (committed before it is handed out); or nothing, and how long
        until something may be due (``None``: nothing is waiting on time)."""
        now = datetime.now(UTC)
        day_start = datetime.combine(now.date(), time(), UTC)
        async with self._transaction() as activity:
            queue = SendQueue(activity.session, self.workspace_id, self.outreach_id)
            await queue.skip_ended()
            room = setup.outreach.daily_limit - await queue.sent_since(day_start)
            room -= in_flight * self.settings.send_batch_size
            if room <= 0:
                tomorrow = day_start + timedelta(days=1)
                return [], (tomorrow - now).total_seconds() if in_flight == 0 else 1.0
            size = min(self.settings.send_batch_size, room)
            candidates = await queue.due(now, size)
            ready: list[uuid.UUID] = []
            later: dict[uuid.UUID, datetime] = {}
            for candidate in candidates:
                opens = now
                if setup.window is not None:
                    zone = time_zone_for(candidate.country, candidate.city)
                    opens = next_send_time(setup.window, zone, now)
                if opens - now > _WINDOW_SLACK:
                    later[candidate.id] = opens
                else:
                    ready.append(candidate.id)
            await queue.postpone(later)
            if later and not ready:
                # Others may be due behind these: look again at once.
                return [], 0.0
            if ready:
                # Before the claim commits: a sender may move a claim to DATA only from here.
                try:
                    await self._ledger.claim(
                        [(c.id, c.claims + 1) for c in candidates if c.id not in later]
                    )
                except ServiceUnavailable:
                    return [], 30.0
            claimed = await queue.claim(ready, setup.sender.email)
            if claimed:
                return claimed, None
            waiting, next_due = await queue.waiting()
        if waiting == 0:
            return [], None
        if next_due is not None and next_due > now:
            return [], (next_due - now).total_seconds()
        return [], 1.0

    @telemetry.traced("OutreachRun.dispatch")
    async def _dispatch(self, setup: _Setup, claimed: list[Claimed]) -> None:
        """Hand a batch to a sender and settle its answer. If the sender dies or does not
        answer in time, the send ledger says what became of each message."""
        epoch = self._epoch
        per_message = MAX_LIMIT_SLEEP_SECONDS + 3 * self.settings.smtp_timeout_seconds
        bound = 60 + per_message * len(claimed)
        try:
            job = SendJob(
                workspace_id=self.workspace_id,
                sender=setup.sender,
                mailbox=setup.mailbox,
                messages=[self._message(setup, record) for record in claimed],
            )
            sender = self._senders[next(self._next_sender)]
            deliveries: list[Delivery] = await asyncio.wait_for(
                sender.deliver.remote(job, carrier=telemetry.carry()), timeout=bound
            )
        except Exception as exc:  # the sender died, or did not answer in time
            log.warning("outreach %s: a sender failed a batch: %s", self.outreach_id, exc)
            # What it did report; back to the queue what it had not taken to DATA; a DATA
            # under way is given the time DATA may take. The sender failed, not the mail
            # server: this does not count towards a pause.
            deliveries = await self._ledger.recover(
                [(record.id, record.claim) for record in claimed],
                wait_seconds=self.settings.smtp_timeout_seconds + 2,
            )
        await self._settle(
            setup, deliveries, {record.id: record.claim for record in claimed}, epoch=epoch
        )

    def _message(self, setup: _Setup, record: Claimed) -> MessageSpec:
        artist = record.artist
        context = message_context(
            artist, record.to_email, setup.campaign_name, setup.sender.name, setup.sender.email
        )
        return MessageSpec(
            record_id=record.id,
            claim=record.claim,
            to_email=record.to_email,
            to_name=artist.name if artist is not None else "",
            message_id=record.message_id,
            parts=setup.parts_by_step.get(record.step, setup.parts_by_step.get(0, {})),
            context=context,
        )

    async def _settle(
        self,
        setup: _Setup,
        deliveries: list[Delivery],
        claims: dict[uuid.UUID, int],
        *,
        epoch: int | None = None,
    ) -> None:
        retry_base = timedelta(seconds=self.settings.smtp_retry_seconds)
        async with self._transaction() as activity:
            queue = SendQueue(activity.session, self.workspace_id, self.outreach_id)
            settled = await queue.settle(
                deliveries, claims=claims, steps=setup.steps, retry_base=retry_base
            )
            for address in settled.suppressed:
                await activity.record(
                    "suppression.create",
                    "suppression",
                    None,
                    {"email": address, "reason": "bounced"},
                )
            activity.announce(
                "outreach_campaign.progress",
                "outreach_campaign",
                self.outreach_id,
                {
                    "results": {result.value: n for result, n in settled.counts.items()},
                    "records": {str(d.record_id): d.result.value for d in deliveries},
                },
            )
            activity.invalidate("email_record", "suppression", "analytics_event")
            pause = self._pause_reason(deliveries) if epoch in (None, self._epoch) else None
            if pause is not None:
                # The row lock orders this against a user's command; one that went first (a
                # resume) makes this batch's failures old news.
                outreach = await self._load(activity, lock=True)
                if outreach.status is OutreachStatus.SENDING and epoch in (None, self._epoch):
                    await self._move(
                        activity,
                        outreach,
                        OutreachStatus.PAUSED,
                        "outreach_campaign.pause",
                        reason=pause,
                    )

    def _pause_reason(self, deliveries: Sequence[Delivery]) -> str | None:
        """Why the server's failures pause the outreach, or ``None``: a refused login at once,
        other server failures after several batches in a row."""
        failures = [d for d in deliveries if d.server_failure]
        if any(d.result is Result.SENT for d in deliveries) or not failures:
            self._server_failures = 0
            return None
        last = failures[-1]
        said = f"{last.code} {last.message}" if last.code else last.message
        if last.message.startswith("auth:"):
            return f"the mailbox's server refused the login: {said}"
        self._server_failures += 1
        if self._server_failures >= SERVER_FAILURES_TO_PAUSE:
            return f"the mail server failed {self._server_failures} times in a row: {said}"
        return None

    async def _complete_if_done(self) -> bool:
        async with self._lock, self._transaction() as activity:
            outreach = await self._load(activity, lock=True)
            queue = SendQueue(activity.session, self.workspace_id, self.outreach_id)
            waiting, _ = await queue.waiting()
            if waiting or outreach.status is not OutreachStatus.SENDING:
                return outreach.status is not OutreachStatus.SENDING
            await self._move(
                activity, outreach, OutreachStatus.COMPLETED, "outreach_campaign.complete"
            )
        return True

    async def _refresh_counts(self) -> None:
        async with self._sessions() as session:
            counts = await EmailRecordRepository(session, self.workspace_id).count_by_status(
                self.outreach_id
            )
        self.counts = {status.value: n for status, n in counts.items()}

    @property
    def idle(self) -> bool:
        return self._started and (self._loop is None or self._loop.done())

    async def close(self) -> None:
        if self._loop is not None:
            self._loop.cancel()
            with contextlib.suppress(BaseException):
                await self._loop
        await self._redis.aclose()
        await self._engine.dispose()


def _parts(template: EmailTemplate) -> dict[str, str]:
    return {part: getattr(template, part) for part in TEMPLATE_FIELDS}


@ray.remote
class OutreachActor:
    """One outreach's actor; see the module. Starts its loop on construction, so a restart by
    Ray resumes sending without anybody asking."""

    def __init__(self, settings: Settings, outreach_id: uuid.UUID, workspace_id: uuid.UUID) -> None:
        telemetry.setup(settings, "outreach")
        self._run = OutreachRun(settings, outreach_id, workspace_id)
        self._started = asyncio.get_event_loop().create_task(self._start())

    async def _start(self) -> None:
        try:
            await self._run.start()
        except Exception:
            log.exception("outreach %s: start-up failed", self._run.outreach_id)
        self._watch = asyncio.get_event_loop().create_task(self._exit_when_idle())

    async def _exit_when_idle(self) -> None:
        """A detached actor outlives its creator: end it when its outreach stops sending."""
        while True:
            await asyncio.sleep(EXIT_DELAY_SECONDS)
            try:
                done = self._run.idle and await self._run.close_if_idle()
            except Exception:
                log.exception("outreach %s: could not decide to exit", self._run.outreach_id)
                continue
            if done:
                await asyncio.to_thread(telemetry.flush)  # ray.kill skips atexit
                ray.kill(ray.get_runtime_context().current_actor, no_restart=True)
                return

    async def command(
        self, command: str, user_id: uuid.UUID, carrier: dict[str, str] | None = None
    ) -> str | None:
        with telemetry.continued(carrier, "OutreachActor.command"):
            refused = await self._run.command(Command(command), user_id)
            log.info(
                "outreach %s: %s %s",
                self._run.outreach_id,
                command,
                f"refused ({refused})" if refused else "committed",
            )
            return refused

    async def resend(
        self, record_id: uuid.UUID, user_id: uuid.UUID, carrier: dict[str, str] | None = None
    ) -> str | None:
        with telemetry.continued(carrier, "OutreachActor.resend"):
            return await self._run.resend(record_id, user_id)

    async def ensure_running(self, carrier: dict[str, str] | None = None) -> bool:
        with telemetry.continued(carrier, "OutreachActor.ensure_running"):
            await self._run.start()
            self._run._refuse_if_closing()
            self._run._run_if_live()
            return True

    async def state(self) -> dict[str, Any]:
        await self._run._refresh_counts()
        return await self._run.state()


def outreach_actor(settings: Settings, outreach_id: uuid.UUID, workspace_id: uuid.UUID) -> Any:
    """The outreach's actor, started if it is not running.

    Raises:
        RuntimeError: this process is not connected to Ray.
    """
    if not ray.is_initialized():
        raise RuntimeError("this process is not connected to Ray")
    return named_actor(OutreachActor, actor_name(outreach_id), settings, outreach_id, workspace_id)


async def keep_live_outreaches_running(settings: Settings) -> int:
    """Make sure every scheduled or sending outreach has its actor (after a restart of the
    service, or an actor that exited); returns how many there are."""
    assert settings.database_url is not None
    engine = create_engine(settings.database_url, pool_size=1)
    try:
        async with create_sessionmaker(engine)() as session:
            live = await live_outreaches(session)
    finally:
        await engine.dispose()
    for workspace_id, outreach_id in live:
        actor = await asyncio.to_thread(outreach_actor, settings, outreach_id, workspace_id)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(
                actor.ensure_running.remote(carrier=telemetry.carry()), timeout=30
            )
    return len(live)
