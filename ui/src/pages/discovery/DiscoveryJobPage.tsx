/** One discovery job, live: its status and counters (refreshed by live events, and polled
 * every 3 s while it runs), cancelling it, and the artists it kept, to add to a campaign. */
import { useEffect, useMemo, useRef } from "react";
import { Link, useParams } from "react-router";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "@/api/client";
import { errorMessage } from "@/api/problem";
import { useSession } from "@/auth/session";
import { Button } from "@/components/buttons";
import { Card, PageHeader } from "@/components/page";
import { PagedList } from "@/components/paged";
import { Empty, ErrorState, Loading } from "@/components/states";
import { formatDateTime, formatNumber } from "@/lib/format";
import { usePagedList } from "@/lib/paging";
import { AddToCampaign } from "@/pages/artists/AddToCampaign";
import { ArtistTable, useSelection } from "@/pages/artists/ArtistTable";
import { StatusBadge, useCancelJob } from "./jobParts";
import {
  counter,
  describeQuery,
  isActive,
  maxArtistsOf,
  scraperCounter,
  type DiscoveryJobRead,
} from "./query";

const POLL_MS = 3_000;

function duration(job: DiscoveryJobRead): string | null {
  if (!job.started_at) return null;
  const end = job.finished_at ? new Date(job.finished_at).getTime() : Date.now();
  const seconds = Math.max(0, Math.round((end - new Date(job.started_at).getTime()) / 1000));
  if (Number.isNaN(seconds)) return null;
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return h > 0 ? `${h} h ${m} min` : m > 0 ? `${m} min ${s} s` : `${s} s`;
}

function barPercent(done: number, total: number): number {
  return Math.round(Math.min(Math.max(done / total, 0), 1) * 1000) / 10;
}

function Stat({ label, value, testId, hint }: { label: string; value: number; testId: string; hint?: string }) {
  return (
    <div className="rounded-md bg-slate-50 p-3 ring-1 ring-slate-200">
      <dt className="text-xs text-slate-600">{label}</dt>
      <dd className="text-lg font-semibold tabular-nums text-slate-900" data-testid={testId}>
        {formatNumber(value)}
      </dd>
      {hint && <dd className="text-xs text-slate-600">{hint}</dd>}
    </div>
  );
}

function reasonLabel(key: string): string {
  return key.replace(/^skipped_/, "").replace(/_/g, " ");
}

