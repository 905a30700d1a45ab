import { act, screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { CAMPAIGN_ID, outreachCampaign } from "@/test/fixtures";
import { renderPage } from "@/test/render";
import { json, page, stubApi } from "@/test/server";
import { CampaignOutreach } from "./CampaignOutreach";

function progress(counts: Record<string, number>) {
  return { status: "sending", pause_reason: null, counts, total: 0 };
}

describe("CampaignOutreach", () => {
  it("shows new numbers when the live events invalidate the outreach queries", async () => {
    let counts: Record<string, number> = { queued: 10, sent: 3, opened: 1, replied: 1 };
    const calls = stubApi({
      "GET /api/v1/outreach-campaigns": ({ query }) => {
        expect(query.get("campaign_id")).toBe(CAMPAIGN_ID);
        return json(
          page([
            outreachCampaign({ id: "o1", name: "June pitch", status: "sending" }),
            outreachCampaign({ id: "o2", name: "June follow-up", status: "sending" }),
          ]),
        );
      },
      // o2 has one bounce and never changes; o1 moves.
      "GET /api/v1/outreach-campaigns/o1/progress": () => json(progress(counts)),
      "GET /api/v1/outreach-campaigns/o2/progress": progress({ bounced: 1 }),
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
    stubApi({ "GET /api/v1/outreach-campaigns": page([]) });
    renderPage(<CampaignOutreach campaignId={CAMPAIGN_ID} />);
    expect(await screen.findByText("No outreach for this campaign yet")).toBeInTheDocument();
    expect(screen.queryByTestId("count-sent")).not.toBeInTheDocument();
  });
});
