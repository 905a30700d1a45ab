/** /transactions: money in and out, filtered and paged; add one, import a CSV, export what the
 * filters pick, and the summary by month, category or campaign. */
import { useId, useMemo, useState } from "react";
import { useMutation, useQuery } from "@tanstack/react-query";
import { api, fileUrl, unwrap } from "@/api/client";
import { errorMessage } from "@/api/problem";
import type { components } from "@/api/schema";
import { useSession } from "@/auth/session";
import { Button } from "@/components/buttons";
import { TimeSeriesChart, type ChartPoint } from "@/components/charts";
import { FormError, SelectField, TextField } from "@/components/forms";
import { Card, PageHeader } from "@/components/page";
import { PagedList } from "@/components/paged";
import { Empty, ErrorState, Loading } from "@/components/states";
import { formatMoney, formatNumber } from "@/lib/format";
import { usePagedList } from "@/lib/paging";
import { useFilterParams, useTextFilter } from "@/lib/searchParams";
import { TransactionForm } from "./TransactionForm";
import { TransactionImport } from "./TransactionImport";
import { TransactionTable } from "./TransactionTable";

type ExportRead = components["schemas"]["ExportRead"];
type Summary = components["schemas"]["TransactionSummary"];
type Grouping = Summary["group_by"];
type TransactionType = components["schemas"]["TransactionType"];

const GROUPINGS: { value: Grouping; label: string }[] = [
  { value: "month", label: "Month" },
  { value: "category", label: "Category" },
  { value: "campaign", label: "Campaign" },
];

/** Saves a file the API serves behind the access token (a plain link cannot send it). */
async function download(exported: ExportRead): Promise<void> {
  const url = await fileUrl(exported.download_url);
  const link = document.createElement("a");
  link.href = url;
  link.download = exported.filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function useCampaignNames() {
  const campaigns = useQuery({
    queryKey: ["campaigns", "options"],
    queryFn: () => unwrap(api.GET("/api/v1/campaigns", { params: { query: { sort: "name", limit: 200 } } })),
    staleTime: 30_000,
  });
  return useMemo(() => {
    const items = campaigns.data?.items ?? [];
    return { items, names: new Map(items.map((campaign) => [campaign.id, campaign.name])) };
  }, [campaigns.data]);
}

function SummaryCard({
  from,
  to,
  names,
}: {
  from: string | undefined;
  to: string | undefined;
  names: Map<string, string>;
}) {
  const [groupBy, setGroupBy] = useState<Grouping>("month");
  const summary = useQuery({
    queryKey: ["transactions", "summary", { group_by: groupBy, occurred_from: from, occurred_to: to }],
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/transactions/summary", {
          params: { query: { group_by: groupBy, occurred_from: from, occurred_to: to } },
        }),
      ),
  });

  const labelOf = (key: string | null) => {
    if (groupBy === "campaign") return key === null ? "No campaign" : (names.get(key) ?? "Deleted campaign");
    if (groupBy === "month" && key) {
      const [year, month] = key.split("-").map(Number);
      if (year && month) {
        return new Date(Date.UTC(year, month - 1, 1)).toLocaleDateString(undefined, {
          month: "short",
          year: "numeric",
          timeZone: "UTC",
        });
      }
    }
    return key ?? "—";
  };

  return (
    <Card
      title="Summary"
      actions={
        <div className="w-40">
          <SelectField
            label="Group by"
            value={groupBy}
            onChange={(event) => {
              const next = GROUPINGS.find((option) => option.value === event.target.value);
              if (next) setGroupBy(next.value);
            }}
            options={GROUPINGS}
          />
        </div>
      }
    >
      <p className="mb-4 text-xs text-slate-600">
        Income and expenses of every campaign{from || to ? " between the dates filtered on" : ", all time"};
        currencies are never added together.
      </p>
      {summary.isPending ? (
        <Loading label="Summing up" />
      ) : !summary.data ? (
        <ErrorState error={summary.error} retry={() => void summary.refetch()} />
      ) : summary.data.totals.length === 0 ? (
        <Empty title="Nothing to sum up yet" />
      ) : (
        <div className="space-y-6">
          {summary.data.totals.map((total) => {
            const money = (value: number) => formatMoney(value, total.currency);
            const points: ChartPoint[] = summary.data.groups
              .filter((group) => group.currency === total.currency)
              .map((group) => ({
                label: labelOf(group.key),
                values: { income: group.income_minor, expense: group.expense_minor },
              }));
            return (
              <section key={total.currency} aria-label={`Totals in ${total.currency}`} className="space-y-3">
                <dl className="grid grid-cols-2 gap-3 sm:grid-cols-4">
                  {[
                    { label: `Income (${total.currency})`, value: money(total.income_minor) },
                    { label: `Expenses (${total.currency})`, value: money(total.expense_minor) },
                    { label: `Net (${total.currency})`, value: money(total.net_minor) },
                    { label: "Transactions", value: formatNumber(total.count) },
                  ].map((item) => (
                    <div key={item.label} className="rounded-md bg-slate-50 px-3 py-2 ring-1 ring-slate-200">
                      <dt className="text-xs font-medium text-slate-600">{item.label}</dt>
                      <dd className="text-lg font-semibold tabular-nums text-slate-900">{item.value}</dd>
                    </div>
                  ))}
                </dl>
                <TimeSeriesChart
                  title={`Income and expenses in ${total.currency} by ${groupBy}`}
                  kind="bar"
                  data={points}
                  series={[
                    { key: "income", label: "Income", color: "#16a34a" },
                    { key: "expense", label: "Expenses", color: "#dc2626" },
                  ]}
                  valueFormat={money}
                />
              </section>
            );
          })}
        </div>
      )}
    </Card>
  );
}

