/** What each outreach and message status is called, how it looks, and which user action it
 * allows: the client's copy of ``core/outreach_rules.py`` and the record routes' rules, so the
 * page offers only what the server would accept (the server still decides). */
import type { components } from "@/api/schema";

export type OutreachStatus = components["schemas"]["OutreachStatus"];
export type EmailStatus = components["schemas"]["EmailStatus"];
export type Outreach = components["schemas"]["OutreachCampaignRead"];
export type EmailRecord = components["schemas"]["EmailRecordRead"];
export type BadgeTone = "green" | "amber" | "red" | "slate" | "indigo";

export type Command = "launch" | "pause" | "resume" | "cancel";
export const COMMANDS: readonly Command[] = ["launch", "pause", "resume", "cancel"];

// core/outreach_rules._ALLOWED_FROM
const ALLOWED_FROM: Record<Command, readonly OutreachStatus[]> = {
  launch: ["draft"],
  pause: ["scheduled", "sending"],
  resume: ["paused"],
  cancel: ["draft", "scheduled", "sending", "paused"],
};

/** The commands an outreach in ``status`` accepts, in the order the page shows them. */
export function allowedCommands(status: OutreachStatus): Command[] {
  return COMMANDS.filter((command) => ALLOWED_FROM[command].includes(status));
}

export const OUTREACH_STATUSES: readonly OutreachStatus[] = [
  "draft",
  "scheduled",
  "sending",
  "paused",
  "completed",
  "cancelled",
];

export const OUTREACH_STATUS_LABEL: Record<OutreachStatus, string> = {
  draft: "Draft",
  scheduled: "Scheduled",
  sending: "Sending",
  paused: "Paused",
  completed: "Completed",
  cancelled: "Cancelled",
};

export const OUTREACH_STATUS_TONE: Record<OutreachStatus, BadgeTone> = {
  draft: "slate",
  scheduled: "indigo",
  sending: "green",
  paused: "amber",
  completed: "indigo",
  cancelled: "red",
};

/** Statuses whose messages are moving: progress is polled as well as pushed. */
export const LIVE_STATUSES: readonly OutreachStatus[] = ["scheduled", "sending"];
/** Recipients can be queued until the outreach ends (core/outreach_rules._TAKES_RECIPIENTS). */
export const TAKES_RECIPIENTS: readonly OutreachStatus[] = ["draft", "scheduled", "sending", "paused"];
/** Settings are edited while nothing is being sent: a draft, or a paused outreach (whose
 * mailbox may change, core/outreach_rules._MAILBOX_CHANGEABLE). */
export const SETTINGS_EDITABLE: readonly OutreachStatus[] = ["draft", "paused"];
/** Deletable when nothing of it runs (core/outreach_rules._DELETABLE). */
export const DELETABLE: readonly OutreachStatus[] = ["draft", "completed", "cancelled"];

/** Every message status, in the order a message moves through them. */
export const EMAIL_STATUSES: readonly EmailStatus[] = [
  "queued",
  "sending",
  "sent",
  "opened",
  "clicked",
  "replied",
  "bounced",
  "failed",
  "unknown",
  "skipped",
];

export const EMAIL_STATUS_LABEL: Record<EmailStatus, string> = {
  queued: "Queued",
  sending: "Sending",
  sent: "Sent",
  opened: "Opened",
  clicked: "Clicked",
  replied: "Replied",
  bounced: "Bounced",
  failed: "Failed",
  unknown: "Unknown",
  skipped: "Skipped",
};

export const EMAIL_STATUS_TONE: Record<EmailStatus, BadgeTone> = {
  queued: "slate",
  sending: "indigo",
  sent: "green",
  opened: "green",
  clicked: "green",
  replied: "indigo",
  bounced: "red",
  failed: "red",
  unknown: "amber",
  skipped: "slate",
};

/** A reply can be recorded for a message a server took, or may have taken (``unknown``). */
export function canMarkReplied(status: EmailStatus): boolean {
  return status === "sent" || status === "opened" || status === "clicked" || status === "unknown";
}

/** Only a failed or unknown message is sent again, and only when a person asks. */
export function canResend(status: EmailStatus): boolean {
  return status === "failed" || status === "unknown";
}

export function isEmailStatus(value: string | null): value is EmailStatus {
  return value !== null && (EMAIL_STATUSES as readonly string[]).includes(value);
}

export function isOutreachStatus(value: string | null): value is OutreachStatus {
  return value !== null && (OUTREACH_STATUSES as readonly string[]).includes(value);
}

/** ``0`` is the first message, ``n`` the n-th follow-up. */
export function stepLabel(step: number): string {
  return step === 0 ? "First message" : `Follow-up ${step}`;
}

/** A UTC calendar day (``2025-03-01``) as the reader writes dates, without shifting it into
 * the browser's zone (which would show the day before west of UTC). */
export function formatUtcDay(day: string): string {
  const date = new Date(`${day}T00:00:00Z`);
  return Number.isNaN(date.getTime()) ? day : date.toLocaleDateString(undefined, { timeZone: "UTC" });
}

const WEEKDAY = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/** A mailbox's sending window in words: ``Mon–Fri, 09:00–17:00``. ISO weekdays (Monday 1). */
export function describeWindow(startHour: number, endHour: number, weekdays: number[]): string {
  const days = [...new Set(weekdays)].filter((d) => d >= 1 && d <= 7).sort((a, b) => a - b);
  let dayText: string;
  if (days.length === 7) dayText = "every day";
  else if (days.length === 0) dayText = "no day";
  else {
    const runs: string[] = [];
    let start = days[0]!;
    let previous = start;
    for (const day of [...days.slice(1), Number.NaN]) {
      if (day === previous + 1) {
        previous = day;
        continue;
      }
      const first = WEEKDAY[start - 1]!;
      const last = WEEKDAY[previous - 1]!;
      runs.push(start === previous ? first : previous === start + 1 ? `${first}, ${last}` : `${first}–${last}`);
      start = day;
      previous = day;
    }
    dayText = runs.join(", ");
  }
  const hour = (h: number) => `${String(h % 24).padStart(2, "0")}:00`;
  const overnight = endHour < startHour ? " (into the next day)" : "";
  return `${dayText}, ${hour(startHour)}–${hour(endHour)}${overnight}`;
}
