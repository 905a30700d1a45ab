/** The artist results table of search and discovery: name, place, genres, followers, links,
 * with optional row selection (for adding to a campaign) and extra columns. */
import { useCallback, useMemo, useState } from "react";
import type { ReactNode } from "react";
import { Link } from "react-router";
import { formatNumber } from "@/lib/format";
import { Badge } from "@/components/page";
import { Avatar, ExternalLink, Genres, place, soundcloudUrl, type ArtistRead } from "./artistParts";

export interface Selection {
  selected: ReadonlySet<string>;
  toggle: (id: string) => void;
  setMany: (ids: string[], on: boolean) => void;
  clear: () => void;
}

export function useSelection(): Selection {
  const [selected, setSelected] = useState<ReadonlySet<string>>(() => new Set());
  const toggle = useCallback((id: string) => {
    setSelected((current) => {
      const next = new Set(current);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  }, []);
  const setMany = useCallback((ids: string[], on: boolean) => {
    setSelected((current) => {
      const next = new Set(current);
      ids.forEach((id) => (on ? next.add(id) : next.delete(id)));
      return next;
    });
  }, []);
  const clear = useCallback(() => setSelected(new Set()), []);
  return useMemo(() => ({ selected, toggle, setMany, clear }), [selected, toggle, setMany, clear]);
}

export interface ExtraColumn<T> {
  header: string;
  cell: (item: T) => ReactNode;
  numeric?: boolean;
}

const CELL = "px-3 py-2 align-top";

export function ArtistTable<T>({
  caption,
  items,
  artistOf,
  selection,
  extraColumns = [],
}: {
  caption: string;
  items: T[];
  artistOf: (item: T) => ArtistRead;
  /** Shown (a checkbox per row and one for all shown) only when given. */
  selection?: Selection | undefined;
  extraColumns?: ExtraColumn<T>[];
}) {
  const ids = items.map((item) => artistOf(item).id);
  const chosen = selection ? ids.filter((id) => selection.selected.has(id)).length : 0;
  const all = ids.length > 0 && chosen === ids.length;
  return (
    <div role="group" aria-label={caption} tabIndex={0} className="overflow-x-auto rounded-lg bg-white shadow-sm ring-1 ring-slate-200">
      <table className="min-w-full divide-y divide-slate-200 text-sm">
        <caption className="sr-only">{caption}</caption>
        <thead className="bg-slate-50">
          <tr>
            {selection && (
              <th scope="col" className="w-10 px-3 py-2 text-left">
                <input
                  type="checkbox"
                  aria-label="Select all shown artists"
                  className="h-4 w-4 rounded border-slate-400"
                  checked={all}
                  ref={(box) => {
                    if (box) box.indeterminate = chosen > 0 && !all;
                  }}
                  onChange={(event) => selection.setMany(ids, event.target.checked)}
                />
              </th>
            )}
            <th scope="col" className="px-3 py-2 text-left font-semibold text-slate-700">
              Name
            </th>
            <th scope="col" className="px-3 py-2 text-left font-semibold text-slate-700">
              Location
            </th>
            <th scope="col" className="px-3 py-2 text-left font-semibold text-slate-700">
              Genres
            </th>
            <th scope="col" className="px-3 py-2 text-right font-semibold text-slate-700">
              Followers
            </th>
            {extraColumns.map((column) => (
              <th
                key={column.header}
                scope="col"
                className={`px-3 py-2 font-semibold text-slate-700 ${column.numeric ? "text-right" : "text-left"}`}
              >
                {column.header}
              </th>
            ))}
            <th scope="col" className="px-3 py-2 text-left font-semibold text-slate-700">
              Links
            </th>
          </tr>
        </thead>
        <tbody className="divide-y divide-slate-100">
          {items.map((item) => {
            const artist = artistOf(item);
            return (
              <tr key={artist.id} className={selection?.selected.has(artist.id) ? "bg-indigo-50" : undefined}>
                {selection && (
                  <td className={CELL}>
                    <input
                      type="checkbox"
                      aria-label={`Select ${artist.name}`}
                      className="h-4 w-4 rounded border-slate-400"
                      checked={selection.selected.has(artist.id)}
                      onChange={() => selection.toggle(artist.id)}
                    />
                  </td>
                )}
                <td className={CELL}>
                  <div className="flex items-center gap-2">
                    <Avatar name={artist.name} size="sm" />
                    <div className="min-w-0">
                      <Link
                        to={`/artists/${artist.id}`}
                        className="font-medium text-slate-900 underline-offset-2 hover:underline"
                      >
                        {artist.name}
                      </Link>
                      {artist.verified && (
                        <span className="ml-1.5">
                          <Badge tone="indigo">Verified</Badge>
                        </span>
                      )}
                      {artist.watched && (
                        <span className="ml-1.5">
                          <Badge tone="green">Watched</Badge>
                        </span>
                      )}
                      <div className="text-xs text-slate-600">{artist.permalink}</div>
                    </div>
                  </div>
                </td>
                <td className={`${CELL} whitespace-nowrap`}>{place(artist) || "—"}</td>
                <td className={CELL}>
                  <Genres genres={artist.genres} />
                </td>
                <td className={`${CELL} text-right tabular-nums`}>{formatNumber(artist.followers)}</td>
                {extraColumns.map((column) => (
                  <td key={column.header} className={`${CELL} ${column.numeric ? "text-right tabular-nums" : ""}`}>
                    {column.cell(item)}
                  </td>
                ))}
                <td className={`${CELL} whitespace-nowrap`}>
                  <ExternalLink href={soundcloudUrl(artist)} label={`SoundCloud profile of ${artist.name}`}>
                    SoundCloud
                  </ExternalLink>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