function Progress({ job }: { job: DiscoveryJobRead }) {
  const progress = job.progress;
  const kept = counter(progress, "kept");
  const limit = maxArtistsOf(job);
  const skippedReasons = Object.entries(progress)
    .filter(([key, value]) => key.startsWith("skipped_") && typeof value === "number" && value > 0)
    .sort(([, a], [, b]) => (b as number) - (a as number)) as [string, number][];
  const took = duration(job);
  return (
    <Card title="Progress">
      <div className="space-y-4">
        <div className="flex flex-wrap items-center gap-x-4 gap-y-1 text-sm text-slate-700">
          <span className="flex items-center gap-2">
            Status <span data-testid="job-status"><StatusBadge status={job.status} /></span>
          </span>
          <span>Created {formatDateTime(job.created_at)}</span>
          {job.started_at && <span>Started {formatDateTime(job.started_at)}</span>}
          {job.finished_at && <span>Finished {formatDateTime(job.finished_at)}</span>}
          {took && <span>{job.finished_at ? "Took" : "Running for"} {took}</span>}
        </div>
        {job.error && (
          <div role="alert" className="rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800">
            {job.error}
          </div>
        )}
        {limit !== null && (
          <div className="space-y-1">
            <div className="flex justify-between text-xs text-slate-600">
              <span id="job-progress-label">Artists kept</span>
              <span>
                {formatNumber(kept)} of {formatNumber(limit)}
              </span>
            </div>
            <div
              role="progressbar"
              aria-labelledby="job-progress-label"
              aria-valuemin={0}
              aria-valuemax={limit}
              aria-valuenow={Math.min(kept, limit)}
            >
              {/* SVG attributes, not inline styles: the CSP allows no style attribute. */}
              <svg className="block h-2 w-full" aria-hidden="true" preserveAspectRatio="none">
                <rect width="100%" height="100%" rx="4" className="fill-slate-200" />
                <rect width={`${barPercent(kept, limit)}%`} height="100%" rx="4" className="fill-indigo-600" />
              </svg>
            </div>
          </div>
        )}
        <dl className="grid grid-cols-2 gap-3 text-sm sm:grid-cols-3 lg:grid-cols-4">
          <Stat label="Kept" value={kept} testId="count-kept" />
          <Stat label="Examined" value={counter(progress, "examined")} testId="count-examined" />
          <Stat label="Profiles read" value={counter(progress, "read")} testId="count-read" />
          <Stat
            label="Filtered out"
            value={counter(progress, "filtered") + counter(progress, "filtered_early")}
            testId="count-filtered"
          />
          <Stat label="Pages fetched" value={scraperCounter(progress, "requests")} testId="count-requests" />
          <Stat
            label="Errors"
            value={counter(progress, "skipped") + scraperCounter(progress, "failures")}
            testId="count-errors"
            hint="Pages skipped or requests failed"
          />
          <Stat label="New to the catalogue" value={counter(progress, "inserted")} testId="count-inserted" />
          <Stat label="Contacts found" value={counter(progress, "contacts")} testId="count-contacts" />
          <Stat label="Waiting to visit" value={counter(progress, "frontier")} testId="count-frontier" />
        </dl>
        {skippedReasons.length > 0 && (
          <div className="text-sm">
            <h3 className="font-medium text-slate-900">Pages skipped, by reason</h3>
            <ul className="mt-1 flex flex-wrap gap-x-4 gap-y-1 text-slate-700">
              {skippedReasons.map(([key, value]) => (
                <li key={key}>
                  {reasonLabel(key)}: <span className="tabular-nums">{formatNumber(value)}</span>
                </li>
              ))}
            </ul>
          </div>
        )}
      </div>
    </Card>
  );
}

function QuerySummary({ query }: { query: Record<string, unknown> }) {
  const rows: [string, string][] = [];
  const list = (key: string, label: string) => {
    const value = query[key];
    if (Array.isArray(value) && value.length > 0) rows.push([label, value.join(", ")]);
  };
  const one = (key: string, label: string) => {
    const value = query[key];
    if (value !== null && value !== undefined && value !== "") {
      rows.push([label, typeof value === "number" ? formatNumber(value) : String(value)]);
    }
  };
  list("terms", "Search terms");
  list("genres", "Genres");
  list("tags", "Tags");
  list("seed_artists", "Seed artists");
  one("city", "City");
  one("country", "Country");
  one("min_followers", "Minimum followers");
  one("max_followers", "Maximum followers");
  one("active_within_days", "Active within days");
  one("max_artists", "Maximum artists");
  one("max_depth", "Maximum depth");
  list("expand", "Follows");
  return (
    <Card title="Query">
      <dl className="grid gap-x-6 gap-y-2 text-sm sm:grid-cols-[max-content_1fr]">
        {rows.map(([label, value]) => (
          <div key={label} className="contents">
            <dt className="font-medium text-slate-700">{label}</dt>
            <dd className="break-words text-slate-900">{value}</dd>
          </div>
        ))}
      </dl>
    </Card>
  );
}

