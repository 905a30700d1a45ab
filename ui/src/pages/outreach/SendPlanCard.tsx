/** When the queued messages would go, as things stand: from now or the schedule, at the
 * mailbox's pace and in each recipient's sending window. */
import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "@/api/client";
import { Card, Table } from "@/components/page";
import { QueryState } from "@/components/states";
import { formatDateTime, formatNumber } from "@/lib/format";
import type { Mailbox } from "./lookups";
import { formatUtcDay } from "./status";

export function SendPlanCard({ outreachId, mailboxes }: { outreachId: string; mailboxes: Mailbox[] | undefined }) {
  const plan = useQuery({
    queryKey: ["outreach-campaigns", outreachId, "plan"],
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/outreach-campaigns/{outreach_campaign_id}/plan", {
          params: { path: { outreach_campaign_id: outreachId } },
        }),
      ),
  });
  return (
    <Card title="Send plan">
      <QueryState query={plan} label="Working out the send plan">
        {(data) => {
          if (data.queued === 0) {
            return <p className="text-sm text-slate-600">Nothing is queued: add recipients to see when they would go.</p>;
          }
          const mailbox = data.mailbox_id ? mailboxes?.find((m) => m.id === data.mailbox_id) : undefined;
          const through = data.mailbox_id
            ? `${mailbox?.name ?? "the mailbox"}, at its pace and in each recipient's sending window`
            : "the outbox folder, limited only by the daily limit";
          return (
            <div className="space-y-4">
              <p className="text-sm text-slate-700">
                {formatNumber(data.queued)} queued {data.queued === 1 ? "message goes" : "messages go"} through {through}.
                {data.planned < data.queued &&
                  ` The plan covers the first ${formatNumber(data.planned)} in send order.`}
              </p>
              <dl className="grid grid-cols-1 gap-3 text-sm sm:grid-cols-2 lg:grid-cols-4">
                <div>
                  <dt className="text-slate-600">Starting</dt>
                  <dd data-testid="plan-start" className="font-medium">{formatDateTime(data.start_at)}</dd>
                </div>
                <div>
                  <dt className="text-slate-600">First message</dt>
                  <dd data-testid="plan-first" className="font-medium">{formatDateTime(data.first_send_at)}</dd>
                </div>
                <div>
                  <dt className="text-slate-600">Last message</dt>
                  <dd data-testid="plan-last" className="font-medium">{formatDateTime(data.last_send_at)}</dd>
                </div>
                <div>
                  <dt className="text-slate-600">Days of sending</dt>
                  <dd data-testid="plan-days" className="font-medium">{formatNumber(data.days_needed)}</dd>
                </div>
              </dl>
              {data.days.length > 0 && (
                <div className="max-h-80 overflow-y-auto">
                  <Table caption="Messages planned per day (UTC)" head={["Day (UTC)", "Messages"]}>
                    {data.days.map((day) => (
                      <tr key={day.day}>
                        <td className="px-3 py-2">{formatUtcDay(day.day)}</td>
                        <td className="px-3 py-2 tabular-nums">{formatNumber(day.messages)}</td>
                      </tr>
                    ))}
                  </Table>
                </div>
              )}
              {data.days_truncated && (
                <p className="text-sm text-slate-600">Only the first year of sending days is listed.</p>
              )}
            </div>
          );
        }}
      </QueryState>
    </Card>
  );
}
