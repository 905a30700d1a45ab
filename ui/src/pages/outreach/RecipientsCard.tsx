/** Queueing recipients: every artist of a campaign at their best usable address, or addresses
 * typed in. Each answer says where every recipient went (queued or why skipped). */
import { useState } from "react";
import { useForm } from "react-hook-form";
import { zodResolver } from "@hookform/resolvers/zod";
import { z } from "zod";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "@/api/client";
import { ApiError, errorMessage } from "@/api/problem";
import type { components } from "@/api/schema";
import { Button } from "@/components/buttons";
import { FormError, SelectField, TextAreaField } from "@/components/forms";
import { Card } from "@/components/page";
import { formatNumber } from "@/lib/format";
import { useApiSubmit } from "@/lib/forms";
import { useCampaignOptions } from "./lookups";

type CampaignQueued = components["schemas"]["CampaignRecipientsQueued"];
type Queued = components["schemas"]["RecipientsQueued"];

const MAX_RECIPIENTS = 1000;
const EMAIL = z.string().email();

/** The addresses of a pasted list: split on new lines, commas, semicolons or spaces. */
export function splitAddresses(text: string): string[] {
  return text
    .split(/[\s,;]+/)
    .map((part) => part.trim())
    .filter((part) => part !== "");
}

const byEmailSchema = z.object({
  addresses: z.string().superRefine((text, context) => {
    const addresses = splitAddresses(text);
    if (addresses.length === 0) {
      context.addIssue({ code: "custom", message: "Enter at least one email address." });
      return;
    }
    if (addresses.length > MAX_RECIPIENTS) {
      context.addIssue({
        code: "custom",
        message: `At most ${formatNumber(MAX_RECIPIENTS)} addresses at a time (this list has ${formatNumber(addresses.length)}).`,
      });
      return;
    }
    const bad = addresses.filter((address) => !EMAIL.safeParse(address).success);
    if (bad.length > 0) {
      const shown = bad.slice(0, 3).join(", ") + (bad.length > 3 ? ` and ${bad.length - 3} more` : "");
      context.addIssue({ code: "custom", message: `Not an email address: ${shown}.` });
    }
  }),
});
type ByEmailValues = z.infer<typeof byEmailSchema>;

function plural(count: number, one: string, many: string): string {
  return `${formatNumber(count)} ${count === 1 ? one : many}`;
}

function describeCampaignOutcome(outcome: CampaignQueued): string {
  const skipped = [
    outcome.skipped_duplicates && `${formatNumber(outcome.skipped_duplicates)} already queued`,
    outcome.skipped_suppressed && `${formatNumber(outcome.skipped_suppressed)} on the suppression list`,
    outcome.skipped_no_contact && `${formatNumber(outcome.skipped_no_contact)} with no email address`,
    outcome.skipped_withdrawn_consent && `${formatNumber(outcome.skipped_withdrawn_consent)} who withdrew consent`,
  ].filter(Boolean);
  let text = `Queued ${plural(outcome.queued, "recipient", "recipients")}.`;
  if (skipped.length > 0) text += ` Skipped: ${skipped.join(", ")}.`;
  if (outcome.remaining > 0) {
    text += ` ${plural(outcome.remaining, "artist is", "artists are")} left: add the campaign's artists again to queue them.`;
  }
  return text;
}

function describeOutcome(outcome: Queued): string {
  const skipped = [
    outcome.skipped_duplicates && `${formatNumber(outcome.skipped_duplicates)} already queued or repeated`,
    outcome.skipped_suppressed && `${formatNumber(outcome.skipped_suppressed)} on the suppression list`,
  ].filter(Boolean);
  return `Queued ${plural(outcome.queued, "recipient", "recipients")}.${skipped.length ? ` Skipped: ${skipped.join(", ")}.` : ""}`;
}

export function RecipientsCard({ outreachId, campaignId }: { outreachId: string; campaignId: string | null }) {
  const queryClient = useQueryClient();
  const refresh = () => {
    void queryClient.invalidateQueries({ queryKey: ["outreach-campaigns", outreachId] });
    void queryClient.invalidateQueries({ queryKey: ["email-records"] });
  };
  return (
    <Card title="Add recipients">
      <div className="grid gap-6 lg:grid-cols-2">
        <FromCampaign outreachId={outreachId} campaignId={campaignId} onQueued={refresh} />
        <ByEmail outreachId={outreachId} onQueued={refresh} />
      </div>
    </Card>
  );
}

