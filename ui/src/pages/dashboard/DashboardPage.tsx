/** /: the workspace at a glance. Email engagement over time, spend against budget, discovery
 * jobs under way and recent activity; every query's key starts with a resource the live events
 * refresh ("analytics", "dashboard", "discovery-jobs", "activity"). */
import { useMemo, useState } from "react";
import { Link } from "react-router";
import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "@/api/client";
import type { components } from "@/api/schema";
import { useSession } from "@/auth/session";
import { SpendBudgetChart, TimeSeriesChart, type ChartPoint } from "@/components/charts";
import { SelectField } from "@/components/forms";
import { Badge, Card, PageHeader } from "@/components/page";
import { Empty, ErrorState, Loading, QueryState } from "@/components/states";
import { formatDateTime, formatMoney, formatNumber, formatPercent } from "@/lib/format";
import { funnel } from "@/lib/funnel";
import { activitySentence, activityLink } from "./activity";

type DiscoveryJob = components["schemas"]["DiscoveryJobRead"];

const DAY_MS = 86_400_000;

const ENGAGEMENT = [
  { key: "email.sent", label: "Sent" },
  { key: "email.opened", label: "Opened" },
  { key: "email.clicked", label: "Clicked" },
  { key: "email.replied", label: "Replied" },
];

const RANGES = [
  { value: "7", label: "Last 7 days" },
  { value: "30", label: "Last 30 days" },
  { value: "90", label: "Last 90 days" },
];

/** UTC midnight ``days - 1`` days ago: the first day of a range ending today. */
function rangeStart(days: number): Date {
  const now = new Date();
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return new Date(today - (days - 1) * DAY_MS);
}

function Overview() {
  const overview = useQuery({
    queryKey: ["analytics", "overview"],
    queryFn: () => unwrap(api.GET("/api/v1/analytics/overview")),
  });
  return (
    <QueryState query={overview} label="Loading the overview">
      {(data) => {
        const emails = funnel(data.email_records_by_status);
        const tiles = [
          { id: "active-campaigns", label: "Active campaigns", value: formatNumber(data.campaigns_by_status.active ?? 0) },
          { id: "emails-sent", label: "Emails sent", value: formatNumber(emails.sent) },
          {
            id: "reply-rate",
            label: "Reply rate",
            value: emails.sent > 0 ? formatPercent(emails.replied / emails.sent) : "—",
          },
          { id: "emails-bounced", label: "Bounced", value: formatNumber(emails.bounced) },
          { id: "members", label: "Members", value: formatNumber(data.members) },
        ];
        return (
          <div className="space-y-3">
            <dl aria-label="Workspace overview" className="grid grid-cols-2 gap-3 sm:grid-cols-3 lg:grid-cols-5">
              {tiles.map((tile) => (
                <div key={tile.id} className="rounded-lg bg-white px-4 py-3 shadow-sm ring-1 ring-slate-200">
                  <dt className="text-xs font-medium text-slate-600">{tile.label}</dt>
                  <dd data-testid={`overview-${tile.id}`} className="mt-1 text-2xl font-semibold tabular-nums text-slate-900">
                    {tile.value}
                  </dd>
                </div>
              ))}
            </dl>
            {data.transactions_by_currency.length > 0 && (
              <dl aria-label="Money, all time" className="flex flex-wrap gap-x-6 gap-y-1 text-sm text-slate-700">
                {data.transactions_by_currency.map((money) => (
                  <div key={money.currency} className="flex gap-1">
                    <dt>Net {money.currency}:</dt>
                    <dd className={`tabular-nums font-medium ${money.net_minor < 0 ? "text-red-700" : "text-slate-900"}`}>
                      {formatMoney(money.net_minor, money.currency)}
                    </dd>
                  </div>
                ))}
              </dl>
            )}
          </div>
        );
      }}
    </QueryState>
  );
}

