/** Rows of an outreach's own API (progress, messages, send plan) and the lookups every outreach
 * page reads, for the outreach pages' tests. */
import type { components } from "@/api/schema";
import { CAMPAIGN_ID, MAILBOX_ID, OUTREACH_ID, TEMPLATE_ID, campaign, emailTemplate, mailbox } from "@/test/fixtures";
import { page, type Routes } from "@/test/server";
import type { OutreachStatus } from "./status";

type S = components["schemas"];

export const FOLLOW_UP_ID = "00000000-0000-4000-8000-000000000004";
export const OTHER_CAMPAIGN_ID = "00000000-0000-4000-8000-000000000006";

const AT = "2025-03-01T10:00:00Z";

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

/** What every outreach page reads besides the outreach: campaigns, templates, mailboxes. */
export function lookupRoutes(): Routes {
  const spring = campaign({ id: CAMPAIGN_ID, name: "Spring release", status: "active" });
  return {
    "GET /api/v1/campaigns": page([spring, campaign({ id: OTHER_CAMPAIGN_ID, name: "Autumn tour", status: "active" })]),
    [`GET /api/v1/campaigns/${CAMPAIGN_ID}`]: spring,
    "GET /api/v1/email-templates": page([
      emailTemplate({ id: TEMPLATE_ID, name: "Intro" }),
      emailTemplate({ id: FOLLOW_UP_ID, name: "Nudge", type: "follow_up" }),
    ]),
    "GET /api/v1/mailboxes": page([
      mailbox({
        id: MAILBOX_ID,
        name: "Label inbox",
        host: "smtp.example.com",
        username: "label",
        from_email: "label@example.com",
        from_name: "The Label",
      }),
    ]),
  };
}
