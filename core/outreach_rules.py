"""Rules of an outreach campaign's plan: which contact of an artist gets the message, what a
follow-up step may be, and when the plan may still change."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from enum import StrEnum

from core.enums import ConsentState, OutreachStatus, TemplateType
from core.errors import Conflict, FieldProblem, InvalidInput

# A follow-up waits at least a day (a same-day nudge reads as spam) and at most a year.
DELAY_DAYS_MIN = 1
DELAY_DAYS_MAX = 365
# Sequences of cold mail rarely go past three or four follow-ups; ten bounds a step list that is
# read whole, without paging.
MAX_STEPS = 10

# Contacts whose consent has not been withdrawn may be written to: one granted explicitly, one
# found published for business enquiries, and one whose state nobody recorded yet (what a contact
# added by hand starts as). The best of an artist's contacts is taken: granted first, then public,
# then unknown.
CONSENT_PREFERENCE: dict[ConsentState, int] = {
    ConsentState.GRANTED: 0,
    ConsentState.PUBLIC_BUSINESS: 1,
    ConsentState.UNKNOWN: 2,
}
USABLE_CONSENT = frozenset(CONSENT_PREFERENCE)


def require_draft(status: OutreachStatus, change: str) -> None:
    """Refuse ``change`` (``"steps"``) unless the outreach is still a draft: once it is
    scheduled or sending, the plan that recipients are being moved through must stay put."""
    if status != OutreachStatus.DRAFT:
        raise Conflict(
            f"the outreach campaign is {status.value}; its {change} can change only while it "
            "is a draft"
        )


def require_follow_up(template_type: TemplateType) -> None:
    """A step sends a follow-up template; an initial one would open a second conversation."""
    if template_type != TemplateType.FOLLOW_UP:
        message = f"must be a {TemplateType.FOLLOW_UP.value} template, not {template_type.value}"
        raise InvalidInput(f"template_id {message}", [FieldProblem("template_id", message)])


def campaign_to_draw_from(requested: uuid.UUID | None, own: uuid.UUID | None) -> uuid.UUID:
    """The campaign whose artists an outreach takes as recipients: the one asked for, else the
    outreach's own; an outreach for no campaign must name one."""
    chosen = requested or own
    if chosen is None:
        raise Conflict(
            "the outreach campaign belongs to no campaign; name one with campaign_id to take "
            "its artists"
        )
    return chosen


class Command(StrEnum):
    """What a user asks of an outreach."""

    LAUNCH = "launch"
    PAUSE = "pause"
    RESUME = "resume"
    CANCEL = "cancel"


_ALLOWED_FROM: dict[Command, frozenset[OutreachStatus]] = {
    Command.LAUNCH: frozenset({OutreachStatus.DRAFT}),
    Command.PAUSE: frozenset({OutreachStatus.SCHEDULED, OutreachStatus.SENDING}),
    Command.RESUME: frozenset({OutreachStatus.PAUSED}),
    Command.CANCEL: frozenset(
        {
            OutreachStatus.DRAFT,
            OutreachStatus.SCHEDULED,
            OutreachStatus.SENDING,
            OutreachStatus.PAUSED,
        }
    ),
}
# An outreach whose actor should be running: it sends, or waits for its start.
LIVE = frozenset({OutreachStatus.SCHEDULED, OutreachStatus.SENDING})
# A schedule found this far past when the actor starts (the service was down at its time) is
# not sent without a confirm: a blast days late is worse than none.
STALE_SCHEDULE = timedelta(hours=1)


def after(
    command: Command, status: OutreachStatus, scheduled_at: datetime | None, now: datetime
) -> OutreachStatus:
    """The status ``command`` moves an outreach in ``status`` to; a ``Conflict`` naming the
    status when it may not. Launching or resuming before the schedule waits for it."""
    if status not in _ALLOWED_FROM[command]:
        raise Conflict(f"the outreach campaign is {status.value}; it cannot {command.value}")
    if command is Command.PAUSE:
        return OutreachStatus.PAUSED
    if command is Command.CANCEL:
        return OutreachStatus.CANCELLED
    if scheduled_at is not None and scheduled_at > now:
        return OutreachStatus.SCHEDULED
    return OutreachStatus.SENDING


def stale_schedule(scheduled_at: datetime | None, now: datetime) -> str | None:
    """Why a scheduled outreach found at start-up must wait for a confirm (resume), or
    ``None`` when its schedule is recent enough (or in the future) to keep."""
    if scheduled_at is None or now - scheduled_at <= STALE_SCHEDULE:
        return None
    return (
        f"it was scheduled for {scheduled_at.isoformat(timespec='minutes')} and found long past "
        "when sending started; resume it to send now"
    )


def template_usable(subject: str, body_html: str, body_text: str) -> bool:
    """A template can be sent: it has a subject and a body (HTML or text)."""
    return bool(subject.strip() and (body_html.strip() or body_text.strip()))


def launch_problems(
    *, queued: int, template_ready: str | None, mailbox_ready: str | None
) -> str | None:
    """What stops an outreach from launching, in the order to fix it, or ``None``."""
    if queued == 0:
        return "it has no queued recipients; add some first"
    if template_ready is not None:
        return template_ready
    return mailbox_ready


# Where recipients may still be queued: the outreach has not finished.
_TAKES_RECIPIENTS = frozenset(
    {
        OutreachStatus.DRAFT,
        OutreachStatus.SCHEDULED,
        OutreachStatus.SENDING,
        OutreachStatus.PAUSED,
    }
)
# Where an outreach may be deleted: nothing of it is running.
_DELETABLE = frozenset({OutreachStatus.DRAFT, OutreachStatus.COMPLETED, OutreachStatus.CANCELLED})
# Where the mailbox may change: nothing is being sent through it.
_MAILBOX_CHANGEABLE = frozenset({OutreachStatus.DRAFT, OutreachStatus.PAUSED})
# An outreach in one of these holds its mailbox: the mailbox cannot be deleted under it.
HOLDS_MAILBOX = frozenset({OutreachStatus.SCHEDULED, OutreachStatus.SENDING, OutreachStatus.PAUSED})


def require_takes_recipients(status: OutreachStatus) -> None:
    if status not in _TAKES_RECIPIENTS:
        raise Conflict(
            f"the outreach campaign is {status.value}; recipients can be added only before it "
            "ends (create another outreach for them)"
        )


def require_deletable(status: OutreachStatus) -> None:
    if status not in _DELETABLE:
        raise Conflict(f"the outreach campaign is {status.value}; cancel it before deleting it")


def require_mailbox_changeable(status: OutreachStatus) -> None:
    if status not in _MAILBOX_CHANGEABLE:
        raise Conflict(
            f"the outreach campaign is {status.value}; its mailbox can change only while it is "
            "a draft or paused"
        )
