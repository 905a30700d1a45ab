import { json, page, renderPage, stubApi } from "./test-utils";
import { act, screen, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { CampaignOutreach } from "./CampaignOutreach";
import { funnel } from "./funnel";

afterEach(() => {
  vi.unstubAllGlobals();
});

const CAMPAIGN_ID = "11111111-1111-4111-8111-111111111111";

function outreach(id: string, name: string) {
  return {
    id,
    name,
    template_id: "t1",
    campaign_id: CAMPAIGN_ID,
    status: "sending",
    scheduled_at: null,
    sender_email: "promo@example.com",
    sender_name: "Promo",
    daily_limit: 200,
    mailbox_id: null,
    pause_reason: null,
    launched_at: "2024-06-01T10:00:00Z",
    created_at: "2024-06-01T09:00:00Z",
    updated_at: "2024-06-01T10:00:00Z",
  };
}

describe("funnel", () => {
  it("counts a message by every step it reached", () => {
    expect(funnel({ queued: 4, sent: 3, opened: 2, clicked: 1, replied: 1, bounced: 1, failed: 1 })).toEqual({
      total: 13,
      queued: 4,
      sent: 7,
      opened: 3,
      clicked: 1,
      replied: 1,
      bounced: 1,
      failed: 1,
    });
  });
});

describe("CampaignOutreach", () => {
  it("shows new numbers when the live events invalidate the outreach queries", async () => {
    let counts: Record<string, number> = { queued: 10, sent: 3, opened: 1, replied: 1 };
    const calls = stubApi(({ path, url }) => {
      if (path === "/api/v1/outreach-campaigns") {
        expect(url.searchParams.get("campaign_id")).toBe(CAMPAIGN_ID);
        return json(page([outreach("o1", "June pitch"), outreach("o2", "June follow-up")]));
      }
      const progress = /^\/api\/v1\/outreach-campaigns\/(o1|o2)\/progress$/.exec(path);
      if (progress) {
        // o2 has one bounce and never changes; o1 moves.
        const mine = progress[1] === "o1" ? counts : { bounced: 1 };
        return json({ status: "sending", pause_reason: null, counts: mine, total: 0 });
      }
      return undefined;
    });
    const { queryClient } = renderPage(<CampaignOutreach campaignId={CAMPAIGN_ID} />);

    expect(await screen.findByTestId("count-sent")).toHaveTextContent("5");
    const messages = screen.getByLabelText("Messages");
    expect(within(messages).getByTestId("count-replied")).toHaveTextContent("1");
    expect(within(messages).getByTestId("count-bounced")).toHaveTextContent("1");
    expect(within(messages).getByTestId("count-total")).toHaveTextContent("16");
    expect(screen.getByRole("link", { name: "June pitch" })).toHaveAttribute("href", "/outreach/o1");
    expect(screen.getByRole("link", { name: "New outreach" })).toHaveAttribute(
      "href",
      `/outreach?campaign=${CAMPAIGN_ID}`,
    );

    counts = { queued: 2, sent: 8, opened: 2, clicked: 1, replied: 3 };
    const before = calls.length;
    await act(() => queryClient.invalidateQueries({ queryKey: ["outreach-campaigns"] }));

    expect(await screen.findByText("14", { selector: '[data-testid="count-sent"]' })).toBeInTheDocument();
    expect(screen.getByTestId("count-replied")).toHaveTextContent("3");
    expect(screen.getByTestId("count-clicked")).toHaveTextContent("1");
    expect(screen.getByTestId("count-queued")).toHaveTextContent("2");
    expect(calls.length).toBeGreaterThan(before);
  });

  it("invites an editor to start the first outreach", async () => {
    stubApi(({ path }) => (path === "/api/v1/outreach-campaigns" ? json(page([])) : undefined));
    renderPage(<CampaignOutreach campaignId={CAMPAIGN_ID} />);
    expect(await screen.findByText("No outreach for this campaign yet")).toBeInTheDocument();
    expect(screen.queryByTestId("count-sent")).not.toBeInTheDocument();
  });
});
