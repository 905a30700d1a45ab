/** Small pieces every artist view shares: types, initials avatar, safe external links. */
import type { ReactNode } from "react";
import type { components } from "@/api/schema";

export type ArtistRead = components["schemas"]["ArtistRead"];
export type ArtistDetail = components["schemas"]["ArtistDetail"];

/** Catalogue counts are PostgreSQL integers (``serve/schemas/artists.py: MAX_COUNT``). */
export const MAX_COUNT = 2 ** 31 - 1;

/** Up to two letters for an avatar: first letters of the first two words. */
export function initials(name: string): string {
  const words = name
    .split(/\s+/)
    .map((word) => word.replace(/[^\p{L}\p{N}]/gu, ""))
    .filter(Boolean);
  const letters = words
    .slice(0, 2)
    .map((word) => Array.from(word)[0] ?? "")
    .join("");
  return (letters || "?").toUpperCase();
}

/** An initials disc in place of the artist's picture: the CSP blocks images from SoundCloud. */
export function Avatar({ name, size = "md" }: { name: string; size?: "sm" | "md" | "lg" }) {
  const sizes = { sm: "h-8 w-8 text-xs", md: "h-10 w-10 text-sm", lg: "h-20 w-20 text-2xl" };
  return (
    <span
      aria-hidden="true"
      className={`inline-flex shrink-0 items-center justify-center rounded-full bg-indigo-100 font-semibold text-indigo-800 ${sizes[size]}`}
    >
      {initials(name)}
    </span>
  );
}

/** ``url`` when it is an http(s) address, else null: scraped links never become
 * ``javascript:`` or other schemes in an href. */
export function safeHref(url: string | null | undefined): string | null {
  if (!url) return null;
  try {
    const parsed = new URL(url);
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
  } catch {
    return null;
  }
}

export function soundcloudUrl(artist: Pick<ArtistRead, "permalink" | "permalink_url">): string {
  return safeHref(artist.permalink_url) ?? `https://soundcloud.com/${encodeURIComponent(artist.permalink)}`;
}

export function place(artist: Pick<ArtistRead, "city" | "country">): string {
  return [artist.city, artist.country?.toUpperCase()].filter(Boolean).join(", ");
}

/** A link that leaves the app: new tab, no referrer, and says so to screen readers. ``label``
 * is read before the visible text (which stays part of the link's name, as speech input needs). */
export function ExternalLink({ href, children, label }: { href: string; children: ReactNode; label?: string }) {
  return (
    <a
      href={href}
      target="_blank"
      rel="noopener noreferrer"
      className="text-indigo-700 underline hover:text-indigo-900"
    >
      {label && <span className="sr-only">{label}: </span>}
      {children}
      <span className="sr-only"> (opens in a new tab)</span>
    </a>
  );
}

export function Genres({ genres }: { genres: string[] }) {
  if (genres.length === 0) return <span className="text-slate-500">—</span>;
  return (
    <ul className="flex flex-wrap gap-1" aria-label="Genres">
      {genres.map((genre) => (
        <li key={genre} className="rounded-full bg-slate-100 px-2 py-0.5 text-xs text-slate-800">
          {genre}
        </li>
      ))}
    </ul>
  );
}

const PERCENT = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1, signDisplay: "exceptZero" });
const GAIN = new Intl.NumberFormat(undefined, { signDisplay: "exceptZero" });

/** A growth percent with its sign ("+12.5%", "-3%"), or a dash when it is unknown. */
export function formatGrowth(percent: number | null | undefined): string {
  return percent === null || percent === undefined ? "—" : `${PERCENT.format(percent)}%`;
}

/** Followers gained or lost, signed ("+1,200 followers"). */
export function formatGain(gain: number): string {
  return `${GAIN.format(gain)} ${Math.abs(gain) === 1 ? "follower" : "followers"}`;
}

/** Growth over one window: the percent, and the followers gained beneath it (and on hover).
 * Unknown growth says why: the artist's history is shorter than the window, or started at 0. */
export function Growth({
  percent,
  gain,
  days,
  align = "end",
}: {
  percent: number | null;
  gain: number | null;
  days: number;
  align?: "start" | "end";
}) {
  if (gain === null) {
    return (
      <span className="text-slate-500" title={`Less than ${days} days of follower history`}>
        —<span className="sr-only">, not enough history</span>
      </span>
    );
  }
  const tone = percent === null || percent === 0 ? "text-slate-800" : percent > 0 ? "text-green-800" : "text-red-800";
  return (
    <span className={`inline-flex flex-col ${align === "end" ? "items-end" : "items-start"}`} title={`${formatGain(gain)} in ${days} days`}>
      <span className={`font-medium ${tone}`}>{percent === null ? "from 0" : formatGrowth(percent)}</span>
      <span className="text-xs text-slate-600">{formatGain(gain)}</span>
    </span>
  );
}
