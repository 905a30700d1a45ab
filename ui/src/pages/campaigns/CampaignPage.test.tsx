import { json, page, problem, renderPage, sessionReady, stubApi, type Call } from "./test-utils";
import { screen, waitFor, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import CampaignPage from "./CampaignPage";
import { campaign, transaction } from "./fixtures";

afterEach(() => {
  vi.unstubAllGlobals();
});

const ID = "11111111-1111-4111-8111-111111111111";
const ROUTE = { route: `/campaigns/${ID}`, path: "/campaigns/:campaignId" };

/** The campaign's other sections, empty. */
function sections(call: Call): Response | undefined {
  if (call.path === `/api/v1/campaigns/${ID}/artists`) return json(page([]));
  if (call.path === "/api/v1/outreach-campaigns") return json(page([]));
  if (call.path === "/api/v1/transactions" && call.method === "GET") return json(page([]));
  return undefined;
}

describe("CampaignPage", () => {
  it("shows the 409 the server answers to a status move it refuses", async () => {
    stubApi((call) => {
      if (call.path === `/api/v1/campaigns/${ID}`) return json(campaign({ status: "draft" }));
      if (call.path === `/api/v1/campaigns/${ID}/status`) {
        expect(call.body).toEqual({ status: "active" });
        return problem(409, {
          title: "Invalid transition",
          detail: "a draft campaign cannot become active; allowed next states: cancelled, scheduled",
        });
      }
      return sections(call);
    });
    const { user } = renderPage(<CampaignPage />, ROUTE);

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
    let status = "scheduled";
    stubApi((call) => {
      if (call.path === `/api/v1/campaigns/${ID}`) return json(campaign({ status: status as "scheduled" }));
      if (call.path === `/api/v1/campaigns/${ID}/status`) {
        status = (call.body as { status: string }).status;
        return json(campaign({ status: status as "active" }));
      }
      return sections(call);
    });
    const { user } = renderPage(<CampaignPage />, ROUTE);
    await user.click(await screen.findByRole("button", { name: "Start now" }));
    await waitFor(() => expect(screen.getByTestId("campaign-status")).toHaveTextContent("Active"));
    expect(screen.getByRole("button", { name: "Pause" })).toBeInTheDocument();
  });

  it("updates what was spent when a transaction is added on the page", async () => {
    let spent = 20_000;
    const transactions = [transaction({ campaign_id: ID, amount_minor: 20_000, amount: "200.00" })];
    const calls = stubApi((call) => {
      if (call.path === `/api/v1/campaigns/${ID}`) return json(campaign({ spent_minor: spent }));
      if (call.path === "/api/v1/transactions" && call.method === "POST") {
        const created = transaction({ id: "t-new", campaign_id: ID, amount_minor: 4_550, amount: "45.50" });
        transactions.unshift(created);
        spent += 4_550;
        return json(created, 201);
      }
      if (call.path === "/api/v1/transactions") {
        expect(call.url.searchParams.get("campaign_id")).toBe(ID);
        return json(page(transactions));
      }
      return sections(call);
    });
    const { user } = renderPage(<CampaignPage />, ROUTE);

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
    const calls = stubApi((call) => {
      if (call.path === `/api/v1/campaigns/${ID}` && call.method === "DELETE") return new Response(null, { status: 204 });
      if (call.path === `/api/v1/campaigns/${ID}`) return json(campaign());
      return sections(call);
    });
    const { user } = renderPage(<CampaignPage />, ROUTE);

    await user.click(await screen.findByRole("button", { name: "Delete campaign" }));
    expect(calls.some((call) => call.method === "DELETE")).toBe(false);
    const confirm = screen.getByRole("button", { name: "Yes, delete campaign" });
    expect(confirm).toHaveFocus();
    await user.click(confirm);
    expect(await screen.findByTestId("location")).toHaveTextContent(/^\/campaigns$/);
    expect(calls.some((call) => call.method === "DELETE")).toBe(true);
  });

  it("edits the campaign with PATCH", async () => {
    let name = "Summer release";
    const calls = stubApi((call) => {
      if (call.path === `/api/v1/campaigns/${ID}` && call.method === "PATCH") {
        name = (call.body as { name: string }).name;
        return json(campaign({ name, updated_at: "2024-05-02T10:00:00Z" }));
      }
      if (call.path === `/api/v1/campaigns/${ID}`) return json(campaign({ name }));
      return sections(call);
    });
    const { user } = renderPage(<CampaignPage />, ROUTE);

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
    stubApi((call) => (call.path === `/api/v1/campaigns/${ID}` ? json(campaign()) : sections(call)), {
      role: "viewer",
    });
    const { queryClient } = renderPage(<CampaignPage />, ROUTE);
    await screen.findByRole("heading", { level: 1, name: "Summer release" });
    await sessionReady(queryClient);
    await screen.findByText("No transactions for this campaign yet");
    expect(screen.queryByRole("button", { name: "Edit campaign" })).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Delete campaign" })).not.toBeInTheDocument();
    expect(screen.queryByRole("group", { name: "Change status" })).not.toBeInTheDocument();
    expect(screen.queryByRole("form", { name: "Add a transaction to this campaign" })).not.toBeInTheDocument();
    expect(screen.queryByLabelText("Find an artist in the catalogue")).not.toBeInTheDocument();
    expect(screen.queryByRole("link", { name: "New outreach" })).not.toBeInTheDocument();
  });

  it("says so when the campaign does not exist", async () => {
    stubApi((call) =>
      call.path === `/api/v1/campaigns/${ID}` ? problem(404, { detail: `campaign ${ID} not found` }) : sections(call),
    );
    renderPage(<CampaignPage />, ROUTE);
    expect(await screen.findByRole("heading", { level: 1, name: "Campaign not found" })).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Back to the campaigns" })).toHaveAttribute("href", "/campaigns");
  });
});
