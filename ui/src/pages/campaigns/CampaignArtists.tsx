/** A campaign's artists: their status in it, adding from the catalogue, taking out. */
import { useState } from "react";
import { Link } from "react-router";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "@/api/client";
import { errorMessage } from "@/api/problem";
import { useSession } from "@/auth/session";
import { Button } from "@/components/buttons";
import { ConfirmButton } from "@/components/confirm";
import { FormError, SelectField, TextField } from "@/components/forms";
import { Badge, Card, Table } from "@/components/page";
import { PagedList } from "@/components/paged";
import { Empty, ErrorState, Loading } from "@/components/states";
import { formatCompact, formatDate } from "@/lib/format";
import { usePagedList } from "@/lib/paging";
import { useDebounced } from "@/lib/useDebounced";
import { ARTIST_STATUSES, ARTIST_STATUS_LABEL, type CampaignArtistStatus } from "./labels";

function isArtistStatus(value: string): value is CampaignArtistStatus {
  return (ARTIST_STATUSES as readonly string[]).includes(value);
}

function AddArtists({ campaignId, inCampaign }: { campaignId: string; inCampaign: Set<string> }) {
  const queryClient = useQueryClient();
  const [text, setText] = useState("");
  const q = useDebounced(text.trim(), 300);
  const [added, setAdded] = useState<string | null>(null);
  const results = useQuery({
    queryKey: ["artists", "search", { q, limit: 10 }],
    queryFn: () => unwrap(api.GET("/api/v1/artists", { params: { query: { q, limit: 10 } } })),
    enabled: q.length >= 2,
  });
  const add = useMutation({
    mutationFn: (artist: { id: string; name: string }) =>
      unwrap(
        api.POST("/api/v1/campaigns/{campaign_id}/artists", {
          params: { path: { campaign_id: campaignId } },
          body: { artist_id: artist.id, status: "proposed" },
        }),
      ),
    onMutate: () => setAdded(null),
    onSuccess: (_entry, artist) => {
      setAdded(`${artist.name} added to the campaign.`);
      return queryClient.invalidateQueries({ queryKey: ["campaigns", campaignId, "artists"] });
    },
  });

  return (
    <section aria-labelledby={`add-artists-${campaignId}`} className="space-y-3 rounded-md bg-slate-50 p-3 ring-1 ring-slate-200">
      <h3 id={`add-artists-${campaignId}`} className="text-sm font-semibold text-slate-900">
        Add artists
      </h3>
      <TextField
        label="Find an artist in the catalogue"
        type="search"
        placeholder="Name or SoundCloud permalink (2 letters or more)"
        value={text}
        onChange={(event) => setText(event.target.value)}
      />
      <FormError message={add.isError ? errorMessage(add.error) : null} />
      {added && (
        <p role="status" className="text-sm text-green-800">
          {added}
        </p>
      )}
      {q.length >= 2 &&
        (results.isPending ? (
          <Loading label="Searching" />
        ) : results.isError ? (
          <ErrorState error={results.error} retry={() => void results.refetch()} />
        ) : results.data.items.length === 0 ? (
          <p className="text-sm text-slate-600">No artist in the catalogue matches “{q}”.</p>
        ) : (
          <ul aria-label="Matching artists" className="divide-y divide-slate-200 rounded-md bg-white ring-1 ring-slate-200">
            {results.data.items.map((artist) => {
              const already = inCampaign.has(artist.id);
              return (
                <li key={artist.id} className="flex flex-wrap items-center justify-between gap-2 px-3 py-2">
                  <span className="text-sm">
                    <span className="font-medium text-slate-900">{artist.name}</span>{" "}
                    <span className="text-slate-600">
                      · {formatCompact(artist.followers)} followers
                      {artist.city ? ` · ${artist.city}` : ""}
                    </span>
                  </span>
                  {already ? (
                    <Badge tone="green">In this campaign</Badge>
                  ) : (
                    <Button
                      tone="secondary"
                      aria-label={`Add ${artist.name}`}
                      busy={add.isPending && add.variables?.id === artist.id}
                      onClick={() => add.mutate({ id: artist.id, name: artist.name })}
                    >
                      Add
                    </Button>
                  )}
                </li>
              );
            })}
          </ul>
        ))}
    </section>
  );
}

