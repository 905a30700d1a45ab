/** The template rendered by the server for a catalogue artist (and optionally a campaign), as
 * sending would render it, following the editor as the user types: the parts that differ from
 * the saved template go along as a draft, rendered in place of the saved ones. A part that does
 * not render shows the server's reason and line, here and (through ``onProblems``) on its
 * field; the last render that worked stays visible, dimmed, until the draft renders again. */
import { useEffect, useMemo, useState } from "react";
import { Link } from "react-router";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { api, unwrap } from "@/api/client";
import { ApiError } from "@/api/problem";
import type { components } from "@/api/schema";
import { Card } from "@/components/page";
import { SelectField, TextField } from "@/components/forms";
import { ErrorState, Loading } from "@/components/states";
import { formatNumber } from "@/lib/format";
import { HtmlFrame } from "@/components/HtmlFrame";
import { PART_LABELS, PART_LIMITS, partLabel, type Draft, type Part, type Template } from "./templateTypes";
import { useDebounced } from "@/lib/useDebounced";

type Rendered = components["schemas"]["PreviewRead"];

/** What the preview found wrong with each part, in the server's words. */
export type PreviewProblems = Partial<Record<Part, string>>;

// One request per pause in typing, and per artist that stays picked when stepping through the
// list with the arrow keys.
const PREVIEW_DELAY_MS = 400;

// Drafts are rendered once each; their renders need not outlive the editing session for long.
const PREVIEW_CACHE_MS = 60_000;

const PARTS = Object.keys(PART_LABELS) as Part[];

interface PreviewInput {
  artistId: string;
  campaignId: string;
  // The saved version the draft applies to: a save (here or elsewhere) renders again.
  version: string;
  draft: Draft;
}

/** Whom a render (or its failure) was for, and whether it had unsaved changes in it. */
interface RenderedFor {
  artistId: string;
  campaignId: string;
  drafted: boolean;
}

/** Why a draft is not sent for rendering (what the API would refuse without rendering it), or
 * null when it can go. */
function heldBack(draft: Draft): string | null {
  if (draft.subject === "") return "Write a subject to see the preview.";
  for (const part of PARTS) {
    const source = draft[part];
    if (source !== undefined && source.length > PART_LIMITS[part]) {
      return `The ${PART_LABELS[part].toLowerCase()} is longer than ${formatNumber(PART_LIMITS[part])} characters. Shorten it to see the preview.`;
    }
  }
  return null;
}

/** The parts a 422 names, each with its messages; empty for any other error. */
function problemsOf(error: unknown): PreviewProblems {
  if (!(error instanceof ApiError) || error.status !== 422) return {};
  const problems: PreviewProblems = {};
  for (const { field, message } of error.fieldErrors) {
    if (!PARTS.includes(field as Part)) continue;
    const part = field as Part;
    problems[part] = problems[part] ? `${problems[part]}; ${message}` : message;
  }
  return problems;
}

function PreviewError({
  error,
  artist,
  drafted,
  retry,
}: {
  error: unknown;
  artist: string;
  drafted: boolean;
  retry: () => void;
}) {
  if (error instanceof ApiError && error.status === 422 && error.fieldErrors.length > 0) {
    return (
      <div
        data-testid="preview-problem"
        className="space-y-2 rounded-md border border-red-200 bg-red-50 p-3 text-sm text-red-900"
      >
        <p className="font-medium">
          {drafted ? `Your draft does not render for ${artist}:` : `This template does not render for ${artist}:`}
        </p>
        <ul className="list-disc space-y-1 pl-5">
          {error.fieldErrors.map((problem) => (
            <li key={`${problem.field}:${problem.message}`}>
              <span className="font-medium">{partLabel(problem.field)}</span>: {problem.message}
            </li>
          ))}
        </ul>
        <p>
          {drafted
            ? "What you typed is kept; the preview renders again as you fix it."
            : "Sending would fail the same way for this artist. Fix the template and save it."}
        </p>
      </div>
    );
  }
  return <ErrorState error={error} retry={retry} />;
}

