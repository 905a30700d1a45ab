/** The artist search's filters: kept in the page's URL, checked as the API checks them
 * (``serve/routers/artists.py: artist_filter``), and turned into its query string. */
import { z } from "zod";
import type { operations } from "@/api/schema";
import { checkRange, countryCode, wholeNumber } from "@/lib/rules";
import { MAX_COUNT } from "./artistParts";

export type ArtistSearchQuery = NonNullable<operations["search_artists_api_v1_artists_get"]["parameters"]["query"]>;

export const SORTS = [
  { value: "-followers", label: "Most followers" },
  { value: "followers", label: "Fewest followers" },
  { value: "name", label: "Name A–Z" },
  { value: "-name", label: "Name Z–A" },
  { value: "-growth_7d", label: "Fastest growing, 7 days" },
  { value: "-growth_30d", label: "Fastest growing, 30 days" },
  { value: "growth_7d", label: "Slowest growing, 7 days" },
  { value: "growth_30d", label: "Slowest growing, 30 days" },
  { value: "-created_at", label: "Newest in the catalogue" },
  { value: "-updated_at", label: "Recently updated" },
] as const;
export const DEFAULT_SORT = "-followers";

const TRI_STATE = ["", "true", "false"] as const;

const count = wholeNumber({ min: 0, max: MAX_COUNT });

/** The API's bounds for a growth filter (``serve/routers/artists.py: GrowthFloor``). */
export const MAX_GROWTH_PERCENT = 1e9;
/** Blank, or a percent of at least -100 (nothing loses more than all its followers). */
const growthPercent = z
  .string()
  .trim()
  .refine(
    (value) =>
      value === "" ||
      (/^[-+]?\d{1,10}([.,]\d{1,2})?$/.test(value) &&
        Number(value.replace(",", ".")) >= -100 &&
        Number(value.replace(",", ".")) <= MAX_GROWTH_PERCENT),
    "Enter a percent from -100 up, e.g. 10 or 2.5.",
  );

export const filterSchema = z
  .object({
    q: z.string().trim().max(200, "At most 200 characters."),
    genre: z.string().trim().max(100, "At most 100 characters."),
    city: z.string().trim().max(200, "At most 200 characters."),
    country: countryCode,
    min_followers: count,
    max_followers: count,
    verified: z.enum(TRI_STATE),
    has_contact: z.enum(TRI_STATE),
    watched: z.enum(TRI_STATE),
    min_growth_7d: growthPercent,
    min_growth_30d: growthPercent,
    sort: z.enum(SORTS.map((sort) => sort.value) as [string, ...string[]]),
  })
  .superRefine((values, ctx) => checkRange(ctx, values.min_followers, values.max_followers, "max_followers"));

export type FilterValues = z.infer<typeof filterSchema>;
export const FILTER_FIELDS = [
  "q",
  "genre",
  "city",
  "country",
  "min_followers",
  "max_followers",
  "verified",
  "has_contact",
  "watched",
  "min_growth_7d",
  "min_growth_30d",
  "sort",
] as const satisfies readonly (keyof FilterValues)[];

function triState(value: string | null): "" | "true" | "false" {
  return value === "true" || value === "false" ? value : "";
}

/** The form's values from the page's search parameters (unknown or missing ones blank). */
export function filtersFromParams(params: URLSearchParams): FilterValues {
  const sort = params.get("sort") ?? DEFAULT_SORT;
  return {
    q: params.get("q") ?? "",
    genre: params.get("genre") ?? "",
    city: params.get("city") ?? "",
    country: params.get("country") ?? "",
    min_followers: params.get("min_followers") ?? "",
    max_followers: params.get("max_followers") ?? "",
    verified: triState(params.get("verified")),
    has_contact: triState(params.get("has_contact")),
    watched: triState(params.get("watched")),
    min_growth_7d: params.get("min_growth_7d") ?? "",
    min_growth_30d: params.get("min_growth_30d") ?? "",
    sort: SORTS.some((s) => s.value === sort) ? sort : DEFAULT_SORT,
  };
}

/** Search parameters for the page's URL: only the filters that are set. */
export function paramsFromFilters(values: FilterValues): URLSearchParams {
  const params = new URLSearchParams();
  for (const field of FILTER_FIELDS) {
    const value = values[field].trim();
    if (value !== "" && !(field === "sort" && value === DEFAULT_SORT)) params.set(field, value);
  }
  return params;
}

/** The API's query for the filters (blank ones left out). */
export function apiQuery(values: FilterValues): ArtistSearchQuery {
  const text = (value: string) => (value.trim() === "" ? undefined : value.trim());
  const number = (value: string) => (value.trim() === "" ? undefined : Number(value));
  const flag = (value: string) => (value === "" ? undefined : value === "true");
  const percent = (value: string) => (value.trim() === "" ? undefined : Number(value.trim().replace(",", ".")));
  return {
    q: text(values.q),
    genre: text(values.genre),
    city: text(values.city),
    country: text(values.country)?.toUpperCase(),
    min_followers: number(values.min_followers),
    max_followers: number(values.max_followers),
    verified: flag(values.verified),
    has_contact: flag(values.has_contact),
    watched: flag(values.watched),
    min_growth_7d: percent(values.min_growth_7d),
    min_growth_30d: percent(values.min_growth_30d),
    sort: values.sort,
  };
}
