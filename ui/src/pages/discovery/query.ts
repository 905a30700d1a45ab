/** A discovery job's query: the form's checks mirror ``core/discovery.py: DiscoveryQuery`` so
 * most mistakes show before the request; the server still has the last word (seed hosts). */
import { z } from "zod";
import type { components } from "@/api/schema";
import { splitList } from "@/lib/lists";
import { checkRange, countryCode, wholeNumber } from "@/lib/rules";

export type DiscoveryQuery = components["schemas"]["DiscoveryQuery"];
export type DiscoveryJobRead = components["schemas"]["DiscoveryJobRead"];
export type DiscoveryJobStatus = components["schemas"]["DiscoveryJobStatus"];

export const MAX_ARTISTS_PER_JOB = 100_000;
const MAX_ENTRY = 200;
// First path segments of SoundCloud pages that are not profiles (core/discovery.py).
const NOT_PROFILES = new Set([
  "discover", "search", "charts", "stream", "you", "upload", "pages", "settings", "messages",
  "notifications", "signin", "logout", "terms-of-use", "jobs", "imprint", "tags",
]); // prettier-ignore

/** Null when ``seed`` could be a profile, else why not (the server checks the host). */
export function seedProblem(seed: string): string | null {
  let path = seed;
  if (seed.includes("://") || seed.startsWith("//")) {
    try {
      const url = new URL(seed.startsWith("//") ? `https:${seed}` : seed);
      if (url.protocol !== "http:" && url.protocol !== "https:") return `${seed} is not a web address`;
      path = url.pathname;
    } catch {
      return `${seed} is not a SoundCloud profile URL or permalink`;
    }
  }
  const permalink = (path.replace(/^\/+|\/+$/g, "").split("/")[0] ?? "").toLowerCase();
  if (!permalink || !/^[a-z0-9_-]+$/.test(permalink) || NOT_PROFILES.has(permalink)) {
    return `${seed} is not a SoundCloud profile URL or permalink`;
  }
  return null;
}

function listField(max: number, { seeds = false } = {}) {
  return z.string().superRefine((value, ctx) => {
    const entries = splitList(value, { onSpaces: seeds });
    if (entries.length > max) {
      ctx.addIssue({ code: "custom", message: `At most ${max} entries (${entries.length} given).` });
      return;
    }
    if (entries.some((entry) => entry.length > MAX_ENTRY)) {
      ctx.addIssue({ code: "custom", message: `Each entry must be at most ${MAX_ENTRY} characters.` });
      return;
    }
    if (seeds) {
      const problem = entries.map(seedProblem).find((found) => found !== null);
      if (problem) ctx.addIssue({ code: "custom", message: `${problem}.` });
    }
  });
}

export const querySchema = z
  .object({
    terms: listField(20),
    genres: listField(20),
    tags: listField(20),
    seed_artists: listField(50, { seeds: true }),
    city: z.string().trim().max(200, "At most 200 characters."),
    country: countryCode,
    min_followers: wholeNumber({ min: 0 }),
    max_followers: wholeNumber({ min: 0 }),
    active_within_days: wholeNumber({ min: 1, max: 3650 }),
    max_artists: wholeNumber({ min: 1, max: MAX_ARTISTS_PER_JOB, required: true }),
    max_depth: z.enum(["0", "1", "2", "3", "4", "5"]),
    expand_related: z.boolean(),
    expand_followings: z.boolean(),
  })
  .superRefine((values, ctx) => {
    checkRange(ctx, values.min_followers, values.max_followers, "max_followers");
    const sources = [values.terms, values.genres, values.tags]
      .map((value) => splitList(value))
      .concat([splitList(values.seed_artists, { onSpaces: true })]);
    if (sources.every((list) => list.length === 0) && values.city.trim() === "") {
      ctx.addIssue({
        code: "custom",
        path: ["terms"],
        message: "Give at least one of search terms, genres, tags, seed artists or a city to start from.",
      });
    }
  });

export type QueryValues = z.infer<typeof querySchema>;

/** The form's fields named as the API names them, so a 422 lands on its field. */
export const QUERY_FIELDS = [
  "terms",
  "genres",
  "tags",
  "seed_artists",
  "city",
  "country",
  "min_followers",
  "max_followers",
  "active_within_days",
  "max_artists",
  "max_depth",
] as const satisfies readonly (keyof QueryValues)[];

export const DEFAULT_VALUES: QueryValues = {
  terms: "",
  genres: "",
  tags: "",
  seed_artists: "",
  city: "",
  country: "",
  min_followers: "",
  max_followers: "",
  active_within_days: "",
  max_artists: "500",
  max_depth: "1",
  expand_related: true,
  expand_followings: true,
};

export function toQuery(values: QueryValues): DiscoveryQuery {
  const number = (value: string) => (value.trim() === "" ? null : Number(value));
  const expand: DiscoveryQuery["expand"] = [];
  if (values.expand_related) expand.push("related");
  if (values.expand_followings) expand.push("followings");
  return {
    terms: splitList(values.terms),
    genres: splitList(values.genres),
    tags: splitList(values.tags),
    seed_artists: splitList(values.seed_artists, { onSpaces: true }),
    city: values.city.trim() || null,
    country: values.country.trim().toUpperCase() || null,
    min_followers: number(values.min_followers),
    max_followers: number(values.max_followers),
    active_within_days: number(values.active_within_days),
    max_artists: Number(values.max_artists),
    max_depth: Number(values.max_depth),
    expand,
  };
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : [];
}

/** A one-line description of what a job looks for. */
export function describeQuery(query: Record<string, unknown>): string {
  const parts: string[] = [];
  const list = (key: string, label: string) => {
    const values = strings(query[key]);
    if (values.length > 0) parts.push(`${label}: ${values.join(", ")}`);
  };
  list("terms", "terms");
  list("genres", "genres");
  list("tags", "tags");
  list("seed_artists", "seeds");
  const where = [query.city, query.country].filter((value) => typeof value === "string" && value).join(", ");
  if (where) parts.push(`in ${where}`);
  return parts.join(" · ") || "—";
}

export function isActive(status: DiscoveryJobStatus): boolean {
  return status === "queued" || status === "running";
}

/** A counter from a job's progress (absent ones are 0). */
export function counter(progress: Record<string, unknown>, key: string): number {
  const value = progress[key];
  return typeof value === "number" && Number.isFinite(value) ? value : 0;
}

export function scraperCounter(progress: Record<string, unknown>, key: string): number {
  const scraper = progress.scraper;
  return scraper && typeof scraper === "object" ? counter(scraper as Record<string, unknown>, key) : 0;
}

export function maxArtistsOf(job: DiscoveryJobRead): number | null {
  const value = job.query.max_artists;
  return typeof value === "number" && value > 0 ? value : null;
}
