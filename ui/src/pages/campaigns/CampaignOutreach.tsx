/** A campaign's outreach: its outreach campaigns and their messages counted live.
 *
 * The counts come from each outreach's /progress; their query keys start with
 * "outreach-campaigns", which every email record and outreach event invalidates, so the numbers
 * move while the page is open. */
import { Link } from "react-router";
import { useQueries, useQuery } from "@tanstack/react-query";
import { api, unwrap } from "@/api/client";
import type { components } from "@/api/schema";
import { useSession } from "@/auth/session";
import { Badge, Card, Table } from "@/components/page";
import { Empty, ErrorState, Loading } from "@/components/states";
import { formatNumber } from "@/lib/format";
import { funnel, type Funnel } from "@/lib/funnel";

type OutreachStatus = components["schemas"]["OutreachStatus"];
type Progress = components["schemas"]["OutreachProgressRead"];

const OUTREACH_STATUS: Record<OutreachStatus, { label: string; tone: "slate" | "indigo" | "green" | "amber" | "red" }> = {
  draft: { label: "Draft", tone: "slate" },
  scheduled: { label: "Scheduled", tone: "indigo" },
  sending: { label: "Sending", tone: "green" },
  paused: { label: "Paused", tone: "amber" },
  completed: { label: "Completed", tone: "slate" },
  cancelled: { label: "Cancelled", tone: "red" },
};

export const COUNTERS: { key: keyof Funnel; label: string }[] = [
  { key: "total", label: "Recipients" },
  { key: "queued", label: "Queued" },
  { key: "sent", label: "Sent" },
  { key: "opened", label: "Opened" },
  { key: "clicked", label: "Clicked" },
  { key: "replied", label: "Replied" },
  { key: "bounced", label: "Bounced" },
  { key: "failed", label: "Failed" },
];

function progressQuery(outreachId: string) {
  return {
    queryKey: ["outreach-campaigns", outreachId, "progress"],
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/outreach-campaigns/{outreach_campaign_id}/progress", {
          params: { path: { outreach_campaign_id: outreachId } },
        }),
      ),
  };
}

function sum(progresses: (Progress | undefined)[]): Funnel {
  const counts: Record<string, number> = {};
  for (const progress of progresses) {
    for (const [status, count] of Object.entries(progress?.counts ?? {})) {
      counts[status] = (counts[status] ?? 0) + count;
    }
  }
  return funnel(counts);
}

/** The messages of these outreach campaigns, added up, as a ``<dl>``; each number has a stable
 * ``data-testid`` (``count-total``, ``count-queued``, ``count-sent``, ``count-opened``,
 * ``count-clicked``, ``count-replied``, ``count-bounced``, ``count-failed``). */
export function OutreachCounters({ outreachIds }: { outreachIds: string[] }) {
  const results = useQueries({ queries: outreachIds.map(progressQuery) });
  const failed = results.find((result) => result.isError && !result.data);
  if (results.some((result) => result.isPending)) return <Loading label="Counting messages" />;
  if (failed) return <ErrorState error={failed.error} retry={() => void failed.refetch()} />;
  const totals = sum(results.map((result) => result.data));
  return (
    <div>
      <dl aria-label="Messages" className="grid grid-cols-2 gap-3 sm:grid-cols-4">
        {COUNTERS.map(({ key, label }) => (
          <div key={key} className="rounded-md bg-slate-50 px-3 py-2 ring-1 ring-slate-200">
            <dt className="text-xs font-medium text-slate-600">{label}</dt>
            <dd data-testid={`count-${key}`} className="text-xl font-semibold tabular-nums text-slate-900">
              {formatNumber(totals[key])}
            </dd>
          </div>
        ))}
      </dl>
      <p className="mt-2 text-xs text-slate-600">
        Sent counts every message the mail server accepted (opened, clicked and replied ones
        included); opened includes clicked.
      </p>
    </div>
  );
}

/** The campaign's outreach card: live counters, each outreach with its status, and a link to
 * create another for this campaign. */
export function CampaignOutreach({ campaignId }: { campaignId: string }) {
  const { canEdit } = useSession();
  const list = useQuery({
    queryKey: ["outreach-campaigns", "list", { campaign_id: campaignId }],
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/outreach-campaigns", {
          params: { query: { campaign_id: campaignId, limit: 200, sort: "-created_at" } },
        }),
      ),
  });
  const outreach = list.data?.items ?? [];
  const progress = useQueries({ queries: outreach.map((item) => progressQuery(item.id)) });

  return (
    <Card
      title="Outreach"
      actions={
        canEdit && (
          <Link
            to={`/outreach?campaign=${encodeURIComponent(campaignId)}`}
            className="rounded-md bg-indigo-600 px-3 py-2 text-sm font-medium text-white shadow-sm hover:bg-indigo-700 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 focus-visible:ring-offset-2"
          >
            New outreach
          </Link>
        )
      }
    >
      {list.isPending ? (
        <Loading label="Loading outreach" />
      ) : list.isError && !list.data ? (
        <ErrorState error={list.error} retry={() => void list.refetch()} />
      ) : outreach.length === 0 ? (
        <Empty title="No outreach for this campaign yet">
          {canEdit ? "Start one with “New outreach” to email its artists." : null}
        </Empty>
      ) : (
        <div className="space-y-4">
          <OutreachCounters outreachIds={outreach.map((item) => item.id)} />
          <Table caption="Outreach of this campaign" head={["Outreach", "Status", "Sent", "Replied"]}>
            {outreach.map((item, index) => {
              const counts = progress[index]?.data;
              const numbers = counts ? funnel(counts.counts) : undefined;
              const status = OUTREACH_STATUS[counts?.status ?? item.status];
              return (
                <tr key={item.id}>
                  <td className="px-3 py-2">
                    <Link to={`/outreach/${item.id}`} className="font-medium text-indigo-700 hover:underline">
                      {item.name}
                    </Link>
                  </td>
                  <td className="px-3 py-2">
                    <Badge tone={status.tone}>{status.label}</Badge>
                  </td>
                  <td className="px-3 py-2 tabular-nums">{formatNumber(numbers?.sent)}</td>
                  <td className="px-3 py-2 tabular-nums">{formatNumber(numbers?.replied)}</td>
                </tr>
              );
            })}
          </Table>
          {list.data?.next_cursor && (
            <p className="text-xs text-slate-600">
              Showing the 200 newest outreach campaigns; the counters add up these.
            </p>
          )}
        </div>
      )}
    </Card>
  );
}
