/** The outreach's messages, one per recipient and step: filtered by status, a page at a time,
 * with "Mark replied" and "Send again"; and the review of ``unknown`` messages, which are never
 * sent again unless a person asks, knowing the recipient may then get them twice. */
import { useId, useState } from "react";
import { useInfiniteQuery, useMutation, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "@/api/client";
import { errorMessage } from "@/api/problem";
import { Button } from "@/components/buttons";
import { FormError, SelectField } from "@/components/forms";
import { Badge, Card, Table } from "@/components/page";
import { Empty, ErrorState, Loading } from "@/components/states";
import { formatDateTime, formatNumber } from "@/lib/format";
import { Confirm } from "./Confirm";
import {
  EMAIL_STATUSES,
  EMAIL_STATUS_LABEL,
  EMAIL_STATUS_TONE,
  canMarkReplied,
  canResend,
  isEmailStatus,
  stepLabel,
  type EmailRecord,
  type EmailStatus,
} from "./status";

const PAGE_SIZE = 50;
export const REVIEW_ANCHOR = "needs-review";

function useRecords(outreachId: string, status: EmailStatus | null) {
  return useInfiniteQuery({
    queryKey: ["email-records", { outreach: outreachId, status }],
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET("/api/v1/email-records", {
          params: { query: { outreach_campaign_id: outreachId, status, limit: PAGE_SIZE, cursor: pageParam } },
        }),
      ),
    initialPageParam: null as string | null,
    getNextPageParam: (page) => page.next_cursor,
  });
}

function useRecordChanged(outreachId: string) {
  const queryClient = useQueryClient();
  return () => {
    void queryClient.invalidateQueries({ queryKey: ["email-records"] });
    void queryClient.invalidateQueries({ queryKey: ["outreach-campaigns", outreachId] });
  };
}

function MarkReplied({ record, outreachId }: { record: EmailRecord; outreachId: string }) {
  const changed = useRecordChanged(outreachId);
  const mutation = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST("/api/v1/email-records/{email_record_id}/reply", {
          params: { path: { email_record_id: record.id } },
        }),
      ),
    onSuccess: changed,
  });
  return (
    <span className="inline-flex flex-col gap-1">
      <Button
        tone="secondary"
        aria-label={`Mark replied: ${record.to_email}`}
        busy={mutation.isPending}
        onClick={() => mutation.mutate()}
      >
        Mark replied
      </Button>
      {mutation.isError && (
        <span role="alert" className="text-xs text-red-700">
          {errorMessage(mutation.error)}
        </span>
      )}
    </span>
  );
}

function useResend(record: EmailRecord, outreachId: string) {
  const changed = useRecordChanged(outreachId);
  return useMutation({
    mutationFn: () =>
      unwrap(
        api.POST("/api/v1/email-records/{email_record_id}/resend", {
          params: { path: { email_record_id: record.id } },
        }),
      ),
    onSuccess: changed,
  });
}

/** A failed message: the server refused it, so sending it again cannot make a duplicate. */
function ResendFailed({ record, outreachId }: { record: EmailRecord; outreachId: string }) {
  const mutation = useResend(record, outreachId);
  return (
    <span className="inline-flex flex-col gap-1">
      <Button
        tone="secondary"
        aria-label={`Send again: ${record.to_email}`}
        busy={mutation.isPending}
        onClick={() => mutation.mutate()}
      >
        Send again
      </Button>
      {mutation.isError && (
        <span role="alert" className="text-xs text-red-700">
          {errorMessage(mutation.error)}
        </span>
      )}
    </span>
  );
}

/** An unknown message: sent again only after the user has read that it may arrive twice. */
function ResendUnknown({ record, outreachId }: { record: EmailRecord; outreachId: string }) {
  const [confirming, setConfirming] = useState(false);
  const mutation = useResend(record, outreachId);
  return (
    <div className="space-y-2">
      <Button
        tone="secondary"
        aria-label={`Send again: ${record.to_email}`}
        aria-expanded={confirming}
        disabled={confirming}
        onClick={() => setConfirming(true)}
      >
        Send again
      </Button>
      {confirming && (
        <Confirm
          title={`Send this message to ${record.to_email} again?`}
          confirmLabel="Send again anyway"
          dismissLabel="Don't send"
          busy={mutation.isPending}
          error={mutation.isError ? `Could not send it again: ${errorMessage(mutation.error)}` : null}
          onConfirm={() => mutation.mutate()}
          onDismiss={() => {
            mutation.reset();
            setConfirming(false);
          }}
        >
          <p>
            We cannot tell whether the mail server took the first attempt. If it did, {record.to_email} will receive
            this message twice.
          </p>
          <p>If you have seen a reply or a bounce for it, do not send it again.</p>
        </Confirm>
      )}
    </div>
  );
}

/** The outreach's ``unknown`` messages with what that means and what can be done. Nothing is
 * drawn when there are none. */
