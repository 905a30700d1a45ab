/** Filters kept in the page's address, so that a filtered view survives a reload and can be
 * shared as a link. */
import { useCallback, useEffect, useState } from "react";
import { useSearchParams } from "react-router";
import { useDebounced } from "./useDebounced";

/** The page's search parameters, and a setter of one of them: a blank value removes it, and a
 * change replaces the history entry instead of adding one (Back leaves the page). */
export function useFilterParams(): [URLSearchParams, (name: string, value: string) => void] {
  const [params, setParams] = useSearchParams();
  const setParam = useCallback(
    (name: string, value: string) => {
      if ((params.get(name) ?? "") === value) return;
      setParams(
        (current) => {
          const next = new URLSearchParams(current);
          if (value) next.set(name, value);
          else next.delete(name);
          return next;
        },
        { replace: true },
      );
    },
    [params, setParams],
  );
  return [params, setParam];
}

/** A typed filter (a search box) kept in the address under ``name``: ``text`` is what the box
 * shows, ``value`` the trimmed text once typing has paused, which is what the address holds. */
export function useTextFilter(name: string, delayMs = 300) {
  const [params, setParam] = useFilterParams();
  const [text, setText] = useState(params.get(name) ?? "");
  const value = useDebounced(text.trim(), delayMs);
  useEffect(() => setParam(name, value), [name, value, setParam]);
  return { text, setText, value };
}
