/** The artist catalogue: search with every filter, page through results, pick artists for a
 * campaign; editors also add artists by hand and import them from CSV; anyone exports. */
import { useMemo, useState } from "react";
import { useNavigate, useSearchParams } from "react-router";
import { useInfiniteQuery } from "@tanstack/react-query";
import { api, unwrap } from "@/api/client";
import { useSession } from "@/auth/session";
import { Button } from "@/components/buttons";
import { Card, PageHeader } from "@/components/page";
import { Empty, ErrorState, Loading } from "@/components/states";
import { formatNumber } from "@/lib/format";
import { AddToCampaign } from "./AddToCampaign";
import { ArtistFilters } from "./ArtistFilters";
import { ArtistTable, useSelection } from "./ArtistTable";
import { CreateArtistForm } from "./CreateArtistForm";
import { ExportArtists } from "./ExportArtists";
import { ImportArtists } from "./ImportArtists";
import { apiQuery, filtersFromParams, paramsFromFilters } from "./filters";

const PAGE_SIZE = 50;

type Panel = "create" | "import" | null;

export default function ArtistsPage() {
  const { canEdit } = useSession();
  const navigate = useNavigate();
  const [searchParams, setSearchParams] = useSearchParams();
  const [panel, setPanel] = useState<Panel>(null);
  const selection = useSelection();

  const filters = useMemo(() => filtersFromParams(searchParams), [searchParams]);
  const query = useMemo(() => apiQuery(filters), [filters]);

  const results = useInfiniteQuery({
    queryKey: ["artists", "search", query],
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET("/api/v1/artists", {
          params: { query: { ...query, limit: PAGE_SIZE, cursor: pageParam ?? undefined } },
        }),
      ),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next_cursor,
  });
  const artists = useMemo(() => results.data?.pages.flatMap((page) => page.items) ?? [], [results.data]);
  const names = useMemo(() => new Map(artists.map((artist) => [artist.id, artist.name])), [artists]);
  const chosen = [...selection.selected];

  const toggle = (next: Panel) => setPanel((current) => (current === next ? null : next));

  return (
    <div className="space-y-6">
      <PageHeader
        title="Artists"
        description="The shared SoundCloud catalogue, with this workspace's contacts and notes."
        actions={
          canEdit && (
            <>
              <Button
                aria-expanded={panel === "create"}
                aria-controls="artists-panel"
                onClick={() => toggle("create")}
              >
                New artist
              </Button>
              <Button
                tone="secondary"
                aria-expanded={panel === "import"}
                aria-controls="artists-panel"
                onClick={() => toggle("import")}
              >
                Import CSV
              </Button>
            </>
          )
        }
      />

      {canEdit && panel && (
        <div id="artists-panel">
          {panel === "create" ? (
            <Card title="New artist">
              <CreateArtistForm
                onCancel={() => setPanel(null)}
                onCreated={(artist) => navigate(`/artists/${artist.id}`)}
              />
            </Card>
          ) : (
            <Card title="Import artists from CSV">
              <ImportArtists onClose={() => setPanel(null)} />
            </Card>
          )}
        </div>
      )}

      <ArtistFilters
        values={filters}
        onSearch={(values) => {
          selection.clear();
          setSearchParams(paramsFromFilters(values));
        }}
      />

      <section aria-labelledby="artist-results" className="space-y-3">
        <div className="flex flex-wrap items-center justify-between gap-3">
          <h2 id="artist-results" className="text-base font-semibold text-slate-900">
            Results
            {results.isSuccess && (
              <span className="ml-2 text-sm font-normal text-slate-600" data-testid="results-count">
                {formatNumber(artists.length)}
                {results.hasNextPage ? "+" : ""} shown
              </span>
            )}
          </h2>
          <ExportArtists query={query} />
        </div>

        {canEdit && (
          <AddToCampaign artistIds={chosen} names={names} onAdded={selection.clear} />
        )}

        {results.isPending ? (
          <Loading label="Searching artists" />
        ) : results.isError && artists.length === 0 ? (
          <ErrorState error={results.error} retry={() => void results.refetch()} />
        ) : artists.length === 0 ? (
          <Empty title="No artists match these filters">
            Change or clear the filters, start a discovery job, or import a CSV file.
          </Empty>
        ) : (
          <>
            <ArtistTable
              caption="Artists matching the search"
              items={artists}
              artistOf={(artist) => artist}
              selection={canEdit ? selection : undefined}
            />
            {results.isFetchNextPageError && (
              <ErrorState error={results.error} retry={() => void results.fetchNextPage()} />
            )}
            {results.hasNextPage && (
              <div className="flex justify-center">
                <Button
                  tone="secondary"
                  busy={results.isFetchingNextPage}
                  onClick={() => void results.fetchNextPage()}
                >
                  Load more artists
                </Button>
              </div>
            )}
          </>
        )}
      </section>
    </div>
  );
}