export function CampaignArtists({ campaignId }: { campaignId: string }) {
  const { canEdit } = useSession();
  const queryClient = useQueryClient();
  const [status, setStatus] = useState<CampaignArtistStatus | "">("");
  const [error, setError] = useState<string | null>(null);
  const list = usePagedList(["campaigns", campaignId, "artists", { status }], (cursor) =>
    unwrap(
      api.GET("/api/v1/campaigns/{campaign_id}/artists", {
        params: { path: { campaign_id: campaignId }, query: { status: status || undefined, limit: 50, cursor } },
      }),
    ),
  );
  const entries = list.data ?? [];
  const refresh = () => queryClient.invalidateQueries({ queryKey: ["campaigns", campaignId, "artists"] });

  const change = useMutation({
    mutationFn: ({ artistId, next }: { artistId: string; next: CampaignArtistStatus }) =>
      unwrap(
        api.PATCH("/api/v1/campaigns/{campaign_id}/artists/{artist_id}", {
          params: { path: { campaign_id: campaignId, artist_id: artistId } },
          body: { status: next },
        }),
      ),
    onMutate: () => setError(null),
    onError: (failure) => setError(errorMessage(failure)),
    onSettled: refresh,
  });
  const remove = useMutation({
    mutationFn: (artistId: string) =>
      unwrap(
        api.DELETE("/api/v1/campaigns/{campaign_id}/artists/{artist_id}", {
          params: { path: { campaign_id: campaignId, artist_id: artistId } },
        }),
      ),
    onMutate: () => setError(null),
    onError: (failure) => setError(errorMessage(failure)),
    onSettled: refresh,
  });

  return (
    <Card title="Artists">
      <div className="space-y-4">
        {canEdit && <AddArtists campaignId={campaignId} inCampaign={new Set(entries.map((entry) => entry.artist_id))} />}
        <div className="max-w-xs">
          <SelectField
            label="Show"
            value={status}
            onChange={(event) => setStatus(isArtistStatus(event.target.value) ? event.target.value : "")}
            options={[
              { value: "", label: "Every status" },
              ...ARTIST_STATUSES.map((value) => ({ value, label: ARTIST_STATUS_LABEL[value] })),
            ]}
          />
        </div>
        <FormError message={error} />
        <PagedList
          list={list}
          loading="Loading artists"
          more="Load more artists"
          empty={
            <Empty title={status ? `No ${ARTIST_STATUS_LABEL[status].toLowerCase()} artists` : "No artists in this campaign yet"}>
              {canEdit && !status ? "Find artists above and add them." : null}
            </Empty>
          }
        >
          {(entries) => (
            <Table
              caption="Artists in this campaign"
              head={canEdit ? ["Artist", "Followers", "Status", "Added", "Actions"] : ["Artist", "Followers", "Status", "Added"]}
            >
              {entries.map((entry) => (
                <tr key={entry.id}>
                  <td className="px-3 py-2">
                    <Link to={`/artists/${entry.artist_id}`} className="font-medium text-indigo-700 hover:underline">
                      {entry.artist.name}
                    </Link>
                  </td>
                  <td className="px-3 py-2 tabular-nums text-slate-700">{formatCompact(entry.artist.followers)}</td>
                  <td className="px-3 py-2">
                    {canEdit ? (
                      <label className="block">
                        <span className="sr-only">Status of {entry.artist.name}</span>
                        <select
                          value={entry.status}
                          disabled={change.isPending && change.variables?.artistId === entry.artist_id}
                          onChange={(event) => {
                            const next = event.target.value;
                            if (isArtistStatus(next)) change.mutate({ artistId: entry.artist_id, next });
                          }}
                          className="rounded-md border-0 py-1 pl-2 pr-8 text-sm ring-1 ring-inset ring-slate-300 focus:ring-2 focus:ring-indigo-600"
                        >
                          {ARTIST_STATUSES.map((value) => (
                            <option key={value} value={value}>
                              {ARTIST_STATUS_LABEL[value]}
                            </option>
                          ))}
                        </select>
                      </label>
                    ) : (
                      <Badge>{ARTIST_STATUS_LABEL[entry.status]}</Badge>
                    )}
                  </td>
                  <td className="whitespace-nowrap px-3 py-2 text-slate-700">{formatDate(entry.added_at)}</td>
                  {canEdit && (
                    <td className="px-3 py-2">
                      <ConfirmButton
                        label="Remove"
                        accessibleLabel={`Remove ${entry.artist.name}`}
                        question={`Take ${entry.artist.name} out of this campaign?`}
                        confirmLabel="Remove artist"
                        tone="ghost"
                        busy={remove.isPending && remove.variables === entry.artist_id}
                        onConfirm={() => remove.mutate(entry.artist_id)}
                      />
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
