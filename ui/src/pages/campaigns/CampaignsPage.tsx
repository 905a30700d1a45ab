/** /campaigns: the workspace's campaigns, filtered and paged, and a form to create one. */
import { useId, useState } from "react";
import { Link, useNavigate } from "react-router";
import { useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "@/api/client";
import { useSession } from "@/auth/session";
import { Button } from "@/components/buttons";
import { SelectField, TextField } from "@/components/forms";
import { Badge, Card, PageHeader, Table } from "@/components/page";
import { PagedList } from "@/components/paged";
import { Empty } from "@/components/states";
import { formatDate, formatMoney } from "@/lib/format";
import { usePagedList } from "@/lib/paging";
import { useFilterParams, useTextFilter } from "@/lib/searchParams";
import { CampaignForm } from "./CampaignForm";
import {
  CAMPAIGN_STATUSES,
  CAMPAIGN_TYPES,
  STATUS_LABEL,
  STATUS_TONE,
  TYPE_LABEL,
  type CampaignStatus,
  type CampaignType,
} from "./labels";

const SORTS = [
  { value: "-created_at", label: "Newest first" },
  { value: "created_at", label: "Oldest first" },
  { value: "name", label: "Name A–Z" },
  { value: "-budget", label: "Largest budget" },
  { value: "-updated_at", label: "Recently changed" },
];

const PAGE_SIZE = 50;

function isStatus(value: string | null): value is CampaignStatus {
  return value !== null && (CAMPAIGN_STATUSES as readonly string[]).includes(value);
}

function isType(value: string | null): value is CampaignType {
  return value !== null && (CAMPAIGN_TYPES as readonly string[]).includes(value);
}

export default function CampaignsPage() {
  const { canEdit } = useSession();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [params, setParam] = useFilterParams();
  const [creating, setCreating] = useState(params.get("new") === "1");
  const formId = useId();

  const statusParam = params.get("status");
  const typeParam = params.get("type");
  const status = isStatus(statusParam) ? statusParam : undefined;
  const type = isType(typeParam) ? typeParam : undefined;
  const sort = SORTS.some((option) => option.value === params.get("sort"))
    ? (params.get("sort") as string)
    : "-created_at";
  const search = useTextFilter("q");
  const q = search.value;

  const filters = { status, type, q: q || undefined, sort };
  const list = usePagedList(["campaigns", "list", filters], (cursor) =>
    unwrap(api.GET("/api/v1/campaigns", { params: { query: { ...filters, limit: PAGE_SIZE, cursor } } })),
  );
  const filtered = Boolean(status || type || q);

  return (
    <>
      <PageHeader
        title="Campaigns"
        description="Releases, pitches, premieres and tours: their dates, budgets and artists."
        actions={
          canEdit && (
            <Button
              aria-expanded={creating}
              aria-controls={formId}
              onClick={() => setCreating((open) => !open)}
            >
              New campaign
            </Button>
          )
        }
      />
      <div className="space-y-6">
        {canEdit && creating && (
          <div id={formId}>
            <Card title="New campaign">
              <CampaignForm
                label="New campaign"
                submitLabel="Create campaign"
                onSubmit={(body) => unwrap(api.POST("/api/v1/campaigns", { body }))}
                onSaved={(campaign) => {
                  void queryClient.invalidateQueries({ queryKey: ["campaigns"] });
                  navigate(`/campaigns/${campaign.id}`);
                }}
                onCancel={() => setCreating(false)}
              />
            </Card>
          </div>
        )}

        <form
          role="search"
          aria-label="Filter campaigns"
          className="grid gap-3 sm:grid-cols-2 lg:grid-cols-4"
          onSubmit={(event) => event.preventDefault()}
        >
          <TextField
            label="Search"
            type="search"
            placeholder="Campaign name"
            value={search.text}
            onChange={(event) => search.setText(event.target.value)}
          />
          <SelectField
            label="Status"
            value={status ?? ""}
            onChange={(event) => setParam("status", event.target.value)}
            options={[
              { value: "", label: "Any status" },
              ...CAMPAIGN_STATUSES.map((value) => ({ value, label: STATUS_LABEL[value] })),
            ]}
          />
          <SelectField
            label="Type"
            value={type ?? ""}
            onChange={(event) => setParam("type", event.target.value)}
            options={[
              { value: "", label: "Any type" },
              ...CAMPAIGN_TYPES.map((value) => ({ value, label: TYPE_LABEL[value] })),
            ]}
          />
          <SelectField
            label="Sort by"
            value={sort}
            onChange={(event) => setParam("sort", event.target.value === "-created_at" ? "" : event.target.value)}
            options={SORTS}
          />
        </form>

        <PagedList
          list={list}
          loading="Loading campaigns"
          more="Load more campaigns"
          empty={
            <Empty title={filtered ? "No campaign matches these filters" : "No campaigns yet"}>
              {filtered
                ? "Change or clear the filters to see more."
                : canEdit
                  ? "Create the first one with “New campaign”."
                  : "An editor of this workspace can create one."}
            </Empty>
          }
        >
          {(campaigns) => (
            <Table
              caption="Campaigns"
              head={["Name", "Status", "Type", "Dates", "Budget", "Spent"]}
            >
              {campaigns.map((campaign) => (
                <tr key={campaign.id}>
                  <td className="px-3 py-2">
                    <Link
                      to={`/campaigns/${campaign.id}`}
                      className="font-medium text-indigo-700 hover:underline"
                    >
                      {campaign.name}
                    </Link>
                  </td>
                  <td className="px-3 py-2">
                    <Badge tone={STATUS_TONE[campaign.status]}>{STATUS_LABEL[campaign.status]}</Badge>
                  </td>
                  <td className="px-3 py-2 text-slate-700">{TYPE_LABEL[campaign.type]}</td>
                  <td className="whitespace-nowrap px-3 py-2 text-slate-700">
                    {campaign.start_date || campaign.end_date
                      ? `${formatDate(campaign.start_date)} – ${formatDate(campaign.end_date)}`
                      : "—"}
                  </td>
                  <td className="whitespace-nowrap px-3 py-2 tabular-nums text-slate-700">
                    {campaign.budget_minor > 0 ? formatMoney(campaign.budget_minor, campaign.currency) : "—"}
                  </td>
                  <td className="whitespace-nowrap px-3 py-2 tabular-nums text-slate-700">
                    <span className="mr-2">{formatMoney(campaign.spent_minor, campaign.currency)}</span>
                    {campaign.over_budget && <Badge tone="red">Over budget</Badge>}
                  </td>
                </tr>
              ))}
            </Table>
          )}
        </PagedList>
      </div>
    </>
  );
}
