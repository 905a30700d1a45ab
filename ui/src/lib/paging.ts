/** Lists the API serves a page at a time: a page's ``next_cursor`` is the ``cursor`` that reads
 * the next one, and null after the last. */
import { useInfiniteQuery, type InfiniteData, type QueryKey } from "@tanstack/react-query";

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

function allItems<T>(data: InfiniteData<Page<T>, string | null>): T[] {
  return data.pages.flatMap((page) => page.items);
}

/** A paged list as one query: ``data`` holds the items of every page read so far, and
 * ``fetchNextPage`` reads one more. ``read(cursor)`` fetches a page (the first with no cursor);
 * ``poll(items)`` says how often to read the list again, if at all. */
export function usePagedList<T>(
  queryKey: QueryKey,
  read: (cursor: string | undefined) => Promise<Page<T>>,
  { enabled = true, poll }: { enabled?: boolean; poll?: (items: T[]) => number | false } = {},
) {
  return useInfiniteQuery({
    queryKey,
    queryFn: ({ pageParam }) => read(pageParam ?? undefined),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next_cursor,
    select: allItems<T>,
    enabled,
    refetchInterval: poll && ((query) => poll(query.state.data ? allItems(query.state.data) : [])),
  });
}
