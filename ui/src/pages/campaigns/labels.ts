/** How campaign enums read, and which status moves a campaign allows (mirrors
 * core/campaign_rules.py; the server still decides and answers 409 otherwise). */
import type { components } from "@/api/schema";

export type Campaign = components["schemas"]["CampaignRead"];
export type CampaignStatus = components["schemas"]["CampaignStatus"];
export type CampaignType = components["schemas"]["CampaignType"];
export type CampaignArtistStatus = components["schemas"]["CampaignArtistStatus"];

export const CAMPAIGN_STATUSES: readonly CampaignStatus[] = [
  "draft",
  "scheduled",
  "active",
  "paused",
  "completed",
  "cancelled",
];

export const STATUS_LABEL: Record<CampaignStatus, string> = {
  draft: "Draft",
  scheduled: "Scheduled",
  active: "Active",
  paused: "Paused",
  completed: "Completed",
  cancelled: "Cancelled",
};

export const STATUS_TONE: Record<CampaignStatus, "slate" | "indigo" | "green" | "amber" | "red"> = {
  draft: "slate",
  scheduled: "indigo",
  active: "green",
  paused: "amber",
  completed: "slate",
  cancelled: "red",
};

export const CAMPAIGN_TYPES: readonly CampaignType[] = [
  "release",
  "playlist_pitch",
  "premiere",
  "tour",
  "outreach",
  "other",
];

export const TYPE_LABEL: Record<CampaignType, string> = {
  release: "Release",
  playlist_pitch: "Playlist pitch",
  premiere: "Premiere",
  tour: "Tour",
  outreach: "Outreach",
  other: "Other",
};

export const ARTIST_STATUSES: readonly CampaignArtistStatus[] = [
  "proposed",
  "contacted",
  "confirmed",
  "declined",
  "completed",
];

export const ARTIST_STATUS_LABEL: Record<CampaignArtistStatus, string> = {
  proposed: "Proposed",
  contacted: "Contacted",
  confirmed: "Confirmed",
  declined: "Declined",
  completed: "Completed",
};

export const NEXT_STATUSES: Record<CampaignStatus, readonly CampaignStatus[]> = {
  draft: ["scheduled", "active", "cancelled"],
  scheduled: ["active", "draft", "cancelled"],
  active: ["paused", "completed", "cancelled"],
  paused: ["active", "completed", "cancelled"],
  completed: [],
  cancelled: [],
};

/** The button that moves a campaign from ``from`` to ``to``. */
export function transitionLabel(from: CampaignStatus, to: CampaignStatus): string {
  switch (to) {
    case "draft":
      return "Back to draft";
    case "scheduled":
      return "Schedule";
    case "active":
      return from === "paused" ? "Resume" : "Start now";
    case "paused":
      return "Pause";
    case "completed":
      return "Mark completed";
    case "cancelled":
      return "Cancel campaign";
  }
}
