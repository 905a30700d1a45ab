import { screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { CAMPAIGN_ID as ID, campaign, transaction } from "@/test/fixtures";
import { renderPage } from "@/test/render";
import { json, noContent, page, problem, stubApi, type Routes } from "@/test/server";
import CampaignPage from "./CampaignPage";

const WHERE = { path: "/campaigns/:campaignId", url: `/campaigns/${ID}` };
const CAMPAIGN = `/api/v1/campaigns/${ID}`;

/** The campaign, and its other sections empty. */
function routes(overrides: Routes = {}): Routes {
  return {
    [`GET ${CAMPAIGN}`]: campaign(),
    [`GET ${CAMPAIGN}/artists`]: page([]),
    "GET /api/v1/outreach-campaigns": page([]),
    "GET /api/v1/transactions": page([]),
    ...overrides,
  };
}

describe("CampaignPage", () => {
  it("shows the 409 the server answers to a status move it refuses", async () => {
    stubApi(
      routes({
        [`GET ${CAMPAIGN}`]: campaign({ status: "draft" }),
        [`POST ${CAMPAIGN}/status`]: ({ body }) => {
          expect(body).toEqual({ status: "active" });
          return problem(409, "a draft campaign cannot become active; allowed next states: cancelled, scheduled");
        },
      }),
    );
    const { user } = renderPage(<CampaignPage />, WHERE);

    const moves = await screen.findByRole("group", { name: "Change status" });
    expect(within(moves).getByRole("button", { name: "Schedule" })).toBeInTheDocument();
    expect(within(moves).queryByRole("button", { name: "Pause" })).not.toBeInTheDocument();
    await user.click(within(moves).getByRole("button", { name: "Start now" }));
    expect(
      await screen.findByText("a draft campaign cannot become active; allowed next states: cancelled, scheduled"),
    ).toHaveAttribute("role", "alert");
    expect(screen.getByTestId("campaign-status")).toHaveTextContent("Draft");
  });

  it("moves the status and shows the campaign's new one", async () => {
    let status: "scheduled" | "active" = "scheduled";
    stubApi(
      routes({
        [`GET ${CAMPAIGN}`]: () => json(campaign({ status })),
        [`POST ${CAMPAIGN}/status`]: ({ body }) => {
          status = (body as { status: "active" }).status;
          return json(campaign({ status }));
        },
      }),
    );
    const { user } = renderPage(<CampaignPage />, WHERE);
    await user.click(await screen.findByRole("button", { name: "Start now" }));
    await waitFor(() => expect(screen.getByTestId("campaign-status")).toHaveTextContent("Active"));
    expect(screen.getByRole("button", { name: "Pause" })).toBeInTheDocument();
  });

  it("updates what was spent when a transaction is added on the page", async () => {
    let spent = 20_000;
    const transactions = [transaction({ campaign_id: ID, amount_minor: 20_000, amount: "200.00" })];
    const calls = stubApi(
      routes({
        [`GET ${CAMPAIGN}`]: () => json(campaign({ spent_minor: spent })),
        "POST /api/v1/transactions": () => {
          const created = transaction({ id: "t-new", campaign_id: ID, amount_minor: 4_550, amount: "45.50" });
          transactions.unshift(created);
          spent += 4_550;
          return json(created, 201);
        },
        "GET /api/v1/transactions": ({ query }) => {
          expect(query.get("campaign_id")).toBe(ID);
          return json(page(transactions));
        },
      }),
    );
    const { user } = renderPage(<CampaignPage />, WHERE);

    expect(await screen.findByTestId("campaign-spent")).toHaveTextContent("200.00");
    expect(screen.getByTestId("campaign-left")).toHaveTextContent("800.00");
    const form = screen.getByRole("form", { name: "Add a transaction to this campaign" });
    expect(within(form).getByLabelText("Currency")).toHaveValue("EUR");
    expect(within(form).queryByLabelText("Campaign")).not.toBeInTheDocument();
    await user.type(within(form).getByLabelText("Amount"), "45.50");
    await user.type(within(form).getByLabelText("Category"), "ads");
    await user.click(within(form).getByRole("button", { name: "Add transaction" }));

    await waitFor(() => expect(screen.getByTestId("campaign-spent")).toHaveTextContent("245.50"));
    expect(screen.getByTestId("campaign-left")).toHaveTextContent("754.50");
    expect(calls.find((call) => call.method === "POST")?.body).toMatchObject({
      type: "expense",
      amount: "45.50",
      currency: "EUR",
      category: "ads",
      campaign_id: ID,
    });
    const table = screen.getByRole("table", { name: "Transactions of this campaign" });
    expect(within(table).getAllByRole("row")).toHaveLength(3);
  });

  it("deletes the campaign only once confirmed, then goes back to the list", async () => {
    const calls = stubApi(routes({ [`DELETE ${CAMPAIGN}`]: noContent() }));
    const { user, url } = renderPage(<CampaignPage />, WHERE);

    await user.click(await screen.findByRole("button", { name: "Delete campaign" }));
    expect(calls.some((call) => call.method === "DELETE")).toBe(false);
    const question = screen.getByRole("alertdialog", {
      name: "Delete this campaign and its artist list? Its transactions are kept, unlinked.",
    });
    // The focus moves into the question, on the safe choice.
    expect(within(question).getByRole("button", { name: "Cancel" })).toHaveFocus();
    await user.click(within(question).getByRole("button", { name: "Yes, delete campaign" }));
    await waitFor(() => expect(url()).toBe("/campaigns"));
    expect(calls.some((call) => call.method === "DELETE")).toBe(true);
  });

  it("edits the campaign with PATCH", async () => {
    let name = "Summer release";
    const calls = stubApi(
      routes({
        [`GET ${CAMPAIGN}`]: () => json(campaign({ name })),
        [`PATCH ${CAMPAIGN}`]: ({ body }) => {
          name = (body as { name: string }).name;
          return json(campaign({ name, updated_at: "2024-05-02T10:00:00Z" }));
        },
      }),
    );
    const { user } = renderPage(<CampaignPage />, WHERE);

    await user.click(await screen.findByRole("button", { name: "Edit campaign" }));
    const form = screen.getByRole("form", { name: "Edit campaign" });
    expect(within(form).getByLabelText("Budget")).toHaveValue("1000.00");
    await user.clear(within(form).getByLabelText("Name"));
    await user.type(within(form).getByLabelText("Name"), "Summer release II");
    await user.click(within(form).getByRole("button", { name: "Save changes" }));

    expect(await screen.findByRole("heading", { level: 1, name: "Summer release II" })).toBeInTheDocument();
    expect(calls.find((call) => call.method === "PATCH")?.body).toMatchObject({
      name: "Summer release II",
      budget_minor: 100_000,
    });
  });

  it("gives a viewer no edit controls", async () => {
    stubApi(routes(), { role: "viewer" });
    const { sessionReady } = renderPage(<CampaignPage />, WHERE);
    await screen.findByRole("heading", { level: 1, name: "Summer release" });
    await sessionReady();
    await screen.findByText("No transactions for this campaign yet");
    expect(screen.queryByRole("button", { name: "Edit campaign" })).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Delete campaign" })).not.toBeInTheDocument();
    expect(screen.queryByRole("group", { name: "Change status" })).not.toBeInTheDocument();
    expect(screen.queryByRole("form", { name: "Add a transaction to this campaign" })).not.toBeInTheDocument();
    expect(screen.queryByLabelText("Find an artist in the catalogue")).not.toBeInTheDocument();
    expect(screen.queryByRole("link", { name: "New outreach" })).not.toBeInTheDocument();
  });

  it("says so when the campaign does not exist", async () => {
    stubApi(routes({ [`GET ${CAMPAIGN}`]: problem(404, `campaign ${ID} not found`) }));
    renderPage(<CampaignPage />, WHERE);
    expect(await screen.findByRole("heading", { level: 1, name: "Campaign not found" })).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Back to the campaigns" })).toHaveAttribute("href", "/campaigns");
  });
});
