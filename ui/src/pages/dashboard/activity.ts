/** Audit log entries as sentences for the dashboard's recent activity. */
import type { components } from "@/api/schema";

type Entry = components["schemas"]["AuditLogEntryRead"];

const NOUNS: Record<string, string> = {
  campaign: "Campaign",
  transaction: "Transaction",
  artist: "Artist",
  discovery_job: "Discovery job",
  outreach_campaign: "Outreach",
  email_record: "Email",
  email_template: "Template",
  member: "Member",
  invitation: "Invitation",
  mailbox: "Mailbox",
  suppression: "Suppression",
  setting: "Setting",
  workspace: "Workspace",
  analytics_event: "Analytics event",
  export: "Export",
  inbound: "Inbound report",
};

const VERBS: Record<string, string> = {
  create: "created",
  update: "updated",
  delete: "deleted",
  import: "imported",
  export: "exported",
  cancel: "cancelled",
  launch: "launched",
  pause: "paused",
  resume: "resumed",
  join: "joined",
  leave: "left",
  open: "opened",
  click: "clicked",
  reply: "replied to",
  report: "received",
};

const PAGES: Record<string, string> = {
  campaign: "/campaigns",
  artist: "/artists",
  discovery_job: "/discovery",
  outreach_campaign: "/outreach",
  email_template: "/templates",
};

function text(value: unknown): string | null {
  return typeof value === "string" && value.trim() !== "" ? value : null;
}

/** "Campaign created: Summer tour", "Campaign status: active", "Transaction imported (12)". */
export function activitySentence(entry: Entry): string {
  const [subject = entry.entity_type, action = ""] = entry.action.split(".", 2);
  const noun = NOUNS[subject] ?? subject.replaceAll("_", " ");
  const data = entry.data;
  let sentence: string;
  if (action === "status" && text(data.status)) {
    sentence = `${noun} is now ${text(data.status)}`;
  } else {
    const verb = VERBS[action] ?? action.replaceAll("_", " ");
    sentence = `${noun} ${verb}`.trim();
  }
  const name = text(data.name) ?? text(data.filename);
  if (name) sentence += `: ${name}`;
  if (typeof data.created === "number") sentence += ` (${data.created} rows)`;
  else if (typeof data.rows === "number") sentence += ` (${data.rows} rows)`;
  if (text(data.system)) sentence += " · by the system";
  return sentence;
}

/** Where the entry's entity is shown, when it still exists and has a page. */
export function activityLink(entry: Entry): string | null {
  const base = PAGES[entry.entity_type];
  if (!base || !entry.entity_id || entry.action.endsWith(".delete")) return null;
  return `${base}/${entry.entity_id}`;
}
