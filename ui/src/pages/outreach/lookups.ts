/** The campaigns, templates and mailboxes the outreach pages name and offer in their selects.
 * Each list is read once per page (the first 200 by name); a campaign named by id that is not
 * among them (a link's ``?campaign=``, an outreach's own) is read on its own. */
import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "@/api/client";
import type { components } from "@/api/schema";

export type Campaign = components["schemas"]["CampaignRead"];
export type Template = components["schemas"]["EmailTemplateRead"];
export type Mailbox = components["schemas"]["MailboxRead"];

// The API's largest page: a select longer than this is not one a person scrolls.
const OPTIONS_LIMIT = 200;

export function useCampaignList() {
  return useQuery({
    queryKey: ["campaigns", "options"],
    queryFn: () =>
      unwrap(api.GET("/api/v1/campaigns", { params: { query: { sort: "name", limit: OPTIONS_LIMIT } } })),
    staleTime: 30_000,
  });
}

/** One campaign by id (null id: no query). */
export function useCampaign(campaignId: string | null | undefined) {
  return useQuery({
    queryKey: ["campaigns", campaignId],
    queryFn: () =>
      unwrap(api.GET("/api/v1/campaigns/{campaign_id}", { params: { path: { campaign_id: campaignId! } } })),
    enabled: Boolean(campaignId),
    staleTime: 30_000,
  });
}

/** The campaign list, with ``extraId``'s campaign added when the list does not hold it. */
export function useCampaignOptions(extraId: string | null | undefined) {
  const list = useCampaignList();
  const missing = Boolean(extraId) && list.isSuccess && !list.data.items.some((c) => c.id === extraId);
  const extra = useCampaign(missing ? extraId : null);
  const campaigns = list.data ? [...list.data.items] : [];
  if (missing && extra.data) campaigns.push(extra.data);
  return {
    campaigns,
    isPending: list.isPending || (missing && extra.isPending),
    // A campaign id that does not exist (an old link) is left out rather than blocking the page.
    error: list.error,
    refetch: () => void list.refetch(),
  };
}

export function useTemplates() {
  return useQuery({
    queryKey: ["email-templates", "options"],
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/email-templates", { params: { query: { sort: "name", limit: OPTIONS_LIMIT } } }),
      ),
    staleTime: 30_000,
  });
}

export function useMailboxes() {
  return useQuery({
    queryKey: ["mailboxes", "options"],
    queryFn: () =>
      unwrap(api.GET("/api/v1/mailboxes", { params: { query: { sort: "name", limit: OPTIONS_LIMIT } } })),
    staleTime: 30_000,
  });
}

export function byId<T extends { id: string }>(items: readonly T[] | undefined): Map<string, T> {
  return new Map((items ?? []).map((item) => [item.id, item]));
}
