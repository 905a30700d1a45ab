/** Discovery: start a job that walks SoundCloud for artists, and follow the workspace's jobs. */
import { useMemo, useState } from "react";
import { Link, useNavigate } from "react-router";
import { useInfiniteQuery } from "@tanstack/react-query";
import { api, unwrap } from "@/api/client";
import { errorMessage } from "@/api/problem";
import { useSession } from "@/auth/session";
import { Button } from "@/components/buttons";
import { SelectField } from "@/components/forms";
import { Card, PageHeader } from "@/components/page";
import { Empty, ErrorState, Loading } from "@/components/states";
import { formatDateTime, formatNumber } from "@/lib/format";
import { DiscoveryForm } from "./DiscoveryForm";
import { StatusBadge, useCancelJob } from "./jobParts";
import { counter, describeQuery, isActive, maxArtistsOf, type DiscoveryJobRead, type DiscoveryJobStatus } from "./query";

const STATUS_FILTER = [
  { value: "", label: "All" },
  { value: "queued", label: "Queued" },
  { value: "running", label: "Running" },
  { value: "completed", label: "Completed" },
  { value: "failed", label: "Failed" },
  { value: "cancelled", label: "Cancelled" },
];

// Live events refresh the list; this is the fallback while a job is under way.
const POLL_MS = 5_000;

function JobRow({ job }: { job: DiscoveryJobRead }) {
  const { canEdit } = useSession();
  const cancel = useCancelJob();
  const kept = counter(job.progress, "kept");
  const limit = maxArtistsOf(job);
  const summary = describeQuery(job.query);
  return (
    <tr>
      <td className="px-3 py-2 align-top">
        <Link to={`/discovery/${job.id}`} className="font-medium text-indigo-700 underline">
          {summary}
        </Link>
        {job.error && <p className="mt-1 max-w-md text-xs text-red-800">{job.error}</p>}
      </td>
      <td className="px-3 py-2 align-top">
        <StatusBadge status={job.status} />
      </td>
      <td className="whitespace-nowrap px-3 py-2 align-top tabular-nums">
        {formatNumber(kept)}
        {limit !== null && ` of ${formatNumber(limit)}`} kept
        <div className="text-xs text-slate-600">{formatNumber(counter(job.progress, "examined"))} examined</div>
      </td>
      <td className="whitespace-nowrap px-3 py-2 align-top">{formatDateTime(job.created_at)}</td>
      <td className="whitespace-nowrap px-3 py-2 align-top">
        {canEdit && isActive(job.status) && (
          <Button
            tone="secondary"
            busy={cancel.isPending}
            aria-label={`Cancel job ${summary}`}
            onClick={() => cancel.mutate(job.id)}
          >
            Cancel
          </Button>
        )}
        {cancel.isError && (
          <p role="alert" className="mt-1 text-xs text-red-800">
            {errorMessage(cancel.error)}
          </p>
        )}
      </td>
    </tr>
  );
}

function JobList() {
  const [status, setStatus] = useState<"" | DiscoveryJobStatus>("");
  const jobs = useInfiniteQuery({
    queryKey: ["discovery-jobs", "list", status],
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET("/api/v1/discovery-jobs", {
          params: { query: { status: status || undefined, limit: 25, cursor: pageParam ?? undefined } },
        }),
      ),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next_cursor,
    refetchInterval: (query) =>
      query.state.data?.pages.some((page) => page.items.some((job) => isActive(job.status))) ? POLL_MS : false,
  });
  const items = useMemo(() => jobs.data?.pages.flatMap((page) => page.items) ?? [], [jobs.data]);
  return (
    <Card
      title="Jobs"
      actions={
        <div className="w-40">
          <SelectField
            label="Status"
            options={STATUS_FILTER}
            value={status}
            onChange={(event) => setStatus(event.target.value as "" | DiscoveryJobStatus)}
          />
        </div>
      }
    >
      {jobs.isPending ? (
        <Loading label="Loading jobs" />
      ) : jobs.isError && items.length === 0 ? (
        <ErrorState error={jobs.error} retry={() => void jobs.refetch()} />
      ) : items.length === 0 ? (
        <Empty title={status ? "No jobs with this status" : "No discovery jobs yet"}>
          A job searches SoundCloud from your terms, genres, tags or seed artists and keeps the
          artists that pass your filters.
        </Empty>
      ) : (
        <div className="space-y-3">
          <div role="group" aria-label="Discovery jobs" tabIndex={0} className="overflow-x-auto">
            <table className="min-w-full divide-y divide-slate-200 text-sm">
              <caption className="sr-only">Discovery jobs</caption>
              <thead className="bg-slate-50">
                <tr>
                  {["Query", "Status", "Progress", "Created", "Actions"].map((column) => (
                    <th key={column} scope="col" className="px-3 py-2 text-left font-semibold text-slate-700">
                      {column}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody className="divide-y divide-slate-100">
                {items.map((job) => (
                  <JobRow key={job.id} job={job} />
                ))}
              </tbody>
            </table>
          </div>
          {jobs.isFetchNextPageError && <ErrorState error={jobs.error} retry={() => void jobs.fetchNextPage()} />}
          {jobs.hasNextPage && (
            <Button tone="secondary" busy={jobs.isFetchingNextPage} onClick={() => void jobs.fetchNextPage()}>
              Load more jobs
            </Button>
          )}
        </div>
      )}
    </Card>
  );
}

export default function DiscoveryPage() {
  const { canEdit, role } = useSession();
  const navigate = useNavigate();
  return (
    <div className="space-y-6">
      <PageHeader
        title="Discovery"
        description="Find artists on SoundCloud: a job walks from what you name through related artists and keeps those that match."
      />
      {canEdit && (
        <Card title="New discovery job">
          <DiscoveryForm onStarted={(job) => navigate(`/discovery/${job.id}`)} />
        </Card>
      )}
      {/* Said once the role is known, not while it loads. */}
      {role !== undefined && !canEdit && (
        <p className="rounded-md bg-slate-50 p-3 text-sm text-slate-700 ring-1 ring-slate-200">
          Viewers can follow jobs and browse what they found; starting one takes an editor.
        </p>
      )}
      <JobList />
    </div>
  );
}
