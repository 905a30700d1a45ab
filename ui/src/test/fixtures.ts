/** API rows as the server returns them, for component tests: each builder gives one plausible
 * row, and a test overrides what it is about. The default rows point at each other (an outreach
 * of CAMPAIGN_ID, sent with TEMPLATE_ID through MAILBOX_ID). */
import type { components } from "@/api/schema";
import { USER_ID } from "./session";

type S = components["schemas"];

export const CAMPAIGN_ID = "11111111-1111-4111-8111-111111111111";
export const ARTIST_ID = "10000000-0000-4000-8000-000000000001";
export const TEMPLATE_ID = "00000000-0000-4000-8000-000000000003";
export const MAILBOX_ID = "00000000-0000-4000-8000-000000000005";
export const OUTREACH_ID = "00000000-0000-4000-8000-000000000001";
export const JOB_ID = "30000000-0000-4000-8000-000000000001";

export function campaign(overrides: Partial<S["CampaignRead"]> = {}): S["CampaignRead"] {
  return {
    id: CAMPAIGN_ID,
    name: "Summer release",
    description: "The single and its remixes.",
    type: "release",
    status: "draft",
    start_date: "2024-06-01",
    end_date: "2024-08-31",
    budget_minor: 100_000,
    currency: "EUR",
    spent_minor: 0,
    over_budget: false,
    created_by: USER_ID,
    created_at: "2024-05-01T10:00:00Z",
    updated_at: "2024-05-01T10:00:00Z",
    ...overrides,
  };
}

export function transaction(overrides: Partial<S["TransactionRead"]> = {}): S["TransactionRead"] {
  return {
    id: "22222222-2222-4222-8222-222222222222",
    type: "expense",
    amount_minor: 2_500,
    amount: "25.00",
    currency: "EUR",
    category: "ads",
    description: "Instagram ads",
    occurred_on: "2024-06-03",
    campaign_id: null,
    created_by: USER_ID,
    created_at: "2024-06-03T10:00:00Z",
    updated_at: "2024-06-03T10:00:00Z",
    ...overrides,
  };
}

export function artist(overrides: Partial<S["ArtistRead"]> = {}): S["ArtistRead"] {
  return {
    id: ARTIST_ID,
    soundcloud_id: 101,
    name: "Nina Berg",
    soundcloud_username: "ninaberg",
    permalink: "ninaberg",
    permalink_url: "https://soundcloud.com/ninaberg",
    description: null,
    genres: ["techno"],
    city: "Berlin",
    country: "DE",
    followers: 12_345,
    tracks: 40,
    verified: false,
    avatar_url: null,
    fetched_at: "2025-03-01T10:00:00Z",
    growth_7d: null,
    growth_7d_gain: null,
    growth_30d: null,
    growth_30d_gain: null,
    watched: false,
    created_at: "2025-01-01T10:00:00Z",
    updated_at: "2025-03-01T10:00:00Z",
    ...overrides,
  };
}

export function emailTemplate(overrides: Partial<S["EmailTemplateRead"]> = {}): S["EmailTemplateRead"] {
  return {
    id: TEMPLATE_ID,
    name: "Intro",
    type: "initial",
    subject: "Hi",
    body_text: "Hello",
    body_html: "",
    created_at: "2025-05-01T10:00:00Z",
    updated_at: "2025-05-01T10:00:00Z",
    ...overrides,
  };
}

export function mailbox(overrides: Partial<S["MailboxRead"]> = {}): S["MailboxRead"] {
  return {
    id: MAILBOX_ID,
    name: "Label outreach",
    host: "smtp.label.example",
    port: 587,
    tls_mode: "starttls",
    username: "mia@label.example",
    has_password: true,
    from_name: "Mia",
    from_email: "mia@label.example",
    per_minute: 10,
    daily_cap: 100,
    ramp_start: 40,
    ramp_increment: 2,
    gap_min_seconds: 60,
    gap_max_seconds: 180,
    window_start_hour: 9,
    window_end_hour: 17,
    window_weekdays: [1, 2, 3, 4, 5],
    created_at: "2025-05-01T10:00:00Z",
    updated_at: "2025-05-01T10:00:00Z",
    ...overrides,
  };
}

export function outreachCampaign(overrides: Partial<S["OutreachCampaignRead"]> = {}): S["OutreachCampaignRead"] {
  return {
    id: OUTREACH_ID,
    name: "Spring pitch",
    template_id: TEMPLATE_ID,
    campaign_id: CAMPAIGN_ID,
    status: "draft",
    scheduled_at: null,
    sender_email: "label@example.com",
    sender_name: "The Label",
    daily_limit: 50,
    mailbox_id: MAILBOX_ID,
    pause_reason: null,
    launched_at: null,
    created_at: "2025-03-01T10:00:00Z",
    updated_at: "2025-03-01T10:00:00Z",
    ...overrides,
  };
}

export function discoveryJob(overrides: Partial<S["DiscoveryJobRead"]> = {}): S["DiscoveryJobRead"] {
  return {
    id: JOB_ID,
    status: "running",
    query: { terms: ["berlin techno"], genres: [], tags: [], seed_artists: [], city: null, max_artists: 200, max_depth: 1 },
    progress: { kept: 12, examined: 80 },
    error: null,
    created_by: null,
    created_at: "2025-03-01T10:00:00Z",
    updated_at: "2025-03-01T10:05:00Z",
    started_at: "2025-03-01T10:00:01Z",
    finished_at: null,
    ...overrides,
  };
}

export function auditEntry(overrides: Partial<S["AuditLogEntryRead"]> = {}): S["AuditLogEntryRead"] {
  return {
    id: "0194a1b2-0000-7000-8000-000000000e01",
    actor_user_id: USER_ID,
    action: "campaign.create",
    entity_type: "campaign",
    entity_id: CAMPAIGN_ID,
    data: { name: "Spring tour" },
    request_id: "req-1",
    created_at: "2026-03-01T12:00:00Z",
    ...overrides,
  };
}