export function UnknownReview({
  outreachId,
  canEdit,
  cancelled,
}: {
  outreachId: string;
  canEdit: boolean;
  cancelled: boolean;
}) {
  const headingId = useId();
  const records = useRecords(outreachId, "unknown");
  const items = records.data?.pages.flatMap((page) => page.items) ?? [];
  if (records.isPending) return null;
  if (!records.data) return <ErrorState error={records.error} retry={() => void records.refetch()} />;
  if (items.length === 0) return null;
  return (
    <section
      id={REVIEW_ANCHOR}
      aria-labelledby={headingId}
      tabIndex={-1}
      className="space-y-4 rounded-lg border border-amber-300 bg-amber-50 p-4 sm:p-6"
    >
      <h2 id={headingId} className="text-base font-semibold text-amber-950">
        Needs your review: {formatNumber(items.length)}
        {records.hasNextPage ? "+" : ""} {items.length === 1 ? "message" : "messages"} in an unknown state
      </h2>
      <div className="space-y-2 text-sm text-slate-900">
        <p>
          <strong>We cannot tell whether the server took these messages.</strong> Sending was interrupted while each
          was being handed to the mail server (the service stopped or the connection dropped mid-delivery), so it may
          have arrived, or not.
        </p>
        <p>
          They are never sent again by themselves, because a second attempt could reach the recipient twice. If the
          recipient answered, mark it replied. Otherwise you may send it again, accepting that risk.
        </p>
        {cancelled && <p className="font-medium">This outreach is cancelled, so its messages cannot be sent again.</p>}
      </div>
      <ul className="divide-y divide-amber-200 rounded-md bg-white ring-1 ring-amber-200">
        {items.map((record) => (
          <li key={record.id} className="flex flex-wrap items-start justify-between gap-3 p-3 text-sm">
            <div className="min-w-0">
              <p className="break-all font-medium">{record.to_email}</p>
              <p className="text-slate-600">
                {stepLabel(record.step)} · interrupted {formatDateTime(record.updated_at)} · {formatNumber(record.attempts)}{" "}
                {record.attempts === 1 ? "attempt" : "attempts"}
              </p>
              {record.error && <p className="text-slate-600">{record.error}</p>}
            </div>
            {canEdit && (
              <div className="flex flex-wrap items-start gap-2">
                <MarkReplied record={record} outreachId={outreachId} />
                {!cancelled && <ResendUnknown record={record} outreachId={outreachId} />}
              </div>
            )}
          </li>
        ))}
      </ul>
      {records.hasNextPage && (
        <Button tone="secondary" busy={records.isFetchingNextPage} onClick={() => void records.fetchNextPage()}>
          Load more messages to review
        </Button>
      )}
    </section>
  );
}

export function RecordsCard({
  outreachId,
  canEdit,
  cancelled,
}: {
  outreachId: string;
  canEdit: boolean;
  cancelled: boolean;
}) {
  const [filter, setFilter] = useState<EmailStatus | null>(null);
  const records = useRecords(outreachId, filter);
  const items = records.data?.pages.flatMap((page) => page.items) ?? [];

  return (
    <Card title="Messages">
      <div className="space-y-4">
        <div className="max-w-xs">
          <SelectField
            label="Status"
            value={filter ?? ""}
            onChange={(event) => setFilter(isEmailStatus(event.target.value) ? event.target.value : null)}
            options={[
              { value: "", label: "All statuses" },
              ...EMAIL_STATUSES.map((status) => ({ value: status, label: EMAIL_STATUS_LABEL[status] })),
            ]}
          />
        </div>
        {records.isPending ? (
          <Loading label="Loading messages" />
        ) : !records.data ? (
          <ErrorState error={records.error} retry={() => void records.refetch()} />
        ) : items.length === 0 ? (
          <Empty title={filter ? `No ${EMAIL_STATUS_LABEL[filter].toLowerCase()} messages` : "No messages yet"}>
            {filter ? "Choose another status to see the rest." : "Add recipients: each gets a queued message."}
          </Empty>
        ) : (
          <>
            <Table
              caption="Messages of this outreach"
              head={["Recipient", "Step", "Status", "Sent", "Attempts", "Last error", ...(canEdit ? ["Actions"] : [])]}
            >
              {items.map((record) => (
                <tr key={record.id}>
                  <td className="break-all px-3 py-2">{record.to_email}</td>
                  <td className="whitespace-nowrap px-3 py-2">{stepLabel(record.step)}</td>
                  <td className="px-3 py-2">
                    <Badge tone={EMAIL_STATUS_TONE[record.status]}>{EMAIL_STATUS_LABEL[record.status]}</Badge>
                  </td>
                  <td className="whitespace-nowrap px-3 py-2">
                    {record.sent_at ? formatDateTime(record.sent_at) : record.send_after ? `Not before ${formatDateTime(record.send_after)}` : "—"}
                  </td>
                  <td className="px-3 py-2 tabular-nums">{formatNumber(record.attempts)}</td>
                  <td className="max-w-xs px-3 py-2 text-slate-600">{record.error ?? "—"}</td>
                  {canEdit && (
                    <td className="px-3 py-2">
                      <div className="flex flex-wrap gap-2">
                        {record.status === "unknown" ? (
                          // Its actions live in the review above, beside what they risk.
                          <a className="self-center text-sm text-indigo-700 underline" href={`#${REVIEW_ANCHOR}`}>
                            Review
                          </a>
                        ) : (
                          <>
                            {canMarkReplied(record.status) && <MarkReplied record={record} outreachId={outreachId} />}
                            {canResend(record.status) && !cancelled && (
                              <ResendFailed record={record} outreachId={outreachId} />
                            )}
                          </>
                        )}
                      </div>
                    </td>
                  )}
                </tr>
              ))}
            </Table>
            {records.hasNextPage && (
              <Button tone="secondary" busy={records.isFetchingNextPage} onClick={() => void records.fetchNextPage()}>
                Load more messages
              </Button>
            )}
            {records.isFetchNextPageError && (
              <FormError message={`Could not load more: ${errorMessage(records.error)}`} />
            )}
          </>
        )}
      </div>
    </Card>
  );
}
