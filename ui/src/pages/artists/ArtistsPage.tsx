/** The artist catalogue: search with every filter, page through results, pick artists for a
 * campaign; editors also add artists by hand and import them from CSV; anyone exports. */
import { useMemo, useState } from "react";
import { useNavigate, useSearchParams } from "react-router";
import { api, unwrap } from "@/api/client";
import { useSession } from "@/auth/session";
import { Button } from "@/components/buttons";
import { Card, PageHeader } from "@/components/page";
import { PagedList } from "@/components/paged";
import { Empty } from "@/components/states";
import { formatNumber } from "@/lib/format";
import { usePagedList } from "@/lib/paging";
import { AddToCampaign } from "./AddToCampaign";
import { ArtistFilters } from "./ArtistFilters";
import { ArtistTable, useSelection, type ExtraColumn } from "./ArtistTable";
import { CreateArtistForm } from "./CreateArtistForm";
import { ExportArtists } from "./ExportArtists";
import { ImportArtists } from "./ImportArtists";
import { Growth, type ArtistRead } from "./artistParts";
import { apiQuery, filtersFromParams, paramsFromFilters } from "./filters";

const PAGE_SIZE = 50;

const GROWTH_COLUMNS: ExtraColumn<ArtistRead>[] = [
  {
    header: "7-day growth",
    numeric: true,
    cell: (artist) => <Growth percent={artist.growth_7d} gain={artist.growth_7d_gain} days={7} />,
  },
  {
    header: "30-day growth",
    numeric: true,
    cell: (artist) => <Growth percent={artist.growth_30d} gain={artist.growth_30d_gain} days={30} />,
  },
];

type Panel = "create" | "import" | null;

export default function ArtistsPage() {
  const { canEdit } = useSession();
  const navigate = useNavigate();
  const [searchParams, setSearchParams] = useSearchParams();
  const [panel, setPanel] = useState<Panel>(null);
  const selection = useSelection();

  const filters = useMemo(() => filtersFromParams(searchParams), [searchParams]);
  const query = useMemo(() => apiQuery(filters), [filters]);

  const results = usePagedList(["artists", "search", query], (cursor) =>
    unwrap(api.GET("/api/v1/artists", { params: { query: { ...query, limit: PAGE_SIZE, cursor } } })),
  );
  const artists = useMemo(() => results.data ?? [], [results.data]);
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

        <PagedList
          list={results}
          loading="Searching artists"
          more="Load more artists"
          empty={
            <Empty title="No artists match these filters">
              Change or clear the filters, start a discovery job, or import a CSV file.
            </Empty>
          }
        >
          {(items) => (
            <ArtistTable
              caption="Artists matching the search"
              items={items}
              artistOf={(artist) => artist}
              selection={canEdit ? selection : undefined}
              extraColumns={GROWTH_COLUMNS}
            />
          )}
        </PagedList>
      </section>
    </div>
  );
}
