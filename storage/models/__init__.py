"""Every ORM model, imported here so ``Base.metadata`` is complete for Alembic."""

from storage.models.accounts import (
    AuditLogEntry,
    Invitation,
    Membership,
    RefreshToken,
    User,
    UserSetting,
    Workspace,
)
from storage.models.analytics import AnalyticsEvent
from storage.models.artists import (
    Artist,
    ArtistContact,
    ArtistNote,
    ArtistSnapshot,
    ArtistSocialProfile,
    WatchedArtist,
)
from storage.models.base import Base
from storage.models.campaigns import Campaign, CampaignArtist
from storage.models.discovery import DiscoveryJob, DiscoveryJobArtist, DiscoveryJobLead
from storage.models.finance import Transaction
from storage.models.mailboxes import Mailbox
from storage.models.outreach import (
    EmailRecord,
    EmailTemplate,
    OutreachCampaign,
    OutreachStep,
    Suppression,
)

__all__ = [
    "AnalyticsEvent",
    "Artist",
    "ArtistContact",
    "ArtistNote",
    "ArtistSnapshot",
    "ArtistSocialProfile",
    "AuditLogEntry",
    "Base",
    "Campaign",
    "CampaignArtist",
    "DiscoveryJob",
    "DiscoveryJobArtist",
    "DiscoveryJobLead",
    "EmailRecord",
    "EmailTemplate",
    "Invitation",
    "Mailbox",
    "Membership",
    "OutreachCampaign",
    "OutreachStep",
    "RefreshToken",
    "Suppression",
    "Transaction",
    "User",
    "UserSetting",
    "WatchedArtist",
    "Workspace",
]
