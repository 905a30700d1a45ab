/** The outreach's messages counted by status, as a definition list whose numbers keep stable
 * test ids (``outreach-count-sent``) while live events and polling change them. */
import type { components } from "@/api/schema";
import { formatNumber } from "@/lib/format";
import { EMAIL_STATUSES, EMAIL_STATUS_LABEL } from "./status";

export type Progress = components["schemas"]["OutreachProgressRead"];

const HINT: Partial<Record<string, string>> = {
  queued: "waiting for their time",
  sending: "with the mail server now",
  unknown: "need your review",
  skipped: "follow-ups not needed",
};

export function ProgressCounters({ progress }: { progress: Progress }) {
  // The server counts only the statuses present; every known one is shown (0 when absent), and
  // a status this page does not know yet is shown under its own name rather than dropped.
  const extra = Object.keys(progress.counts).filter((name) => !(EMAIL_STATUSES as readonly string[]).includes(name));
  const entries: { name: string; label: string }[] = [
    ...EMAIL_STATUSES.map((status) => ({ name: status, label: EMAIL_STATUS_LABEL[status] })),
    ...extra.map((name) => ({ name, label: name })),
  ];
  return (
    <dl className="grid grid-cols-2 gap-3 sm:grid-cols-3 lg:grid-cols-6">
      <div className="rounded-md bg-slate-50 p-3 ring-1 ring-slate-200">
        <dt className="text-xs font-medium text-slate-600">Total</dt>
        <dd data-testid="outreach-count-total" className="text-xl font-semibold tabular-nums text-slate-900">
          {formatNumber(progress.total)}
        </dd>
      </div>
      {entries.map(({ name, label }) => {
        const value = progress.counts[name] ?? 0;
        const alarming = name === "unknown" && value > 0;
        return (
          <div
            key={name}
            className={`rounded-md p-3 ring-1 ${alarming ? "bg-amber-50 ring-amber-300" : "bg-white ring-slate-200"}`}
          >
            <dt className="text-xs font-medium text-slate-600">
              {label}
              {HINT[name] && <span className="sr-only"> ({HINT[name]})</span>}
            </dt>
            <dd data-testid={`outreach-count-${name}`} className="text-xl font-semibold tabular-nums text-slate-900">
              {formatNumber(value)}
            </dd>
          </div>
        );
      })}
    </dl>
  );
}
