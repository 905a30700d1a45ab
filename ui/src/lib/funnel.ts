/** An outreach's messages by the furthest step they reached, from the API's counts by status
 * (``/outreach-campaigns/{id}/progress``, ``/analytics/overview``): a message opened, clicked
 * or replied to was also sent, and a clicked one was also opened. */
export function funnel(counts: Record<string, number>) {
  const of = (status: string) => counts[status] ?? 0;
  return {
    total: Object.values(counts).reduce((sum, count) => sum + count, 0),
    queued: of("queued") + of("sending"),
    sent: of("sent") + of("opened") + of("clicked") + of("replied"),
    opened: of("opened") + of("clicked"),
    clicked: of("clicked"),
    replied: of("replied"),
    bounced: of("bounced"),
    failed: of("failed") + of("unknown"),
  };
}

export type Funnel = ReturnType<typeof funnel>;