function Engagement() {
  const [days, setDays] = useState(30);
  const since = useMemo(() => rangeStart(days), [days]);
  const summary = useQuery({
    queryKey: ["analytics", "summary", { interval: "day", since: since.toISOString() }],
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/analytics/summary", {
          params: { query: { interval: "day", since: since.toISOString() } },
        }),
      ),
  });

  const points = useMemo<ChartPoint[]>(() => {
    const byDay = new Map((summary.data?.buckets ?? []).map((bucket) => [bucket.start.slice(0, 10), bucket.counts]));
    // Days without events are left out by the API; the chart shows them as zero.
    return Array.from({ length: days }, (_, index) => {
      const day = new Date(since.getTime() + index * DAY_MS);
      const counts = byDay.get(day.toISOString().slice(0, 10)) ?? {};
      return {
        label: day.toLocaleDateString(undefined, { month: "short", day: "numeric", timeZone: "UTC" }),
        values: Object.fromEntries(ENGAGEMENT.map((series) => [series.key, counts[series.key] ?? 0])),
      };
    });
  }, [summary.data, days, since]);

  return (
    <Card
      title="Email engagement"
      actions={
        <div className="w-40">
          <SelectField
            label="Period"
            value={String(days)}
            onChange={(event) => setDays(Number(event.target.value))}
            options={RANGES}
          />
        </div>
      }
    >
      <QueryState query={summary} label="Loading engagement">
        {(data) => (
          <div className="space-y-3">
            <dl aria-label="Engagement in this period" className="flex flex-wrap gap-x-6 gap-y-1 text-sm">
              {ENGAGEMENT.map((series) => (
                <div key={series.key} className="flex gap-1">
                  <dt className="text-slate-600">{series.label}</dt>
                  <dd className="font-semibold tabular-nums text-slate-900">{formatNumber(data.counts[series.key] ?? 0)}</dd>
                </div>
              ))}
            </dl>
            <TimeSeriesChart
              title={`Emails sent, opened, clicked and replied per day, ${RANGES.find((r) => r.value === String(days))?.label.toLowerCase()}`}
              data={points}
              series={ENGAGEMENT}
            />
          </div>
        )}
      </QueryState>
    </Card>
  );
}

function Spend() {
  const campaigns = useQuery({
    queryKey: ["dashboard", "campaign-spend"],
    queryFn: () =>
      unwrap(api.GET("/api/v1/campaigns", { params: { query: { sort: "-created_at", limit: 50 } } })),
  });
  return (
    <Card
      title="Spend against budget"
      actions={
        <Link to="/campaigns" className="text-sm text-indigo-700 hover:underline">
          All campaigns
        </Link>
      }
    >
      <QueryState query={campaigns} label="Loading campaigns">
        {(data) => {
          const shown = data.items
            .filter((campaign) => campaign.status !== "cancelled" && (campaign.budget_minor > 0 || campaign.spent_minor > 0))
            .slice(0, 12);
          const over = shown.filter((campaign) => campaign.over_budget);
          if (shown.length === 0) {
            return (
              <Empty title="No campaign has a budget or spending yet">
                Set a budget on a campaign and record its expenses to compare them here.
              </Empty>
            );
          }
          return (
            <div className="space-y-3">
              {over.length > 0 && (
                <p role="status" className="text-sm text-red-800">
                  Over budget:{" "}
                  {over.map((campaign, index) => (
                    <span key={campaign.id}>
                      {index > 0 && ", "}
                      <Link to={`/campaigns/${campaign.id}`} className="font-medium underline">
                        {campaign.name}
                      </Link>
                    </span>
                  ))}
                </p>
              )}
              <SpendBudgetChart title="Spent against budget for the newest campaigns" items={shown} />
            </div>
          );
        }}
      </QueryState>
    </Card>
  );
}

function jobProgress(job: DiscoveryJob): { kept: number; limit: number | null } {
  const kept = Number(job.progress.kept ?? 0);
  const limit = Number(job.query.max_artists);
  return { kept: Number.isFinite(kept) ? kept : 0, limit: Number.isFinite(limit) && limit > 0 ? limit : null };
}

function jobTitle(job: DiscoveryJob): string {
  const words = ["terms", "genres", "tags", "seed_artists"].flatMap((key) => {
    const value = job.query[key];
    return Array.isArray(value) ? value.map(String) : [];
  });
  const city = typeof job.query.city === "string" ? [job.query.city] : [];
  const all = [...words, ...city];
  return all.length > 0 ? all.slice(0, 4).join(", ") + (all.length > 4 ? "…" : "") : "Discovery job";
}