export default function TransactionsPage() {
  const { canEdit } = useSession();
  const [params, setParam] = useFilterParams();
  const [panel, setPanel] = useState<"add" | "import" | null>(null);
  const addId = useId();
  const importId = useId();
  const { items: campaigns, names } = useCampaignNames();

  const campaignId = params.get("campaign_id") ?? "";
  const typeParam = params.get("type");
  const type: TransactionType | undefined = typeParam === "income" || typeParam === "expense" ? typeParam : undefined;
  const from = params.get("occurred_from") ?? "";
  const to = params.get("occurred_to") ?? "";
  const categoryFilter = useTextFilter("category");
  const category = categoryFilter.value;
  const rangeError = from && to && to < from ? "The end date must not be before the start date." : null;


  const filters = {
    campaign_id: campaignId || undefined,
    type,
    category: category || undefined,
    occurred_from: from || undefined,
    occurred_to: to || undefined,
  };
  const list = usePagedList(
    ["transactions", "list", filters],
    (cursor) => unwrap(api.GET("/api/v1/transactions", { params: { query: { ...filters, limit: 50, cursor } } })),
    { enabled: !rangeError },
  );
  const filtered = Object.values(filters).some(Boolean);

  const exporting = useMutation({
    mutationFn: async () => {
      const exported = await unwrap(api.POST("/api/v1/transactions/export", { params: { query: filters } }));
      await download(exported);
      return exported;
    },
  });

  const toggle = (which: "add" | "import") => setPanel((open) => (open === which ? null : which));

  return (
    <>
      <PageHeader
        title="Transactions"
        description="Money in and out, by campaign and category. Amounts are kept per currency."
        actions={
          <>
            {canEdit && (
              <>
                <Button aria-expanded={panel === "add"} aria-controls={addId} onClick={() => toggle("add")}>
                  New transaction
                </Button>
                <Button
                  tone="secondary"
                  aria-expanded={panel === "import"}
                  aria-controls={importId}
                  onClick={() => toggle("import")}
                >
                  Import transactions
                </Button>
              </>
            )}
            <Button
              tone="secondary"
              busy={exporting.isPending}
              disabled={Boolean(rangeError)}
              onClick={() => exporting.mutate()}
            >
              Export CSV
            </Button>
          </>
        }
      />
      <div className="space-y-6">
        <FormError message={exporting.isError ? errorMessage(exporting.error) : null} />
        {exporting.data && (
          <div role="status" className="flex flex-wrap items-center gap-3 rounded-md bg-green-50 px-3 py-2 text-sm text-green-900 ring-1 ring-green-200">
            <span>
              Exported {formatNumber(exporting.data.rows)} {exporting.data.rows === 1 ? "row" : "rows"} to{" "}
              {exporting.data.filename}.
            </span>
            <Button tone="ghost" onClick={() => exporting.data && void download(exporting.data)}>
              Download {exporting.data.filename}
            </Button>
          </div>
        )}

        {canEdit && panel === "add" && (
          <div id={addId}>
            <Card title="New transaction">
              <TransactionForm campaigns={campaigns} />
            </Card>
          </div>
        )}
        {canEdit && panel === "import" && (
          <div id={importId}>
            <Card title="Import transactions">
              <TransactionImport />
            </Card>
          </div>
        )}

        <form
          role="search"
          aria-label="Filter transactions"
          className="grid gap-3 sm:grid-cols-2 lg:grid-cols-5"
          onSubmit={(event) => event.preventDefault()}
        >
          <SelectField
            label="Campaign"
            value={campaignId}
            onChange={(event) => setParam("campaign_id", event.target.value)}
            options={[
              { value: "", label: "Every campaign" },
              ...campaigns.map((campaign) => ({ value: campaign.id, label: campaign.name })),
            ]}
          />
          <SelectField
            label="Type"
            value={type ?? ""}
            onChange={(event) => setParam("type", event.target.value)}
            options={[
              { value: "", label: "Income and expenses" },
              { value: "income", label: "Income" },
              { value: "expense", label: "Expenses" },
            ]}
          />
          <TextField
            label="Category"
            type="search"
            value={categoryFilter.text}
            onChange={(event) => categoryFilter.setText(event.target.value)}
          />
          <TextField label="From" type="date" value={from} onChange={(event) => setParam("occurred_from", event.target.value)} />
          <TextField
            label="To"
            type="date"
            value={to}
            error={rangeError ?? undefined}
            onChange={(event) => setParam("occurred_to", event.target.value)}
          />
        </form>

        <SummaryCard from={rangeError ? undefined : from || undefined} to={rangeError ? undefined : to || undefined} names={names} />

        {!rangeError && (
          <PagedList
            list={list}
            loading="Loading transactions"
            more="Load more transactions"
            empty={
              <Empty title={filtered ? "No transaction matches these filters" : "No transactions yet"}>
                {filtered
                  ? "Change or clear the filters to see more."
                  : canEdit
                    ? "Add one with “New transaction” or import a CSV file."
                    : null}
              </Empty>
            }
          >
            {(transactions) => <TransactionTable transactions={transactions} campaignNames={names} />}
          </PagedList>
        )}
      </div>
    </>
  );
}