function FromCampaign({
  outreachId,
  campaignId,
  onQueued,
}: {
  outreachId: string;
  campaignId: string | null;
  onQueued: () => void;
}) {
  const campaigns = useCampaignOptions(campaignId);
  const [chosen, setChosen] = useState(campaignId ?? "");
  const mutation = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST("/api/v1/outreach-campaigns/{outreach_campaign_id}/recipients/from-campaign", {
          params: { path: { outreach_campaign_id: outreachId } },
          body: { campaign_id: chosen || null },
        }),
      ),
    onSuccess: onQueued,
  });
  return (
    <form
      aria-label="Add a campaign's artists"
      className="space-y-3"
      onSubmit={(event) => {
        event.preventDefault();
        mutation.mutate();
      }}
    >
      <h3 className="text-sm font-semibold text-slate-900">From a campaign's artists</h3>
      <p className="text-sm text-slate-600">
        Each artist of the campaign at their best usable address; suppressed addresses, withdrawn consent and
        artists already queued are skipped. Up to {formatNumber(MAX_RECIPIENTS)} at a time.
      </p>
      <SelectField
        label="Campaign to take artists from"
        value={chosen}
        onChange={(event) => setChosen(event.target.value)}
        disabled={campaigns.isPending}
        error={campaigns.error ? errorMessage(campaigns.error) : undefined}
        options={[
          ...(campaignId ? [] : [{ value: "", label: "Choose a campaign" }]),
          ...campaigns.campaigns.map((c) => ({ value: c.id, label: c.name })),
        ]}
      />
      <Button type="submit" busy={mutation.isPending} disabled={!chosen}>
        Add the campaign's artists
      </Button>
      {mutation.isError && <FormError message={errorMessage(mutation.error)} />}
      {mutation.isSuccess && (
        <p role="status" className="text-sm text-slate-800">
          {describeCampaignOutcome(mutation.data)}
        </p>
      )}
    </form>
  );
}

/** A 422 names ``recipients.<n>.to_email``: said on the addresses field, naming each address. */
function onAddresses(failure: unknown, addresses: string[]): unknown {
  if (!(failure instanceof ApiError) || failure.fieldErrors.length === 0) return failure;
  const message = failure.fieldErrors
    .map((problem) => {
      const index = /^recipients\.(\d+)/.exec(problem.field)?.[1];
      const address = index === undefined ? undefined : addresses[Number(index)];
      return address ? `${address}: ${problem.message}` : problem.message;
    })
    .join("; ");
  return new ApiError(failure.status, { ...failure.problem, errors: [{ field: "addresses", message }] });
}

function ByEmail({ outreachId, onQueued }: { outreachId: string; onQueued: () => void }) {
  const [outcome, setOutcome] = useState<string | null>(null);
  const form = useForm<ByEmailValues>({ resolver: zodResolver(byEmailSchema), defaultValues: { addresses: "" } });
  const { register } = form;
  const { errors, isSubmitting } = form.formState;
  const { formError, submit } = useApiSubmit(form, ["addresses"]);

  const add = submit(async ({ addresses: text }) => {
    setOutcome(null);
    const addresses = splitAddresses(text);
    const result = await unwrap(
      api.POST("/api/v1/outreach-campaigns/{outreach_campaign_id}/recipients", {
        params: { path: { outreach_campaign_id: outreachId } },
        body: { recipients: addresses.map((to_email) => ({ to_email })) },
      }),
    ).catch((failure: unknown) => {
      throw onAddresses(failure, addresses);
    });
    setOutcome(describeOutcome(result));
    form.reset({ addresses: "" });
    onQueued();
  });

  return (
    <form aria-label="Add recipients by email" noValidate className="space-y-3" onSubmit={add}>
      <h3 className="text-sm font-semibold text-slate-900">By email address</h3>
      <FormError message={formError} />
      <TextAreaField
        label="Email addresses"
        rows={4}
        hint="One a line, or separated by commas. Suppressed and already queued addresses are skipped."
        error={errors.addresses?.message}
        {...register("addresses")}
      />
      <Button type="submit" busy={isSubmitting}>
        Add recipients
      </Button>
      {outcome && (
        <p role="status" className="text-sm text-slate-800">
          {outcome}
        </p>
      )}
    </form>
  );
}
