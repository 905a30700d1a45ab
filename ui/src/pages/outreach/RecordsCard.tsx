/** The outreach's messages, one per recipient and step: filtered by status, a page at a time,
 * with "Mark replied" and "Send again"; and the review of ``unknown`` messages, which are never
 * sent again unless a person asks, knowing the recipient may then get them twice. */
import { useId, useState } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "@/api/client";
import { errorMessage } from "@/api/problem";
import { Button } from "@/components/buttons";
import { Confirmation } from "@/components/confirm";
import { ActionError, SelectField } from "@/components/forms";
import { Badge, Card, Table } from "@/components/page";
import { LoadMore, PagedList } from "@/components/paged";
import { Empty, ErrorState } from "@/components/states";
import { formatDateTime, formatNumber } from "@/lib/format";
import { usePagedList } from "@/lib/paging";
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

interface RecordsProps {
  outreachId: string;
  /** Editors mark messages replied and send them again. */
  canEdit: boolean;
  /** A cancelled outreach's messages are never sent again. */
  cancelled: boolean;
}
export const REVIEW_ANCHOR = "needs-review";

function useRecords(outreachId: string, status: EmailStatus | null) {
  return usePagedList(["email-records", { outreach: outreachId, status }], (cursor) =>
    unwrap(
      api.GET("/api/v1/email-records", {
        params: { query: { outreach_campaign_id: outreachId, status, limit: PAGE_SIZE, cursor } },
      }),
    ),
  );
}

function useRecordChanged(outreachId: string) {
  const queryClient = useQueryClient();
  return () => {
    void queryClient.invalidateQueries({ queryKey: ["email-records"] });
    void queryClient.invalidateQueries({ queryKey: ["outreach-campaigns", outreachId] });
  };
}

/** Marks a message replied, or queues it to be sent again; the outreach's numbers follow. */
function useRecordCommand(record: EmailRecord, outreachId: string, command: "reply" | "resend") {
  const changed = useRecordChanged(outreachId);
  return useMutation({
    mutationFn: () => {
      const path = { params: { path: { email_record_id: record.id } } };
      return unwrap(
        command === "reply"
          ? api.POST("/api/v1/email-records/{email_record_id}/reply", path)
          : api.POST("/api/v1/email-records/{email_record_id}/resend", path),
      );
    },
    onSuccess: changed,
  });
}

const COMMAND_LABEL = { reply: "Mark replied", resend: "Send again" } as const;

/** "Mark replied", or "Send again" for a failed message (the server refused it, so sending it
 * again cannot make a duplicate), with why it did not work below it. */
function RecordCommand({ record, outreachId, command }: { record: EmailRecord; outreachId: string; command: "reply" | "resend" }) {
  const mutation = useRecordCommand(record, outreachId, command);
  return (
    <span className="inline-flex flex-col">
      <Button
        tone="secondary"
        aria-label={`${COMMAND_LABEL[command]}: ${record.to_email}`}
        busy={mutation.isPending}
        onClick={() => mutation.mutate()}
      >
        {COMMAND_LABEL[command]}
      </Button>
      <ActionError error={mutation.error} />
    </span>
  );
}

/** An unknown message: sent again only after the user has read that it may arrive twice. */
function ResendUnknown({ record, outreachId }: { record: EmailRecord; outreachId: string }) {
  const [confirming, setConfirming] = useState(false);
  const mutation = useRecordCommand(record, outreachId, "resend");
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
        <Confirmation
          question={`Send this message to ${record.to_email} again?`}
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
        </Confirmation>
      )}
    </div>
  );
}

/** The outreach's ``unknown`` messages with what that means and what can be done. Nothing is
 * drawn when there are none. */
export function UnknownReview({ outreachId, canEdit, cancelled }: RecordsProps) {
  const headingId = useId();
  const records = useRecords(outreachId, "unknown");
  if (records.isPending) return null;
  if (!records.data) return <ErrorState error={records.error} retry={() => void records.refetch()} />;
  const items = records.data;
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
                <RecordCommand record={record} outreachId={outreachId} command="reply" />
                {!cancelled && <ResendUnknown record={record} outreachId={outreachId} />}
              </div>
            )}
          </li>
        ))}
      </ul>
      <LoadMore list={records} label="Load more messages to review" />
    </section>
  );
}

export function RecordsCard({ outreachId, canEdit, cancelled }: RecordsProps) {
  const [filter, setFilter] = useState<EmailStatus | null>(null);
  const records = useRecords(outreachId, filter);

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
        <PagedList
          list={records}
          loading="Loading messages"
          more="Load more messages"
          empty={
            <Empty title={filter ? `No ${EMAIL_STATUS_LABEL[filter].toLowerCase()} messages` : "No messages yet"}>
              {filter ? "Choose another status to see the rest." : "Add recipients: each gets a queued message."}
            </Empty>
          }
        >
          {(items) => (
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
                            {canMarkReplied(record.status) && (
                              <RecordCommand record={record} outreachId={outreachId} command="reply" />
                            )}
                            {canResend(record.status) && !cancelled && (
                              <RecordCommand record={record} outreachId={outreachId} command="resend" />
                            )}
                          </>
                        )}
                      </div>
                    </td>
                  )}
                </tr>
              ))}
            </Table>
          )}
        </PagedList>
      </div>
    </Card>
  );
}
