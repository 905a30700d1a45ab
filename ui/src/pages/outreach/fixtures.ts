/** Rows as the API returns them, for the outreach pages' tests. */
import type { components } from "@/api/schema";
import { page, type Routes } from "./testing";
import type { OutreachStatus } from "./status";

type S = components["schemas"];

export const OUTREACH_ID = "00000000-0000-4000-8000-000000000001";
export const CAMPAIGN_ID = "00000000-0000-4000-8000-000000000002";
export const TEMPLATE_ID = "00000000-0000-4000-8000-000000000003";
export const FOLLOW_UP_ID = "00000000-0000-4000-8000-000000000004";
export const MAILBOX_ID = "00000000-0000-4000-8000-000000000005";
export const OTHER_CAMPAIGN_ID = "00000000-0000-4000-8000-000000000006";

const AT = "2025-03-01T10:00:00Z";

export function campaign(id = CAMPAIGN_ID, name = "Spring release"): S["CampaignRead"] {
  return {
    id,
    name,
    budget_minor: 0,
    created_at: AT,
    created_by: null,
    currency: "EUR",
    description: "",
    end_date: null,
    over_budget: false,
    spent_minor: 0,
    start_date: null,
    status: "active",
    type: "release",
    updated_at: AT,
  };
}

export function template(id = TEMPLATE_ID, name = "Intro", type: S["TemplateType"] = "initial"): S["EmailTemplateRead"] {
  return { id, name, type, subject: "Hi", body_html: "", body_text: "Hello", created_at: AT, updated_at: AT };
}

export function mailbox(): S["MailboxRead"] {
  return {
    id: MAILBOX_ID,
    name: "Label inbox",
    from_email: "label@example.com",
    from_name: "The Label",
    host: "smtp.example.com",
    port: 587,
    tls_mode: "starttls",
    username: "label",
    has_password: true,
    per_minute: 10,
    daily_cap: 100,
    ramp_start: 40,
    ramp_increment: 10,
    gap_min_seconds: 20,
    gap_max_seconds: 60,
    window_start_hour: 9,
    window_end_hour: 17,
    window_weekdays: [1, 2, 3, 4, 5],
    created_at: AT,
    updated_at: AT,
  };
}

export function outreach(status: OutreachStatus = "draft", extra: Partial<S["OutreachCampaignRead"]> = {}): S["OutreachCampaignRead"] {
  return {
    id: OUTREACH_ID,
    name: "Spring pitch",
    template_id: TEMPLATE_ID,
    campaign_id: CAMPAIGN_ID,
    status,
    scheduled_at: null,
    sender_email: "label@example.com",
    sender_name: "The Label",
    daily_limit: 50,
    mailbox_id: MAILBOX_ID,
    pause_reason: null,
    launched_at: null,
    created_at: AT,
    updated_at: AT,
    ...extra,
  };
}

export function progress(status: OutreachStatus, counts: Record<string, number>): S["OutreachProgressRead"] {
  return { status, pause_reason: null, counts, total: Object.values(counts).reduce((a, b) => a + b, 0) };
}

export function record(id: string, to_email: string, status: S["EmailStatus"], extra: Partial<S["EmailRecordRead"]> = {}): S["EmailRecordRead"] {
  return {
    id,
    outreach_campaign_id: OUTREACH_ID,
    artist_id: null,
    to_email,
    step: 0,
    send_after: null,
    status,
    message_id: null,
    attempts: 1,
    error: null,
    sent_at: null,
    opened_at: null,
    clicked_at: null,
    replied_at: null,
    created_at: AT,
    updated_at: AT,
    ...extra,
  };
}

export const EMPTY_PLAN: S["SendPlanRead"] = {
  mailbox_id: MAILBOX_ID,
  start_at: AT,
  queued: 0,
  planned: 0,
  first_send_at: null,
  last_send_at: null,
  days_needed: 0,
  days: [],
  days_truncated: false,
};

/** What every page of an outreach reads, for an outreach in ``status``. */
export function lookupRoutes(): Routes {
  return {
    "GET /api/v1/campaigns": { body: page([campaign(), campaign(OTHER_CAMPAIGN_ID, "Autumn tour")]) },
    [`GET /api/v1/campaigns/${CAMPAIGN_ID}`]: { body: campaign() },
    "GET /api/v1/email-templates": {
      body: page([template(), template(FOLLOW_UP_ID, "Nudge", "follow_up")]),
    },
    "GET /api/v1/mailboxes": { body: page([mailbox()]) },
  };
}
