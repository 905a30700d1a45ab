/** The states of a list read a page at a time (``usePagedList``): loading, failed, empty, its
 * rows, and "Load more" while the API has more. */
import type { ReactNode } from "react";
import type { UseInfiniteQueryResult } from "@tanstack/react-query";
import { Button } from "./buttons";
import { ErrorState, Loading } from "./states";

type PagedQuery<T> = UseInfiniteQueryResult<T[]>;

/** A "Load more" button while there are more pages, and why reading more (or reading the list
 * again) failed, with a way to try again; the rows already read stay. */
export function LoadMore({ list, label }: { list: PagedQuery<unknown>; label: string }) {
  return (
    <>
      {list.isError && list.data && (
        <ErrorState
          error={list.error}
          retry={() => void (list.isFetchNextPageError ? list.fetchNextPage() : list.refetch())}
        />
      )}
      {list.hasNextPage && (
        <div className="flex justify-center">
          <Button tone="secondary" busy={list.isFetchingNextPage} onClick={() => void list.fetchNextPage()}>
            {label}
          </Button>
        </div>
      )}
    </>
  );
}

/** ``children(items)`` once the first page is in, then ``LoadMore``; before that the loading or
 * error state, and ``empty`` when the list has nothing. */
export function PagedList<T>({
  list,
  loading,
  empty,
  more,
  children,
}: {
  list: PagedQuery<T>;
  /** What is loading: "Loading templates". */
  loading: string;
  empty: ReactNode;
  /** The "Load more" button's name: "Load more templates". */
  more: string;
  children: (items: T[]) => ReactNode;
}) {
  if (list.isPending) return <Loading label={loading} />;
  if (!list.data) return <ErrorState error={list.error} retry={() => void list.refetch()} />;
  if (list.data.length === 0) return <>{empty}</>;
  return (
    <div className="space-y-4">
      {children(list.data)}
      <LoadMore list={list} label={more} />
    </div>
  );
}
