/** /campaigns/:campaignId: one campaign, its status moves, edit and delete, its budget and
 * transactions, artists and outreach. */
import { useState } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "@/api/client";
import { ApiError, errorMessage } from "@/api/problem";
import { useSession } from "@/auth/session";
import { Button } from "@/components/buttons";
import { ConfirmButton } from "@/components/confirm";
import { SpendBudgetChart } from "@/components/charts";
import { FormError } from "@/components/forms";
import { Badge, Card, PageHeader } from "@/components/page";
import { PagedList } from "@/components/paged";
import { Empty, ErrorState, Loading } from "@/components/states";
import { formatDate, formatDateTime, formatMoney } from "@/lib/format";
import { usePagedList } from "@/lib/paging";
import { TransactionForm } from "@/pages/transactions/TransactionForm";
import { TransactionTable } from "@/pages/transactions/TransactionTable";
import { CampaignArtists } from "./CampaignArtists";
import { CampaignForm } from "./CampaignForm";
import { CampaignOutreach } from "./CampaignOutreach";
import {
  NEXT_STATUSES,
  STATUS_LABEL,
  STATUS_TONE,
  TYPE_LABEL,
  transitionLabel,
  type Campaign,
  type CampaignStatus,
} from "./labels";

function StatusActions({ campaign }: { campaign: Campaign }) {
  const queryClient = useQueryClient();
  const move = useMutation({
    mutationFn: (status: CampaignStatus) =>
      unwrap(
        api.POST("/api/v1/campaigns/{campaign_id}/status", {
          params: { path: { campaign_id: campaign.id } },
          body: { status },
        }),
      ),
    onSuccess: (updated) => {
      queryClient.setQueryData(["campaigns", campaign.id], updated);
      return queryClient.invalidateQueries({ queryKey: ["campaigns"] });
    },
  });
  const next = NEXT_STATUSES[campaign.status];
  if (next.length === 0) return null;
  return (
    <div className="space-y-2">
      <div role="group" aria-label="Change status" className="flex flex-wrap gap-2">
        {next.map((status) =>
          status === "cancelled" ? (
            <ConfirmButton
              key={status}
              label={transitionLabel(campaign.status, status)}
              question="Cancel this campaign for good?"
              confirmLabel="Yes, cancel it"
              dismissLabel="Keep it"
              busy={move.isPending && move.variables === status}
              disabled={move.isPending}
              onConfirm={() => move.mutate(status)}
            />
          ) : (
            <Button
              key={status}
              tone={status === "active" ? "primary" : "secondary"}
              busy={move.isPending && move.variables === status}
              disabled={move.isPending}
              onClick={() => move.mutate(status)}
            >
              {transitionLabel(campaign.status, status)}
            </Button>
          ),
        )}
      </div>
      <FormError message={move.isError ? errorMessage(move.error) : null} />
    </div>
  );
}

function Budget({ campaign }: { campaign: Campaign }) {
  const { canEdit } = useSession();
  const transactions = usePagedList(["transactions", "list", { campaign_id: campaign.id }], (cursor) =>
    unwrap(api.GET("/api/v1/transactions", { params: { query: { campaign_id: campaign.id, limit: 50, cursor } } })),
  );
  const items = transactions.data ?? [];
  const otherCurrencies = [...new Set(items.map((t) => t.currency))].filter((c) => c !== campaign.currency);
  const hasBudget = campaign.budget_minor > 0;
  const left = campaign.budget_minor - campaign.spent_minor;

  return (
    <Card title="Budget and transactions">
      <div className="space-y-6">
        <div className="grid gap-6 lg:grid-cols-[16rem_1fr]">
          <dl aria-label="Budget" className="grid grid-cols-3 gap-3 lg:grid-cols-1">
            <div>
              <dt className="text-xs font-medium text-slate-600">Budget</dt>
              <dd data-testid="campaign-budget" className="text-lg font-semibold tabular-nums text-slate-900">
                {hasBudget ? formatMoney(campaign.budget_minor, campaign.currency) : "No budget"}
              </dd>
            </div>
            <div>
              <dt className="text-xs font-medium text-slate-600">Spent</dt>
              <dd data-testid="campaign-spent" className="text-lg font-semibold tabular-nums text-slate-900">
                {formatMoney(campaign.spent_minor, campaign.currency)}
              </dd>
            </div>
            {hasBudget && (
              <div>
                <dt className="text-xs font-medium text-slate-600">{left < 0 ? "Over by" : "Left"}</dt>
                <dd
                  data-testid="campaign-left"
                  className={`text-lg font-semibold tabular-nums ${left < 0 ? "text-red-700" : "text-slate-900"}`}
                >
                  {formatMoney(Math.abs(left), campaign.currency)}
                </dd>
              </div>
            )}
            {campaign.over_budget && (
              <div className="col-span-3 lg:col-span-1">
                <Badge tone="red">Over budget</Badge>
              </div>
            )}
          </dl>
          <SpendBudgetChart title={`Spent against budget for ${campaign.name}`} items={[campaign]} height={200} />
        </div>
        <p className="text-xs text-slate-600">
          Spent adds up the campaign's expenses in {campaign.currency}
          {otherCurrencies.length > 0
            ? `; its transactions in ${otherCurrencies.join(", ")} are listed below but not counted.`
            : "."}
        </p>

        {canEdit && (
          <section aria-labelledby={`add-transaction-${campaign.id}`} className="space-y-3">
            <h3 id={`add-transaction-${campaign.id}`} className="text-sm font-semibold text-slate-900">
              Add a transaction
            </h3>
            <TransactionForm campaignId={campaign.id} defaultCurrency={campaign.currency} label="Add a transaction to this campaign" />
          </section>
        )}

        <PagedList
          list={transactions}
          loading="Loading transactions"
          more="Load more transactions"
          empty={<Empty title="No transactions for this campaign yet" />}
        >
          {(rows) => <TransactionTable transactions={rows} caption="Transactions of this campaign" />}
        </PagedList>
      </div>
    </Card>
  );
}

