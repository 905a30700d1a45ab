/** Adds chosen artists to one of the workspace's campaigns (one POST per artist, a few at a
 * time), then says how many went in, how many were there already and which failed. */
import { useId, useState } from "react";
import type { FormEvent } from "react";
import { Link } from "react-router";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "@/api/client";
import { ApiError, errorMessage } from "@/api/problem";
import type { components } from "@/api/schema";
import { useSession } from "@/auth/session";
import { Button } from "@/components/buttons";
import { FormError, SelectField } from "@/components/forms";

type CampaignRead = components["schemas"]["CampaignRead"];

export interface AddOutcome {
  campaign: string;
  added: number;
  already: number;
  failed: { artistId: string; message: string }[];
}

// Enough to go quickly, few enough not to crowd the API's per-token limit.
const IN_FLIGHT = 4;

async function addAll(campaignId: string, artistIds: string[]): Promise<Omit<AddOutcome, "campaign">> {
  const outcome = { added: 0, already: 0, failed: [] as AddOutcome["failed"] };
  for (let start = 0; start < artistIds.length; start += IN_FLIGHT) {
    const batch = artistIds.slice(start, start + IN_FLIGHT);
    await Promise.all(
      batch.map(async (artistId) => {
        try {
          await unwrap(
            api.POST("/api/v1/campaigns/{campaign_id}/artists", {
              params: { path: { campaign_id: campaignId } },
              body: { artist_id: artistId, status: "proposed" },
            }),
          );
          outcome.added += 1;
        } catch (error) {
          if (error instanceof ApiError && error.status === 409) outcome.already += 1;
          else outcome.failed.push({ artistId, message: errorMessage(error) });
        }
      }),
    );
  }
  return outcome;
}

function plural(count: number, one: string, many: string): string {
  return `${count} ${count === 1 ? one : many}`;
}

export function outcomeText(outcome: AddOutcome): string {
  const parts = [`Added ${plural(outcome.added, "artist", "artists")} to ${outcome.campaign}.`];
  if (outcome.already > 0) {
    parts.push(`${plural(outcome.already, "was", "were")} in it already.`);
  }
  if (outcome.failed.length > 0) {
    parts.push(`${plural(outcome.failed.length, "could", "could")} not be added.`);
  }
  return parts.join(" ");
}

export function AddToCampaign({
  artistIds,
  names,
  onAdded,
  showCount = true,
}: {
  artistIds: string[];
  /** Say how many artists are selected (not for a single artist's page). */
  showCount?: boolean;
  /** Names of the artists by id, to say which ones failed. */
  names?: ReadonlyMap<string, string>;
  onAdded?: () => void;
}) {
  const { canEdit } = useSession();
  const queryClient = useQueryClient();
  const formId = useId();
  const [campaignId, setCampaignId] = useState("");
  const [choiceError, setChoiceError] = useState<string | undefined>();
  const campaigns = useQuery({
    queryKey: ["campaigns", "choices"],
    queryFn: () =>
      unwrap(api.GET("/api/v1/campaigns", { params: { query: { limit: 200, sort: "name" } } })),
    enabled: canEdit,
  });
  const add = useMutation({
    mutationFn: async ({ campaign, ids }: { campaign: CampaignRead; ids: string[] }) => ({
      campaign: campaign.name,
      ...(await addAll(campaign.id, ids)),
    }),
    onSuccess: (outcome) => {
      void queryClient.invalidateQueries({ queryKey: ["campaigns"] });
      if (outcome.added > 0 || outcome.already > 0) onAdded?.();
    },
  });

  if (!canEdit) return null;

  const choices = campaigns.data?.items ?? [];
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const campaign = choices.find((c) => c.id === campaignId);
    if (!campaign) {
      setChoiceError("Choose a campaign.");
      return;
    }
    setChoiceError(undefined);
    add.mutate({ campaign, ids: artistIds });
  };

  const count = artistIds.length;
  return (
    <form
      aria-label="Add to campaign"
      onSubmit={submit}
      className="flex flex-wrap items-end gap-3 rounded-lg bg-slate-50 p-3 ring-1 ring-slate-200"
    >
      <div className="min-w-48 flex-1">
        {campaigns.isError ? (
          <FormError message={`Campaigns could not be loaded: ${errorMessage(campaigns.error)}`} />
        ) : (
          <SelectField
            id={`${formId}-campaign`}
            label="Campaign"
            value={campaignId}
            error={choiceError}
            disabled={campaigns.isPending}
            onChange={(event) => {
              setCampaignId(event.target.value);
              setChoiceError(undefined);
            }}
            options={[
              {
                value: "",
                label: campaigns.isPending
                  ? "Loading campaigns…"
                  : choices.length === 0
                    ? "No campaigns yet"
                    : "Choose a campaign",
              },
              ...choices.map((c) => ({ value: c.id, label: `${c.name} (${c.status})` })),
            ]}
          />
        )}
      </div>
      <div className="flex flex-col gap-1">
        <Button type="submit" busy={add.isPending} disabled={count === 0 || campaigns.isPending}>
          Add to campaign
        </Button>
      </div>
      <p className="w-full text-xs text-slate-600 empty:hidden" data-testid="selected-count">
        {showCount &&
          (count === 0
            ? "Select artists to add them to a campaign."
            : `${plural(count, "artist", "artists")} selected.`)}
        {campaigns.isSuccess && choices.length === 0 && (
          <>
            {" "}
            <Link to="/campaigns" className="text-indigo-700 underline">
              Create a campaign
            </Link>{" "}
            first.
          </>
        )}
      </p>
      <div aria-live="polite" className="w-full empty:hidden">
        {add.isSuccess && (
          <div role="status" className="space-y-1 text-sm text-slate-800">
            <p>{outcomeText(add.data)}</p>
            {add.data.failed.length > 0 && (
              <ul className="list-disc pl-5 text-red-800">
                {add.data.failed.map((failure) => (
                  <li key={failure.artistId}>
                    {names?.get(failure.artistId) ?? failure.artistId}: {failure.message}
                  </li>
                ))}
              </ul>
            )}
          </div>
        )}
      </div>
      {add.isError && <FormError message={errorMessage(add.error)} />}
    </form>
  );
}