function Results({ job }: { job: DiscoveryJobRead }) {
  const { canEdit } = useSession();
  const queryClient = useQueryClient();
  const selection = useSelection();
  const resultsKey = useMemo(() => ["discovery-jobs", job.id, "artists"] as const, [job.id]);
  const results = usePagedList(resultsKey, (cursor) =>
    unwrap(
      api.GET("/api/v1/discovery-jobs/{job_id}/artists", {
        params: { path: { job_id: job.id }, query: { limit: 50, cursor } },
      }),
    ),
  );

  // The poll reads the job only: when it has kept more, the results are read again too.
  const kept = counter(job.progress, "kept");
  const seenKept = useRef(kept);
  useEffect(() => {
    if (seenKept.current === kept) return;
    seenKept.current = kept;
    void queryClient.invalidateQueries({ queryKey: resultsKey });
  }, [kept, queryClient, resultsKey]);

  const items = useMemo(() => results.data ?? [], [results.data]);
  const names = useMemo(() => new Map(items.map((item) => [item.artist.id, item.artist.name])), [items]);
  return (
    <Card title="Artists found">
      <div className="space-y-3">
        {canEdit && items.length > 0 && (
          <AddToCampaign artistIds={[...selection.selected]} names={names} onAdded={selection.clear} />
        )}
        <PagedList
          list={results}
          loading="Loading artists found"
          more="Load more artists"
          empty={
            <Empty title={isActive(job.status) ? "Nothing kept yet" : "This job kept no artists"}>
              {isActive(job.status)
                ? "Artists appear here as the job keeps them."
                : "Try wider filters, more depth, or other starting points."}
            </Empty>
          }
        >
          {(found) => (
            <ArtistTable
              caption="Artists this job kept, best score first"
              items={found}
              artistOf={(item) => item.artist}
              selection={canEdit ? selection : undefined}
              extraColumns={[
                { header: "Score", numeric: true, cell: (item) => item.score.toFixed(1) },
                { header: "Depth", numeric: true, cell: (item) => item.depth },
                { header: "Found", cell: (item) => formatDateTime(item.found_at) },
              ]}
            />
          )}
        </PagedList>
      </div>
    </Card>
  );
}

export default function DiscoveryJobPage() {
  const { jobId = "" } = useParams();
  const { canEdit } = useSession();
  const cancel = useCancelJob();
  const job = useQuery({
    queryKey: ["discovery-jobs", jobId],
    queryFn: () => unwrap(api.GET("/api/v1/discovery-jobs/{job_id}", { params: { path: { job_id: jobId } } })),
    enabled: jobId !== "",
    // Live events refresh it as it goes; polling covers a dropped socket.
    refetchInterval: (query) => (query.state.data && isActive(query.state.data.status) ? POLL_MS : false),
  });

  const breadcrumb = (
    <nav aria-label="Breadcrumb" className="text-sm">
      <Link to="/discovery" className="text-indigo-700 underline">
        Discovery
      </Link>
      <span aria-hidden="true" className="mx-1 text-slate-500">
        /
      </span>
      <span className="text-slate-700">Job</span>
    </nav>
  );

  if (job.isPending) return <Loading label="Loading discovery job" />;
  if (job.data === undefined) {
    return (
      <div className="space-y-4">
        {breadcrumb}
        <PageHeader title="Discovery job" />
        <ErrorState error={job.error} retry={() => void job.refetch()} />
      </div>
    );
  }
  const data = job.data;
  return (
    <div className="space-y-6">
      {breadcrumb}
      <PageHeader
        title="Discovery job"
        description={describeQuery(data.query)}
        actions={
          canEdit &&
          isActive(data.status) && (
            <Button tone="danger" busy={cancel.isPending} onClick={() => cancel.mutate(data.id)}>
              Cancel job
            </Button>
          )
        }
      />
      {cancel.isError && (
        <div role="alert" className="rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800">
          Could not cancel: {errorMessage(cancel.error)}
        </div>
      )}
      {job.isError && (
        <p role="status" className="text-sm text-amber-800">
          Could not refresh the job ({errorMessage(job.error)}); showing what was last read.
        </p>
      )}
      <Progress job={data} />
      <Results job={data} />
      <QuerySummary query={data.query} />
    </div>
  );
}