export function TemplatePreview({
  template,
  draft,
  onProblems,
}: {
  template: Template;
  draft: Draft;
  onProblems: (problems: PreviewProblems) => void;
}) {
  const [search, setSearch] = useState("");
  const [chosenArtist, setChosenArtist] = useState("");
  const [campaignId, setCampaignId] = useState("");
  const q = useDebounced(search.trim(), PREVIEW_DELAY_MS);

  const artists = useQuery({
    queryKey: ["artists", "preview-picker", q],
    queryFn: () =>
      unwrap(api.GET("/api/v1/artists", { params: { query: { limit: 50, ...(q ? { q } : {}) } } })),
    placeholderData: keepPreviousData,
  });
  const campaigns = useQuery({
    queryKey: ["campaigns", "preview-picker"],
    queryFn: () => unwrap(api.GET("/api/v1/campaigns", { params: { query: { limit: 100, sort: "name" } } })),
  });

  const artistList = artists.data?.items ?? [];
  const artist = artistList.find((item) => item.id === chosenArtist) ?? artistList[0];
  const artistId = artist?.id ?? "";

  // Compared as text: a new draft object on each render is not a new request.
  const wanted = JSON.stringify({ artistId, campaignId, version: template.updated_at, draft } satisfies PreviewInput);
  const debouncedKey = useDebounced(wanted, PREVIEW_DELAY_MS);
  const debouncedArtist = useMemo(() => (JSON.parse(debouncedKey) as PreviewInput).artistId, [debouncedKey]);
  // The first artist to load renders at once; only what changes after that waits for a pause.
  const [firstKey, setFirstKey] = useState<string | null>(null);
  const [caughtUp, setCaughtUp] = useState(false);
  if (firstKey === null && artistId !== "") setFirstKey(wanted);
  if (!caughtUp && debouncedArtist !== "") setCaughtUp(true);
  const settledKey = !caughtUp && firstKey !== null && artistId !== "" ? firstKey : debouncedKey;
  const settled = useMemo(() => JSON.parse(settledKey) as PreviewInput, [settledKey]);
  const renderedFor = useMemo<RenderedFor>(
    () => ({
      artistId: settled.artistId,
      campaignId: settled.campaignId,
      drafted: Object.keys(settled.draft).length > 0,
    }),
    [settled],
  );
  const hold = heldBack(settled.draft);

  const preview = useQuery({
    queryKey: ["email-templates", "preview", template.id, settledKey],
    queryFn: ({ signal }) =>
      unwrap(
        api.POST("/api/v1/email-templates/{template_id}/preview", {
          params: { path: { template_id: template.id } },
          body: {
            artist_id: settled.artistId,
            ...(settled.campaignId ? { campaign_id: settled.campaignId } : {}),
            ...settled.draft,
          },
          signal,
        }),
      ),
    enabled: settled.artistId !== "" && hold === null,
    gcTime: PREVIEW_CACHE_MS,
  });

  // What stays on screen while the next render is on its way or does not work.
  const [lastGood, setLastGood] = useState<{ rendered: Rendered; for: RenderedFor } | null>(null);
  const [lastError, setLastError] = useState<{ error: unknown; for: RenderedFor } | null>(null);
  useEffect(() => {
    if (preview.isSuccess) {
      setLastGood({ rendered: preview.data, for: renderedFor });
      setLastError(null);
    } else if (preview.isError) {
      setLastError({ error: preview.error, for: renderedFor });
    }
  }, [preview.isSuccess, preview.isError, preview.data, preview.error, renderedFor]);

  const sameTarget = (other: RenderedFor) =>
    other.artistId === renderedFor.artistId && other.campaignId === renderedFor.campaignId;
  const good = preview.isSuccess ? { rendered: preview.data, for: renderedFor } : lastGood;
  // A failure stays up while the next draft renders, for the same artist and campaign only.
  const failure =
    preview.isSuccess || hold !== null
      ? null
      : preview.isError
        ? { error: preview.error, for: renderedFor }
        : lastError !== null && sameTarget(lastError.for)
          ? lastError
          : null;
  const updating = wanted !== settledKey || preview.isFetching;
  const stale = failure !== null || hold !== null;
  // Beside a problem, a render for another artist or campaign would pass for this one's.
  const shown = good !== null && artistId !== "" && (!stale || sameTarget(good.for)) ? good : null;

  const problemsKey = JSON.stringify(problemsOf(failure?.error));
  useEffect(() => onProblems(JSON.parse(problemsKey) as PreviewProblems), [problemsKey, onProblems]);

  const nameOf = (id: string) => artistList.find((item) => item.id === id)?.name ?? "this artist";
  const noArtists = artists.isSuccess && artistList.length === 0 && !q;

  return (
    <Card title="Preview">
      <div className="space-y-4">
        <div className="grid gap-3 sm:grid-cols-2">
          <TextField
            label="Find an artist"
            type="search"
            value={search}
            onChange={(event) => setSearch(event.target.value)}
            hint="By name, permalink or username."
          />
          <SelectField
            label="Preview for"
            value={artistId}
            disabled={artistList.length === 0}
            onChange={(event) => setChosenArtist(event.target.value)}
            options={
              artistList.length === 0
                ? [{ value: "", label: artists.isPending ? "Loading artists…" : "No artist found" }]
                : artistList.map((item) => ({
                    value: item.id,
                    label: [item.name, [item.city, item.country].filter(Boolean).join(", ")]
                      .filter(Boolean)
                      .join(" · "),
                  }))
            }
          />
        </div>
        <SelectField
          label="Campaign"
          value={campaignId}
          onChange={(event) => setCampaignId(event.target.value)}
          hint="For {{ campaign.name }}."
          options={[
            { value: "", label: "No campaign" },
            ...(campaigns.data?.items ?? []).map((campaign) => ({ value: campaign.id, label: campaign.name })),
          ]}
        />
        {artists.isError && <ErrorState error={artists.error} retry={() => void artists.refetch()} />}
        {campaigns.isError && <ErrorState error={campaigns.error} retry={() => void campaigns.refetch()} />}

        {noArtists ? (
          <p className="text-sm text-slate-600">
            The catalogue has no artists to preview with yet.{" "}
            <Link to="/artists" className="text-indigo-700 underline">
              Add an artist
            </Link>{" "}
            or run a discovery.
          </p>
        ) : (
          <>
            {/* Only what went wrong is announced: reading the whole message out on every pause
                in typing would drown the editor. */}
            <div aria-live="polite">
              {hold !== null ? (
                <p data-testid="preview-held" className="rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-900">
                  {hold}
                </p>
              ) : failure !== null ? (
                <PreviewError
                  error={failure.error}
                  artist={nameOf(failure.for.artistId)}
                  drafted={failure.for.drafted}
                  retry={() => void preview.refetch()}
                />
              ) : null}
            </div>
            <div aria-busy={updating} className="space-y-2">
              {shown !== null ? (
                <>
                  <p className="flex flex-wrap items-center gap-x-2 text-xs text-slate-600">
                    <span>
                      {stale
                        ? "The last version that rendered:"
                        : shown.for.drafted
                          ? `Your unsaved changes, as ${nameOf(shown.for.artistId)} would get them.`
                          : `The saved template, as ${nameOf(shown.for.artistId)} would get it.`}
                    </span>
                    {updating && <span className="text-indigo-700">Updating…</span>}
                  </p>
                  <div
                    data-testid={stale ? "preview-stale" : "preview-current"}
                    // A coloured edge, not dimming: faded text would fail contrast for the
                    // very people who need to read what was rendered.
                    className={`border-l-4 pl-3 ${stale ? "border-amber-400" : updating ? "border-indigo-300" : "border-transparent"}`}
                  >
                    <RenderedMessage {...shown.rendered} />
                  </div>
                </>
              ) : !stale && artistId !== "" ? (
                <Loading label="Rendering the preview" />
              ) : null}
            </div>
          </>
        )}
      </div>
    </Card>
  );
}

function RenderedMessage({ subject, text, html }: Rendered) {
  return (
    <div className="space-y-4">
      <div>
        <h3 className="text-xs font-semibold uppercase tracking-wide text-slate-500">Subject</h3>
        <p data-testid="preview-subject" className="mt-1 break-words font-medium text-slate-900">
          {subject}
        </p>
      </div>
      <div>
        <h3 className="text-xs font-semibold uppercase tracking-wide text-slate-500">Text</h3>
        {text.trim() ? (
          <pre
            data-testid="preview-text"
            className="mt-1 max-h-96 overflow-auto whitespace-pre-wrap break-words rounded-md bg-slate-50 p-3 font-mono text-xs text-slate-800"
          >
            {text}
          </pre>
        ) : (
          <p className="mt-1 text-sm text-slate-600">No text body: sending derives one from the HTML.</p>
        )}
      </div>
      {html.trim() && (
        <div>
          <h3 className="text-xs font-semibold uppercase tracking-wide text-slate-500">HTML</h3>
          <div className="mt-1">
            <HtmlFrame html={html} title="HTML preview" />
          </div>
        </div>
      )}
    </div>
  );
}