function DiscoveryJobs() {
  const listOf = (status: "running" | "queued") => ({
    queryKey: ["discovery-jobs", "list", { status, limit: 10 }],
    queryFn: () => unwrap(api.GET("/api/v1/discovery-jobs", { params: { query: { status, limit: 10 } } })),
  });
  const running = useQuery(listOf("running"));
  const queued = useQuery(listOf("queued"));
  const failed = [running, queued].find((query) => !query.data && query.isError);
  // A job that started between the two reads is in both: shown once, as running.
  const jobs = [...(running.data?.items ?? []), ...(queued.data?.items ?? [])].filter(
    (job, index, all) => all.findIndex((other) => other.id === job.id) === index,
  );

  return (
    <Card
      title="Discovery under way"
      actions={
        <Link to="/discovery" className="text-sm text-indigo-700 hover:underline">
          All discovery jobs
        </Link>
      }
    >
      {running.isPending || queued.isPending ? (
        <Loading label="Loading discovery jobs" />
      ) : failed ? (
        <ErrorState error={failed.error} retry={() => void failed.refetch()} />
      ) : jobs.length === 0 ? (
        <Empty title="No discovery job is running" />
      ) : (
        <ul className="space-y-3">
          {jobs.map((job) => {
            const { kept, limit } = jobProgress(job);
            const title = jobTitle(job);
            return (
              <li key={job.id} className="space-y-1">
                <div className="flex flex-wrap items-center justify-between gap-2 text-sm">
                  <Link to={`/discovery/${job.id}`} className="font-medium text-indigo-700 hover:underline">
                    {title}
                  </Link>
                  <Badge tone={job.status === "running" ? "green" : "slate"}>
                    {job.status === "running" ? "Running" : "Queued"}
                  </Badge>
                </div>
                <progress
                  className="h-2 w-full overflow-hidden rounded-full bg-slate-200 [&::-moz-progress-bar]:bg-indigo-600 [&::-webkit-progress-bar]:bg-slate-200 [&::-webkit-progress-value]:bg-indigo-600"
                  aria-label={`Artists kept by ${title}`}
                  value={limit ? Math.min(kept, limit) : undefined}
                  max={limit ?? undefined}
                />
                <p className="text-xs text-slate-600">
                  {formatNumber(kept)} {limit ? `of ${formatNumber(limit)} ` : ""}artists kept
                  {job.started_at ? ` · started ${formatDateTime(job.started_at)}` : ""}
                </p>
              </li>
            );
          })}
        </ul>
      )}
    </Card>
  );
}

function Activity() {
  const activity = useQuery({
    queryKey: ["activity", { limit: 10 }],
    queryFn: () => unwrap(api.GET("/api/v1/audit-log", { params: { query: { limit: 10 } } })),
  });
  return (
    <Card
      title="Recent activity"
      actions={
        <Link to="/audit-log" className="text-sm text-indigo-700 hover:underline">
          Audit log
        </Link>
      }
    >
      <QueryState query={activity} label="Loading activity">
        {(data) =>
          data.items.length === 0 ? (
            <Empty title="Nothing has happened yet" />
          ) : (
            <ol aria-label="Recent activity" className="divide-y divide-slate-100">
              {data.items.map((entry) => {
                const link = activityLink(entry);
                const sentence = activitySentence(entry);
                return (
                  <li key={entry.id} className="flex flex-wrap items-baseline justify-between gap-2 py-2 text-sm">
                    {link ? (
                      <Link to={link} className="text-indigo-700 hover:underline">
                        {sentence}
                      </Link>
                    ) : (
                      <span className="text-slate-800">{sentence}</span>
                    )}
                    <time dateTime={entry.created_at} className="text-xs text-slate-600">
                      {formatDateTime(entry.created_at)}
                    </time>
                  </li>
                );
              })}
            </ol>
          )
        }
      </QueryState>
    </Card>
  );
}

export default function DashboardPage() {
  const { canAdmin, me } = useSession();
  return (
    <>
      <PageHeader
        title="Dashboard"
        description={me ? `What is happening in ${me.workspaces.find((w) => w.id === me.workspace_id)?.name ?? "this workspace"}.` : undefined}
      />
      <div className="space-y-6">
        <Overview />
        <Engagement />
        <div className="grid gap-6 xl:grid-cols-2">
          <Spend />
          <DiscoveryJobs />
        </div>
        {canAdmin && <Activity />}
      </div>
    </>
  );
}
