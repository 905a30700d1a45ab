/** One artist: profile, links, stats, follower history, and what the workspace keeps about
 * them (contacts, notes, campaigns). */
import { Link, useParams } from "react-router";
import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "@/api/client";
import { errorMessage } from "@/api/problem";
import type { components } from "@/api/schema";
import { useSession } from "@/auth/session";
import { Badge, Card, PageHeader } from "@/components/page";
import { ErrorState, Loading } from "@/components/states";
import { formatDate, formatDateTime, formatNumber } from "@/lib/format";
import { AddToCampaign } from "./AddToCampaign";
import { ContactsCard } from "./ContactsCard";
import { FollowerChart } from "./FollowerChart";
import { NotesCard } from "./NotesCard";
import { WatchToggle } from "./WatchToggle";
import {
  Avatar,
  ExternalLink,
  Genres,
  Growth,
  place,
  safeHref,
  soundcloudUrl,
  type ArtistDetail,
} from "./artistParts";

type SocialPlatform = components["schemas"]["SocialPlatform"];

const PLATFORMS: Record<SocialPlatform, string> = {
  soundcloud: "SoundCloud",
  instagram: "Instagram",
  linktree: "Linktree",
  bandcamp: "Bandcamp",
  spotify: "Spotify",
  youtube: "YouTube",
  facebook: "Facebook",
  tiktok: "TikTok",
  twitter: "X (Twitter)",
  beatport: "Beatport",
  resident_advisor: "Resident Advisor",
  website: "Website",
};

function Profile({ artist }: { artist: ArtistDetail }) {
  const where = place(artist);
  return (
    <Card>
      <div className="flex flex-col gap-4 sm:flex-row sm:items-start">
        <Avatar name={artist.name} size="lg" />
        <div className="min-w-0 flex-1 space-y-3">
          <div className="flex flex-wrap items-center gap-2 text-sm text-slate-700">
            {artist.soundcloud_username && <span>@{artist.soundcloud_username}</span>}
            {where && <span>{where}</span>}
            {artist.verified && <Badge tone="indigo">Verified</Badge>}
          </div>
          <p>
            <ExternalLink href={soundcloudUrl(artist)} label={`SoundCloud profile of ${artist.name}`}>
              soundcloud.com/{artist.permalink}
            </ExternalLink>
          </p>
          <Genres genres={artist.genres} />
          {artist.description && (
            <p className="whitespace-pre-line break-words text-sm text-slate-800">{artist.description}</p>
          )}
        </div>
      </div>
      <dl className="mt-6 grid grid-cols-2 gap-3 text-sm sm:grid-cols-4">
        {(
          [
            ["Followers", formatNumber(artist.followers), "stat-followers"],
            ["Tracks", formatNumber(artist.tracks), "stat-tracks"],
            ["Contacts", formatNumber(artist.contacts_count), "stat-contacts"],
            ["Notes", formatNumber(artist.notes_count), "stat-notes"],
          ] as const
        ).map(([label, value, testId]) => (
          <div key={label} className="rounded-md bg-slate-50 p-3 ring-1 ring-slate-200">
            <dt className="text-xs text-slate-600">{label}</dt>
            <dd className="text-lg font-semibold tabular-nums text-slate-900" data-testid={testId}>
              {value}
            </dd>
          </div>
        ))}
        {(
          [
            ["7-day growth", artist.growth_7d, artist.growth_7d_gain, 7, "stat-growth-7d"],
            ["30-day growth", artist.growth_30d, artist.growth_30d_gain, 30, "stat-growth-30d"],
          ] as const
        ).map(([label, percent, gain, days, testId]) => (
          <div key={label} className="rounded-md bg-slate-50 p-3 ring-1 ring-slate-200">
            <dt className="text-xs text-slate-600">{label}</dt>
            <dd className="flex text-lg tabular-nums" data-testid={testId}>
              <Growth percent={percent} gain={gain} days={days} align="start" />
            </dd>
          </div>
        ))}
      </dl>
      <p className="mt-3 text-xs text-slate-600">
        SoundCloud id {artist.soundcloud_id} · in the catalogue since {formatDate(artist.created_at)} · last
        read from SoundCloud {artist.fetched_at ? formatDateTime(artist.fetched_at) : "never"}
      </p>
    </Card>
  );
}

function SocialLinks({ artist }: { artist: ArtistDetail }) {
  const links = artist.social_profiles
    .map((profile) => ({ ...profile, href: safeHref(profile.url) }))
    .filter((profile): profile is typeof profile & { href: string } => profile.href !== null);
  return (
    <Card title="Links">
      {links.length === 0 ? (
        <p className="text-sm text-slate-600">No other profiles found yet.</p>
      ) : (
        <ul className="space-y-2 text-sm">
          {links.map((profile) => {
            const platform = PLATFORMS[profile.platform] ?? profile.platform;
            return (
              <li key={profile.href} className="flex flex-wrap items-baseline gap-x-2">
                <span className="w-32 shrink-0 font-medium text-slate-800">{platform}</span>
                <ExternalLink href={profile.href} label={platform}>
                  {profile.username ?? profile.href}
                </ExternalLink>
                {profile.followers_count !== null && (
                  <span className="text-xs text-slate-600">{formatNumber(profile.followers_count)} followers</span>
                )}
              </li>
            );
          })}
        </ul>
      )}
    </Card>
  );
}

export default function ArtistPage() {
  const { artistId = "" } = useParams();
  const { canEdit } = useSession();
  const detail = useQuery({
    queryKey: ["artists", artistId],
    queryFn: () => unwrap(api.GET("/api/v1/artists/{artist_id}", { params: { path: { artist_id: artistId } } })),
    enabled: artistId !== "",
  });

  if (detail.isPending) return <Loading label="Loading artist" />;
  if (detail.data === undefined) {
    return (
      <div className="space-y-4">
        <PageHeader title="Artist" />
        <ErrorState error={detail.error} retry={() => void detail.refetch()} />
        <Link to="/artists" className="text-sm text-indigo-700 underline">
          Back to artists
        </Link>
      </div>
    );
  }
  const artist = detail.data;
  return (
    <div className="space-y-6">
      <nav aria-label="Breadcrumb" className="text-sm">
        <Link to="/artists" className="text-indigo-700 underline">
          Artists
        </Link>
        <span aria-hidden="true" className="mx-1 text-slate-500">
          /
        </span>
        <span className="text-slate-700">{artist.name}</span>
      </nav>
      <PageHeader
        title={artist.name}
        actions={<WatchToggle artistId={artist.id} name={artist.name} watched={artist.watched} />}
      />
      {detail.isError && (
        <p role="status" className="text-sm text-amber-800">
          Could not refresh this artist ({errorMessage(detail.error)}); showing what was last read.
        </p>
      )}
      <div className="grid gap-6 lg:grid-cols-3">
        <div className="space-y-6 lg:col-span-2">
          <Profile artist={artist} />
          <Card title="Follower history">
            <FollowerChart artistId={artist.id} />
          </Card>
          <ContactsCard artistId={artist.id} />
          <NotesCard artistId={artist.id} />
        </div>
        <div className="space-y-6">
          <SocialLinks artist={artist} />
          {canEdit && (
            <Card title="Add to a campaign">
              <AddToCampaign artistIds={[artist.id]} names={new Map([[artist.id, artist.name]])} showCount={false} />
            </Card>
          )}
        </div>
      </div>
    </div>
  );
}
