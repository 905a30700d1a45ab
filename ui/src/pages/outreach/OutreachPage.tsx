/** /outreach/:outreachId: one outreach campaign — its status and the commands it allows, live
 * counters, the messages that need a person's word, recipients, follow-ups, the send plan, its
 * settings and every message. */
import { useState } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "@/api/client";
import { ApiError } from "@/api/problem";
import { useSession } from "@/auth/session";
import { Button } from "@/components/buttons";
import { ConfirmButton } from "@/components/confirm";
import { Badge, Card, PageHeader } from "@/components/page";
import { ErrorState, Loading, QueryState } from "@/components/states";
import { formatDateTime, formatNumber } from "@/lib/format";
import { byId, useCampaign, useMailboxes, useTemplates } from "./lookups";
import { OutreachActions } from "./OutreachActions";
import { OutreachSettingsForm, valuesOf, toBody, type OutreachUpdate } from "./OutreachSettingsForm";
import { ProgressCounters } from "./ProgressCounters";
import { RecipientsCard } from "./RecipientsCard";
import { REVIEW_ANCHOR, RecordsCard, UnknownReview } from "./RecordsCard";
import { SendPlanCard } from "./SendPlanCard";
import { StepsCard } from "./StepsCard";
import {
  DELETABLE,
  LIVE_STATUSES,
  OUTREACH_STATUS_LABEL,
  OUTREACH_STATUS_TONE,
  SETTINGS_EDITABLE,
  TAKES_RECIPIENTS,
  type Outreach,
  type OutreachStatus,
} from "./status";

// The live socket pushes every change; polling is the fallback while messages move.
const POLL_MS = 5_000;

export default function OutreachPage() {
  const { outreachId = "" } = useParams();
  const outreach = useQuery({
    queryKey: ["outreach-campaigns", outreachId],
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/outreach-campaigns/{outreach_campaign_id}", {
          params: { path: { outreach_campaign_id: outreachId } },
        }),
      ),
  });

  if (outreach.isPending) return <Loading label="Loading the outreach campaign" />;
  if (outreach.isError) {
    // A malformed id (422) finds nothing either.
    const missing =
      outreach.error instanceof ApiError && (outreach.error.status === 404 || outreach.error.status === 422);
    return (
      <>
        <PageHeader title={missing ? "Outreach campaign not found" : "Outreach campaign"} />
        {missing ? (
          <p className="text-sm text-slate-700">
            It may have been deleted. <Link className="text-indigo-700 underline" to="/outreach">See every outreach campaign</Link>.
          </p>
        ) : (
          <ErrorState error={outreach.error} retry={() => void outreach.refetch()} />
        )}
      </>
    );
  }
  return <OutreachView outreach={outreach.data} fetchedAt={outreach.dataUpdatedAt} />;
}

function OutreachView({ outreach, fetchedAt }: { outreach: Outreach; fetchedAt: number }) {
  const { canEdit } = useSession();
  const templates = useTemplates();
  const mailboxes = useMailboxes();
  const campaign = useCampaign(outreach.campaign_id);

  const progress = useQuery({
    queryKey: ["outreach-campaigns", outreach.id, "progress"],
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/outreach-campaigns/{outreach_campaign_id}/progress", {
          params: { path: { outreach_campaign_id: outreach.id } },
        }),
      ),
    refetchInterval: (query) => {
      const status = query.state.data?.status ?? outreach.status;
      return LIVE_STATUSES.includes(status) ? POLL_MS : false;
    },
  });

  // Whichever answer is newer says the status: progress is polled, the outreach is not.
  const progressNewer = progress.data !== undefined && progress.dataUpdatedAt >= fetchedAt;
  const status: OutreachStatus = progressNewer ? progress.data.status : outreach.status;
  const pauseReason = progressNewer ? progress.data.pause_reason : outreach.pause_reason;
  const unknownCount = progress.data?.counts.unknown ?? 0;

  const template = byId(templates.data?.items).get(outreach.template_id);
  const mailbox = outreach.mailbox_id ? byId(mailboxes.data?.items).get(outreach.mailbox_id) : undefined;

  return (
    <>
      <p className="mb-2 text-sm">
        <Link className="text-indigo-700 underline" to="/outreach">
          ← Outreach
        </Link>
      </p>
      <PageHeader
        title={outreach.name}
        description={
          <span className="flex flex-wrap items-center gap-2">
            <span data-testid="outreach-status">
              <Badge tone={OUTREACH_STATUS_TONE[status]}>{OUTREACH_STATUS_LABEL[status]}</Badge>
            </span>
            {outreach.campaign_id && (
              <span>
                for{" "}
                <Link className="text-indigo-700 underline" to={`/campaigns/${outreach.campaign_id}`}>
                  {campaign.data?.name ?? "its campaign"}
                </Link>
              </span>
            )}
          </span>
        }
        actions={canEdit && <OutreachActions outreachId={outreach.id} status={status} />}
      />

      <div className="space-y-6">
        {pauseReason && (
          <div
            role="status"
            data-testid="outreach-pause-reason"
            className="rounded-md border border-amber-300 bg-amber-50 px-4 py-3 text-sm text-amber-950"
          >
            <span className="font-semibold">{status === "paused" ? "Paused: " : "Last paused: "}</span>
            {pauseReason}
            {status === "paused" && canEdit && " Fix the cause, then resume; nothing already sent is sent again."}
          </div>
        )}

        {unknownCount > 0 && (
          <p role="status" className="text-sm text-amber-900">
            {formatNumber(unknownCount)} {unknownCount === 1 ? "message needs" : "messages need"} your review:{" "}
            <a className="underline" href={`#${REVIEW_ANCHOR}`}>
              see below
            </a>
            .
          </p>
        )}

        <Card title="Progress">
          <QueryState query={progress} label="Counting messages">
            {(data) => <ProgressCounters progress={data} />}
          </QueryState>
        </Card>

        <UnknownReview outreachId={outreach.id} canEdit={canEdit} cancelled={status === "cancelled"} />

        {canEdit && TAKES_RECIPIENTS.includes(status) && (
          <RecipientsCard outreachId={outreach.id} campaignId={outreach.campaign_id} />
        )}

        <div className="grid gap-6 xl:grid-cols-2">
          <StepsCard outreachId={outreach.id} editable={canEdit && status === "draft"} templates={templates.data?.items} />
          {status !== "completed" && status !== "cancelled" && (
            <SendPlanCard outreachId={outreach.id} mailboxes={mailboxes.data?.items} />
          )}
        </div>

        <SettingsCard
          outreach={outreach}
          status={status}
          canEdit={canEdit}
          templateName={template?.name}
          mailboxName={mailbox?.name}
          campaignName={campaign.data?.name}
        />

        <RecordsCard outreachId={outreach.id} canEdit={canEdit} cancelled={status === "cancelled"} />
      </div>
    </>
  );
}

