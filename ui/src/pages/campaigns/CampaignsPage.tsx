/** /campaigns: the workspace's campaigns, filtered and paged, and a form to create one. */
import { useEffect, useId, useState } from "react";
import { Link, useNavigate, useSearchParams } from "react-router";
import { useInfiniteQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "@/api/client";
import { useSession } from "@/auth/session";
import { Button } from "@/components/buttons";
import { SelectField, TextField } from "@/components/forms";
import { Badge, Card, PageHeader, Table } from "@/components/page";
import { Empty, ErrorState, Loading } from "@/components/states";
import { formatDate, formatMoney } from "@/lib/format";
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

function useDebounced<T>(value: T, delay: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), delay);
    return () => clearTimeout(timer);
  }, [value, delay]);
  return settled;
}

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
  const [params, setParams] = useSearchParams();
  const [creating, setCreating] = useState(params.get("new") === "1");
  const formId = useId();

  const statusParam = params.get("status");
  const typeParam = params.get("type");
  const status = isStatus(statusParam) ? statusParam : undefined;
  const type = isType(typeParam) ? typeParam : undefined;
  const sort = SORTS.some((option) => option.value === params.get("sort"))
    ? (params.get("sort") as string)
    : "-created_at";
  const [search, setSearch] = useState(params.get("q") ?? "");
  const q = useDebounced(search.trim(), 300);

  useEffect(() => {
    setParams(
      (current) => {
        const next = new URLSearchParams(current);
        if (q) next.set("q", q);
        else next.delete("q");
        return next;
      },
      { replace: true },
    );
  }, [q, setParams]);

  const setParam = (name: string, value: string) =>
    setParams(
      (current) => {
        const next = new URLSearchParams(current);
        if (value) next.set(name, value);
        else next.delete(name);
        return next;
      },
      { replace: true },
    );

  const filters = { status, type, q: q || undefined, sort };
  const query = useInfiniteQuery({
    queryKey: ["campaigns", "list", filters],
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET("/api/v1/campaigns", {
          params: { query: { ...filters, limit: PAGE_SIZE, cursor: pageParam } },
        }),
      ),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next_cursor,
  });
  const campaigns = query.data?.pages.flatMap((page) => page.items) ?? [];
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
            value={search}
            onChange={(event) => setSearch(event.target.value)}
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

        {query.isPending ? (
          <Loading label="Loading campaigns" />
        ) : !query.data ? (
          <ErrorState error={query.error} retry={() => void query.refetch()} />
        ) : campaigns.length === 0 ? (
          <Empty title={filtered ? "No campaign matches these filters" : "No campaigns yet"}>
            {filtered
              ? "Change or clear the filters to see more."
              : canEdit
                ? "Create the first one with “New campaign”."
                : "An editor of this workspace can create one."}
          </Empty>
        ) : (
          <>
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
            {query.hasNextPage && (
              <div className="flex justify-center">
                <Button
                  tone="secondary"
                  busy={query.isFetchingNextPage}
                  onClick={() => void query.fetchNextPage()}
                >
                  Load more campaigns
                </Button>
              </div>
            )}
            {query.isFetchNextPageError && (
              <ErrorState error={query.error} retry={() => void query.fetchNextPage()} />
            )}
          </>
        )}
      </div>
    </>
  );
}