export default function CampaignPage() {
  const { campaignId = "" } = useParams();
  const { canEdit } = useSession();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [editing, setEditing] = useState(false);
  const campaign = useQuery({
    queryKey: ["campaigns", campaignId],
    queryFn: () =>
      unwrap(api.GET("/api/v1/campaigns/{campaign_id}", { params: { path: { campaign_id: campaignId } } })),
  });
  const remove = useMutation({
    mutationFn: () =>
      unwrap(api.DELETE("/api/v1/campaigns/{campaign_id}", { params: { path: { campaign_id: campaignId } } })),
    onSuccess: async () => {
      queryClient.removeQueries({ queryKey: ["campaigns", campaignId] });
      await Promise.all([
        queryClient.invalidateQueries({ queryKey: ["campaigns"] }),
        queryClient.invalidateQueries({ queryKey: ["transactions"] }),
      ]);
      navigate("/campaigns");
    },
  });

  if (campaign.isPending) return <Loading label="Loading the campaign" />;
  if (!campaign.data) {
    const missing = campaign.error instanceof ApiError && (campaign.error.status === 404 || campaign.error.status === 422);
    return (
      <>
        <PageHeader title={missing ? "Campaign not found" : "Campaign"} />
        {missing ? (
          <Empty title="This campaign does not exist in this workspace (it may have been deleted).">
            <Link to="/campaigns" className="text-indigo-700 hover:underline">
              Back to the campaigns
            </Link>
          </Empty>
        ) : (
          <ErrorState error={campaign.error} retry={() => void campaign.refetch()} />
        )}
      </>
    );
  }
  const data = campaign.data;

  return (
    <>
      <nav aria-label="Breadcrumb" className="mb-2 text-sm">
        <Link to="/campaigns" className="text-indigo-700 hover:underline">
          Campaigns
        </Link>
      </nav>
      <PageHeader
        title={data.name}
        description={
          <span className="inline-flex flex-wrap items-center gap-2">
            <Badge tone={STATUS_TONE[data.status]}>
              <span data-testid="campaign-status">{STATUS_LABEL[data.status]}</span>
            </Badge>
            <span>{TYPE_LABEL[data.type]}</span>
            {(data.start_date || data.end_date) && (
              <span>
                {formatDate(data.start_date)} – {formatDate(data.end_date)}
              </span>
            )}
          </span>
        }
        actions={
          canEdit && (
            <>
              <Button tone="secondary" aria-expanded={editing} onClick={() => setEditing((open) => !open)}>
                Edit campaign
              </Button>
              <ConfirmButton
                label="Delete campaign"
                question="Delete this campaign and its artist list? Its transactions are kept, unlinked."
                confirmLabel="Yes, delete campaign"
                busy={remove.isPending}
                onConfirm={() => remove.mutate()}
              />
            </>
          )
        }
      />
      <div className="space-y-6">
        <FormError message={remove.isError ? errorMessage(remove.error) : null} />
        {canEdit && <StatusActions campaign={data} />}

        {canEdit && editing ? (
          <Card title="Edit campaign">
            <CampaignForm
              key={data.updated_at}
              campaign={data}
              label="Edit campaign"
              submitLabel="Save changes"
              onSubmit={(body) =>
                unwrap(
                  api.PATCH("/api/v1/campaigns/{campaign_id}", {
                    params: { path: { campaign_id: data.id } },
                    body,
                  }),
                )
              }
              onSaved={(updated) => {
                queryClient.setQueryData(["campaigns", data.id], updated);
                void queryClient.invalidateQueries({ queryKey: ["campaigns"] });
                setEditing(false);
              }}
              onCancel={() => setEditing(false)}
            />
          </Card>
        ) : (
          <Card title="About">
            <dl className="grid gap-4 text-sm sm:grid-cols-3">
              <div className="sm:col-span-3">
                <dt className="font-medium text-slate-600">Description</dt>
                <dd className="mt-1 whitespace-pre-wrap text-slate-900">{data.description || "No description."}</dd>
              </div>
              <div>
                <dt className="font-medium text-slate-600">Currency</dt>
                <dd className="mt-1 text-slate-900">{data.currency}</dd>
              </div>
              <div>
                <dt className="font-medium text-slate-600">Created</dt>
                <dd className="mt-1 text-slate-900">{formatDateTime(data.created_at)}</dd>
              </div>
              <div>
                <dt className="font-medium text-slate-600">Last changed</dt>
                <dd className="mt-1 text-slate-900">{formatDateTime(data.updated_at)}</dd>
              </div>
            </dl>
          </Card>
        )}

        <Budget campaign={data} />
        <CampaignOutreach campaignId={data.id} />
        <CampaignArtists campaignId={data.id} />
      </div>
    </>
  );
}
