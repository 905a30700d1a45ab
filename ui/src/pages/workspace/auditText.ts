/** Audit log rows as sentences: "campaign.artist_add" -> "Campaign: artist added". */

export const ENTITY_LABELS: Record<string, string> = {
  analytics_event: "Analytics event",
  artist: "Artist",
  campaign: "Campaign",
  discovery_job: "Discovery job",
  email: "Email",
  email_record: "Email record",
  email_template: "Email template",
  export: "Export",
  invitation: "Invitation",
  mailbox: "Mailbox",
  member: "Member",
  outreach_campaign: "Outreach",
  setting: "Setting",
  suppression: "Suppression",
  transaction: "Transaction",
  workspace: "Workspace",
};

const VERBS: Record<string, string> = {
  create: "created",
  update: "updated",
  delete: "deleted",
  add: "added",
  remove: "removed",
  status: "status changed",
  cancel: "cancelled",
  join: "joined",
  leave: "left",
  import: "imported",
  export: "exported",
  reply: "reply recorded",
  replied: "replied",
  opened: "opened",
  resend: "sent again",
  report: "reported",
  running: "started running",
  failed: "failed",
  recovered: "recovered",
};

function humanize(word: string): string {
  return word.replace(/_/g, " ");
}

export function entityLabel(type: string): string {
  return ENTITY_LABELS[type] ?? humanize(type).replace(/^./, (c) => c.toUpperCase());
}

// Actions whose parts do not read well on their own.
const WHOLE: Record<string, string> = {
  "inbound.report": "Bounces and complaints reported",
};

/** "campaign.create" -> "Campaign created"; "artist.note_add" -> "Artist: note added". */
export function describeAction(action: string): string {
  const whole = WHOLE[action];
  if (whole) return whole;
  const dot = action.indexOf(".");
  if (dot < 0) return humanize(action);
  const subject = entityLabel(action.slice(0, dot));
  const what = action.slice(dot + 1);
  const done = VERBS[what];
  if (done) return `${subject} ${done}`;
  // "note_add": the object, then the verb.
  const cut = what.lastIndexOf("_");
  const verb = cut >= 0 ? VERBS[what.slice(cut + 1)] : undefined;
  if (verb) return `${subject}: ${humanize(what.slice(0, cut))} ${verb}`;
  return `${subject}: ${humanize(what)}`;
}

/** The page that shows an entity of ``type``, while it exists. */
export function entityPath(type: string, id: string): string | null {
  const base: Record<string, string> = {
    artist: "/artists",
    campaign: "/campaigns",
    discovery_job: "/discovery",
    email_template: "/templates",
    outreach_campaign: "/outreach",
  };
  const root = base[type];
  return root ? `${root}/${id}` : null;
}

/** A row's data in one line: ``key: value`` pairs, long values cut short. */
export function summarizeData(data: Record<string, unknown>): string {
  return Object.entries(data)
    .filter(([key]) => key !== "system")
    .map(([key, value]) => {
      const text = typeof value === "string" ? value : JSON.stringify(value);
      return `${humanize(key)}: ${text.length > 60 ? `${text.slice(0, 59)}…` : text}`;
    })
    .join(" · ");
}
