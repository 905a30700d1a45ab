/** /outreach: the workspace's outreach campaigns (filtered by status and campaign, a page at a
 * time) and the form that creates one. ``?campaign=<id>`` filters the list by that campaign and
 * opens the form with it chosen. */
import { useId, useState } from "react";
import { Link, useNavigate } from "react-router";
import { useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "@/api/client";
import { useSession } from "@/auth/session";
import { Button } from "@/components/buttons";
import { SelectField } from "@/components/forms";
import { Badge, Card, PageHeader, Table } from "@/components/page";
import { PagedList } from "@/components/paged";
import { Empty } from "@/components/states";
import { formatDateTime, formatNumber } from "@/lib/format";
import { usePagedList } from "@/lib/paging";
import { useFilterParams } from "@/lib/searchParams";
import { byId, useCampaignOptions, useMailboxes } from "./lookups";
import { EMPTY_SETTINGS, OutreachSettingsForm, toBody } from "./OutreachSettingsForm";
import { OUTREACH_STATUS_LABEL, OUTREACH_STATUS_TONE, OUTREACH_STATUSES, isOutreachStatus } from "./status";

const PAGE_SIZE = 50;

export default function OutreachListPage() {
  const { canEdit } = useSession();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [params, setFilter] = useFilterParams();
  const campaignFilter = params.get("campaign") || null;
  const rawStatus = params.get("status");
  const statusFilter = isOutreachStatus(rawStatus) ? rawStatus : null;
  const [creating, setCreating] = useState(campaignFilter !== null);
  const formId = useId();

  const campaigns = useCampaignOptions(campaignFilter);
  const mailboxes = useMailboxes();
  const campaignById = byId(campaigns.campaigns);
  const mailboxById = byId(mailboxes.data?.items);

  const list = usePagedList(["outreach-campaigns", "list", { status: statusFilter, campaign: campaignFilter }], (cursor) =>
    unwrap(
      api.GET("/api/v1/outreach-campaigns", {
        params: { query: { limit: PAGE_SIZE, cursor, status: statusFilter, campaign_id: campaignFilter } },
      }),
    ),
  );


  const filterCampaign = campaignFilter ? campaignById.get(campaignFilter) : undefined;

  return (
    <>
      <PageHeader
        title="Outreach"
        description="Emails sent from a template to a list of recipients, with follow-ups, at a pace the mailbox allows."
        actions={
          canEdit && (
            <Button aria-expanded={creating} aria-controls={formId} onClick={() => setCreating((open) => !open)}>
              {creating ? "Close the form" : "New outreach"}
            </Button>
          )
        }
      />
      <div className="space-y-6">
        {canEdit && creating && (
          <div id={formId}>
            <Card title="New outreach campaign">
              <OutreachSettingsForm
                label="New outreach campaign"
                submitLabel="Create outreach"
                initial={{ ...EMPTY_SETTINGS, campaign_id: campaignFilter ?? "" }}
                onDiscard={() => setCreating(false)}
                discardLabel="Cancel"
                onSubmit={async (values) => {
                  const created = await unwrap(api.POST("/api/v1/outreach-campaigns", { body: toBody(values) }));
                  queryClient.setQueryData(["outreach-campaigns", created.id], created);
                  void queryClient.invalidateQueries({ queryKey: ["outreach-campaigns", "list"] });
                  navigate(`/outreach/${created.id}`);
                }}
              />
            </Card>
          </div>
        )}

        <section aria-label="Filters" className="grid gap-4 sm:grid-cols-2 lg:max-w-2xl">
          <SelectField
            label="Status"
            value={statusFilter ?? ""}
            onChange={(event) => setFilter("status", event.target.value)}
            options={[
              { value: "", label: "All statuses" },
              ...OUTREACH_STATUSES.map((status) => ({ value: status, label: OUTREACH_STATUS_LABEL[status] })),
            ]}
          />
          <SelectField
            label="Campaign"
            value={campaignFilter ?? ""}
            onChange={(event) => setFilter("campaign", event.target.value)}
            disabled={campaigns.isPending}
            options={[
              { value: "", label: "All campaigns" },
              ...campaigns.campaigns.map((c) => ({ value: c.id, label: c.name })),
              // An id from a link that names no campaign we could read still shows as chosen.
              ...(campaignFilter && !filterCampaign && !campaigns.isPending
                ? [{ value: campaignFilter, label: "A campaign not found" }]
                : []),
            ]}
          />
        </section>

        <PagedList
          list={list}
          loading="Loading outreach campaigns"
          more="Load more"
          empty={
            <Empty title={statusFilter || campaignFilter ? "No outreach campaign matches these filters" : "No outreach campaigns yet"}>
              {canEdit
                ? "Create one with “New outreach”: choose a template, a mailbox and then the recipients."
                : "Editors of the workspace create them."}
            </Empty>
          }
        >
          {(rows) => (
            <Table
              caption="Outreach campaigns"
              head={["Name", "Status", "Campaign", "Mailbox", "Sender", "Daily limit", "Schedule", "Created"]}
            >
              {rows.map((outreach) => {
                const campaign = outreach.campaign_id ? campaignById.get(outreach.campaign_id) : undefined;
                const mailbox = outreach.mailbox_id ? mailboxById.get(outreach.mailbox_id) : undefined;
                return (
                  <tr key={outreach.id}>
                    <td className="px-3 py-2 font-medium">
                      <Link className="text-indigo-700 underline hover:text-indigo-900" to={`/outreach/${outreach.id}`}>
                        {outreach.name}
                      </Link>
                    </td>
                    <td className="px-3 py-2">
                      <span data-testid="outreach-row-status">
                        <Badge tone={OUTREACH_STATUS_TONE[outreach.status]}>{OUTREACH_STATUS_LABEL[outreach.status]}</Badge>
                      </span>
                    </td>
                    <td className="px-3 py-2">
                      {outreach.campaign_id ? (
                        <Link className="text-indigo-700 underline" to={`/campaigns/${outreach.campaign_id}`}>
                          {campaign?.name ?? "Open campaign"}
                        </Link>
                      ) : (
                        <span className="text-slate-500">None</span>
                      )}
                    </td>
                    <td className="px-3 py-2">
                      {outreach.mailbox_id ? (mailbox?.name ?? "A mailbox") : <span className="text-slate-500">Outbox folder</span>}
                    </td>
                    <td className="px-3 py-2">{outreach.sender_email}</td>
                    <td className="px-3 py-2 tabular-nums">{formatNumber(outreach.daily_limit)}</td>
                    <td className="whitespace-nowrap px-3 py-2">{outreach.scheduled_at ? formatDateTime(outreach.scheduled_at) : "On launch"}</td>
                    <td className="whitespace-nowrap px-3 py-2">{formatDateTime(outreach.created_at)}</td>
                  </tr>
                );
              })}
            </Table>
          )}
        </PagedList>
      </div>
    </>
  );
}
