"""Domain enumerations. Stored in PostgreSQL as text (with CHECK constraints), never as numbers."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """A member's role in a workspace, from most to least powerful."""

    OWNER = "owner"
    ADMIN = "admin"
    EDITOR = "editor"
    VIEWER = "viewer"

    @property
    def rank(self) -> int:
        return _ROLE_RANK[self]

    def at_least(self, other: Role) -> bool:
        return self.rank >= other.rank

    @property
    def can_write(self) -> bool:
        return self.at_least(Role.EDITOR)

    @property
    def can_manage_members(self) -> bool:
        return self.at_least(Role.ADMIN)


_ROLE_RANK = {Role.VIEWER: 0, Role.EDITOR: 1, Role.ADMIN: 2, Role.OWNER: 3}


class CampaignStatus(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    ACTIVE = "active"
    PAUSED = "paused"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class CampaignType(StrEnum):
    RELEASE = "release"
    PLAYLIST_PITCH = "playlist_pitch"
    PREMIERE = "premiere"
    TOUR = "tour"
    OUTREACH = "outreach"
    OTHER = "other"


class CampaignArtistStatus(StrEnum):
    PROPOSED = "proposed"
    CONTACTED = "contacted"
    CONFIRMED = "confirmed"
    DECLINED = "declined"
    COMPLETED = "completed"


class ConsentState(StrEnum):
    """Whether we may email a contact: found publicly, explicitly granted, or withdrawn."""

    UNKNOWN = "unknown"
    PUBLIC_BUSINESS = "public_business"
    GRANTED = "granted"
    WITHDRAWN = "withdrawn"


class ContactSource(StrEnum):
    DESCRIPTION = "description"
    WEB_PROFILE = "web_profile"
    LINK_IN_BIO = "link_in_bio"
    MANUAL = "manual"
    IMPORT = "import"


class SocialPlatform(StrEnum):
    SOUNDCLOUD = "soundcloud"
    INSTAGRAM = "instagram"
    LINKTREE = "linktree"
    BANDCAMP = "bandcamp"
    SPOTIFY = "spotify"
    YOUTUBE = "youtube"
    FACEBOOK = "facebook"
    TIKTOK = "tiktok"
    TWITTER = "twitter"
    BEATPORT = "beatport"
    RESIDENT_ADVISOR = "resident_advisor"
    WEBSITE = "website"


class TemplateType(StrEnum):
    """What an email template is for: the first message of an outreach, or a follow-up step."""

    INITIAL = "initial"
    FOLLOW_UP = "follow_up"


class OutreachStatus(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    SENDING = "sending"
    PAUSED = "paused"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class EmailStatus(StrEnum):
    """Where one message is: waiting (``queued``), handed to the server (``sending``), or done.

    ``unknown``: the send was interrupted after the message may have reached the server (a
    crash, a dropped connection during DATA); it is never sent again by itself. ``skipped``: a
    follow-up not sent because the recipient replied, unsubscribed or bounced first.
    ``opened``, ``clicked`` and ``replied`` are sent messages the recipient engaged with.
    """

    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    BOUNCED = "bounced"
    OPENED = "opened"
    CLICKED = "clicked"
    REPLIED = "replied"
    UNKNOWN = "unknown"
    SKIPPED = "skipped"

    @property
    def delivered(self) -> bool:
        """The server accepted the message."""
        return self in _DELIVERED


_DELIVERED = frozenset(
    {EmailStatus.SENT, EmailStatus.OPENED, EmailStatus.CLICKED, EmailStatus.REPLIED}
)


class SuppressionReason(StrEnum):
    UNSUBSCRIBED = "unsubscribed"
    BOUNCED = "bounced"
    COMPLAINED = "complained"
    MANUAL = "manual"


class TransactionType(StrEnum):
    INCOME = "income"
    EXPENSE = "expense"


class DiscoveryJobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_final(self) -> bool:
        return self in {
            DiscoveryJobStatus.COMPLETED,
            DiscoveryJobStatus.FAILED,
            DiscoveryJobStatus.CANCELLED,
        }


class SmtpTlsMode(StrEnum):
    """How a mailbox's connection is encrypted: upgraded after the greeting (usually port 587),
    TLS from the first byte (usually 465), or not at all (a relay on a trusted network)."""

    STARTTLS = "starttls"
    TLS = "tls"
    NONE = "none"


class SmtpStage(StrEnum):
    """How far a conversation with an SMTP server got: a failure names the step that failed.
    A connection test ends at auth at most; mail, rcpt and data hand over one message."""

    CONNECT = "connect"
    TLS = "tls"
    AUTH = "auth"
    MAIL = "mail"
    RCPT = "rcpt"
    DATA = "data"
