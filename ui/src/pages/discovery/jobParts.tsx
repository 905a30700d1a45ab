/** Pieces the job list and the job page share: the status badge and cancelling a job. */
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "@/api/client";
import { Badge } from "@/components/page";
import type { DiscoveryJobRead, DiscoveryJobStatus } from "./query";

const STATUS: Record<DiscoveryJobStatus, { label: string; tone: "slate" | "indigo" | "green" | "red" | "amber" }> = {
  queued: { label: "Queued", tone: "slate" },
  running: { label: "Running", tone: "indigo" },
  completed: { label: "Completed", tone: "green" },
  failed: { label: "Failed", tone: "red" },
  cancelled: { label: "Cancelled", tone: "amber" },
};

export function StatusBadge({ status }: { status: DiscoveryJobStatus }) {
  const shown = STATUS[status] ?? { label: status, tone: "slate" as const };
  return <Badge tone={shown.tone}>{shown.label}</Badge>;
}

/** Cancels a job; the answer replaces the cached job and every job list is read again. */
export function useCancelJob() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (jobId: string) =>
      unwrap(api.POST("/api/v1/discovery-jobs/{job_id}/cancel", { params: { path: { job_id: jobId } } })),
    onSuccess: (job: DiscoveryJobRead) => {
      queryClient.setQueryData(["discovery-jobs", job.id], job);
      void queryClient.invalidateQueries({ queryKey: ["discovery-jobs"] });
    },
  });
}
