import { screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { campaign } from "@/test/fixtures";
import { renderPage } from "@/test/render";
import { json, page, problem, stubApi } from "@/test/server";
import CampaignsPage from "./CampaignsPage";

const LIST = "/api/v1/campaigns";

function renderCampaigns() {
  return renderPage(<CampaignsPage />, { path: "/campaigns" });
}

describe("CampaignsPage", () => {
  it("lists campaigns with their status and spending, and loads the next page by cursor", async () => {
    const calls = stubApi({
      [`GET ${LIST}`]: ({ query }) =>
        query.get("cursor") === "page-2"
          ? json(page([campaign({ id: "c-3", name: "Autumn tour", type: "tour", status: "active" })]))
          : json(
              page(
                [
                  campaign({ id: "c-1", name: "Summer release", spent_minor: 120_000, over_budget: true }),
                  campaign({ id: "c-2", name: "Playlist push", type: "playlist_pitch", status: "paused" }),
                ],
                "page-2",
              ),
            ),
    });
    const { user } = renderCampaigns();

    const table = await screen.findByRole("table", { name: "Campaigns" });
    expect(within(table).getByRole("link", { name: "Summer release" })).toHaveAttribute("href", "/campaigns/c-1");
    expect(within(table).getByText("Over budget")).toBeInTheDocument();
    expect(within(table).getByText("Paused")).toBeInTheDocument();

    await user.click(screen.getByRole("button", { name: "Load more campaigns" }));
    expect(await within(table).findByRole("link", { name: "Autumn tour" })).toBeInTheDocument();
    expect(calls.filter((call) => call.path === LIST).at(-1)?.query.get("cursor")).toBe("page-2");
    expect(screen.queryByRole("button", { name: "Load more campaigns" })).not.toBeInTheDocument();
  });

  it("sends the status filter to the API", async () => {
    const calls = stubApi({ [`GET ${LIST}`]: page([]) });
    const { user } = renderCampaigns();
    await screen.findByText("No campaigns yet");

    await user.selectOptions(screen.getByLabelText("Status"), "active");
    await screen.findByText("No campaign matches these filters");
    expect(calls.filter((call) => call.path === LIST).at(-1)?.query.get("status")).toBe("active");
  });

  it("shows the server's 422 next to the field it names", async () => {
    const calls = stubApi({
      [`GET ${LIST}`]: page([]),
      [`POST ${LIST}`]: problem(422, "invalid fields: budget_minor", [
        { field: "budget_minor", message: "Input should be less than or equal to 1000000000000000" },
      ]),
    });
    const { user } = renderCampaigns();

    await user.click(await screen.findByRole("button", { name: "New campaign" }));
    const form = screen.getByRole("form", { name: "New campaign" });
    await user.type(within(form).getByLabelText("Name"), "Winter tour");
    await user.type(within(form).getByLabelText("Budget"), "1500.50");
    await user.click(within(form).getByRole("button", { name: "Create campaign" }));

    const budget = within(form).getByLabelText("Budget");
    await waitFor(() =>
      expect(budget).toHaveAccessibleDescription("Input should be less than or equal to 1000000000000000"),
    );
    expect(budget).toHaveAttribute("aria-invalid", "true");
    expect(within(form).getByLabelText("Name")).not.toHaveAttribute("aria-invalid");
    const sent = calls.find((call) => call.method === "POST");
    expect(sent?.body).toMatchObject({ name: "Winter tour", budget_minor: 150_050, currency: "EUR", start_date: null });
  });

  it("checks the form before sending: an end before the start stays on the page", async () => {
    const calls = stubApi({ [`GET ${LIST}`]: page([]) });
    const { user } = renderCampaigns();

    await user.click(await screen.findByRole("button", { name: "New campaign" }));
    const form = screen.getByRole("form", { name: "New campaign" });
    await user.type(within(form).getByLabelText("Name"), "Backwards");
    await user.type(within(form).getByLabelText("Start date"), "2024-09-01");
    await user.type(within(form).getByLabelText("End date"), "2024-08-01");
    await user.type(within(form).getByLabelText("Budget"), "10.555");
    await user.click(within(form).getByRole("button", { name: "Create campaign" }));

    expect(await within(form).findByText("The end date must not be before the start date.")).toBeInTheDocument();
    expect(within(form).getByText("EUR has at most 2 decimals.")).toBeInTheDocument();
    expect(calls.some((call) => call.method === "POST")).toBe(false);
  });

  it("opens the new campaign once it is created", async () => {
    stubApi({
      [`GET ${LIST}`]: page([]),
      [`POST ${LIST}`]: json(campaign({ id: "new-id", name: "Fresh" }), 201),
    });
    const { user, url } = renderCampaigns();
    await user.click(await screen.findByRole("button", { name: "New campaign" }));
    await user.type(screen.getByLabelText("Name"), "Fresh");
    await user.click(screen.getByRole("button", { name: "Create campaign" }));
    await waitFor(() => expect(url()).toBe("/campaigns/new-id"));
  });

  it("shows a viewer no New campaign button", async () => {
    stubApi({ [`GET ${LIST}`]: page([campaign()]) }, { role: "viewer" });
    const { sessionReady } = renderCampaigns();

    await screen.findByRole("link", { name: "Summer release" });
    await sessionReady();
    expect(screen.queryByRole("button", { name: "New campaign" })).not.toBeInTheDocument();
  });
});