function SettingsCard({
  outreach,
  status,
  canEdit,
  templateName,
  mailboxName,
  campaignName,
}: {
  outreach: Outreach;
  status: OutreachStatus;
  canEdit: boolean;
  templateName: string | undefined;
  mailboxName: string | undefined;
  campaignName: string | undefined;
}) {
  const queryClient = useQueryClient();
  const [editing, setEditing] = useState(false);
  const editable = canEdit && SETTINGS_EDITABLE.includes(status);
  const deletable = canEdit && DELETABLE.includes(status);

  const rows: [string, string][] = [
    ["Template", templateName ?? "—"],
    ["Campaign", outreach.campaign_id ? (campaignName ?? "—") : "None"],
    ["Mailbox", outreach.mailbox_id ? (mailboxName ?? "—") : "None: the outbox folder"],
    ["Sender", outreach.sender_name ? `${outreach.sender_name} <${outreach.sender_email}>` : outreach.sender_email],
    ["Daily limit", `${formatNumber(outreach.daily_limit)} a day`],
    ["Schedule", outreach.scheduled_at ? formatDateTime(outreach.scheduled_at) : "When launched"],
    ["Launched", formatDateTime(outreach.launched_at)],
    ["Created", formatDateTime(outreach.created_at)],
  ];

  return (
    <Card
      title="Settings"
      actions={
        editable &&
        !editing && (
          <Button tone="secondary" onClick={() => setEditing(true)}>
            Edit settings
          </Button>
        )
      }
    >
      {editing && editable ? (
        <div className="space-y-3">
          {status === "paused" && (
            <p className="text-sm text-slate-700">Changes apply to the messages not sent yet.</p>
          )}
          <OutreachSettingsForm
            label="Outreach settings"
            submitLabel="Save settings"
            initial={valuesOf(outreach)}
            onDiscard={() => setEditing(false)}
            onSubmit={async (values, changed) => {
              if (changed.length > 0) {
                const full = toBody(values);
                const body = Object.fromEntries(changed.map((field) => [field, full[field]])) as OutreachUpdate;
                const saved = await unwrap(
                  api.PATCH("/api/v1/outreach-campaigns/{outreach_campaign_id}", {
                    params: { path: { outreach_campaign_id: outreach.id } },
                    body,
                  }),
                );
                queryClient.setQueryData(["outreach-campaigns", outreach.id], saved);
                void queryClient.invalidateQueries({ queryKey: ["outreach-campaigns"] });
              }
              setEditing(false);
            }}
          />
        </div>
      ) : (
        <div className="space-y-4">
          <dl className="grid grid-cols-1 gap-x-6 gap-y-3 text-sm sm:grid-cols-2">
            {rows.map(([label, value]) => (
              <div key={label}>
                <dt className="text-slate-600">{label}</dt>
                <dd className="break-words font-medium text-slate-900">{value}</dd>
              </div>
            ))}
          </dl>
          {canEdit && !editable && (
            <p className="text-sm text-slate-600">Settings change only while the outreach is a draft or paused.</p>
          )}
          {deletable && <DeleteOutreach outreachId={outreach.id} name={outreach.name} />}
        </div>
      )}
    </Card>
  );
}

function DeleteOutreach({ outreachId, name }: { outreachId: string; name: string }) {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const mutation = useMutation({
    mutationFn: () =>
      unwrap(
        api.DELETE("/api/v1/outreach-campaigns/{outreach_campaign_id}", {
          params: { path: { outreach_campaign_id: outreachId } },
        }),
      ),
    onSuccess: () => {
      queryClient.removeQueries({ queryKey: ["outreach-campaigns", outreachId] });
      void queryClient.invalidateQueries({ queryKey: ["outreach-campaigns"] });
      navigate("/outreach");
    },
  });
  return (
    <ConfirmButton
      label="Delete outreach"
      question={`Delete “${name}”?`}
      details={<p>The outreach and the record of every message it sent are deleted. This cannot be undone.</p>}
      confirmLabel="Yes, delete outreach"
      dismissLabel="Keep it"
      tone="ghost"
      onConfirm={() => mutation.mutateAsync()}
    />
  );
}
