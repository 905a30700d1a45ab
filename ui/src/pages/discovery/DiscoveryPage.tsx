/** Discovery: start a job that walks SoundCloud for artists, and follow the workspace's jobs. */
import { useState } from "react";
import { Link, useNavigate } from "react-router";
import { api, unwrap } from "@/api/client";
import { useSession } from "@/auth/session";
import { Button } from "@/components/buttons";
import { ActionError, SelectField } from "@/components/forms";
import { Card, PageHeader, Table } from "@/components/page";
import { PagedList } from "@/components/paged";
import { Empty } from "@/components/states";
import { formatDateTime, formatNumber } from "@/lib/format";
import { usePagedList } from "@/lib/paging";
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
        <ActionError error={cancel.error} />
      </td>
    </tr>
  );
}

function JobList() {
  const [status, setStatus] = useState<"" | DiscoveryJobStatus>("");
  const jobs = usePagedList(
    ["discovery-jobs", "list", status],
    (cursor) =>
      unwrap(api.GET("/api/v1/discovery-jobs", { params: { query: { status: status || undefined, limit: 25, cursor } } })),
    { poll: (items) => (items.some((job) => isActive(job.status)) ? POLL_MS : false) },
  );
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
      <PagedList
        list={jobs}
        loading="Loading jobs"
        more="Load more jobs"
        empty={
          <Empty title={status ? "No jobs with this status" : "No discovery jobs yet"}>
            A job searches SoundCloud from your terms, genres, tags or seed artists and keeps the
            artists that pass your filters.
          </Empty>
        }
      >
        {(items) => (
          <Table caption="Discovery jobs" head={["Query", "Status", "Progress", "Created", "Actions"]}>
            {items.map((job) => (
              <JobRow key={job.id} job={job} />
            ))}
          </Table>
        )}
      </PagedList>
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
