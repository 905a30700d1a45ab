import { describe, expect, it } from "vitest";
import { screen, waitFor, within } from "@testing-library/react";
import type { Role } from "@/auth/session";
import { CAMPAIGN_ID, MAILBOX_ID, OUTREACH_ID, TEMPLATE_ID, outreachCampaign } from "@/test/fixtures";
import { renderPage } from "@/test/render";
import { json, page, problem, stubApi, type Routes } from "@/test/server";
import OutreachListPage from "./OutreachListPage";
import { OTHER_CAMPAIGN_ID, lookupRoutes } from "./fixtures";

const SECOND = "00000000-0000-4000-8000-0000000000c2";

function routes(extra: Routes = {}): Routes {
  return {
    ...lookupRoutes(),
    "GET /api/v1/outreach-campaigns": ({ query }) =>
      query.get("cursor") === "next"
        ? json(
            page([
              outreachCampaign({ status: "completed", id: SECOND, name: "Winter pitch", campaign_id: null, mailbox_id: null }),
            ]),
          )
        : json(page([outreachCampaign({ status: "sending" })], "next")),
    ...extra,
  };
}

function serve(extra: Routes = {}, role: Role = "editor") {
  return stubApi(routes(extra), { role });
}

function show(url = "/outreach") {
  return renderPage(<OutreachListPage />, { path: "/outreach", url });
}

describe("OutreachListPage", () => {
  it("lists outreach campaigns a page at a time with their status, campaign and mailbox", async () => {
    const sent = serve();
    const { user } = show();
    const link = await screen.findByRole("link", { name: "Spring pitch" });
    expect(link).toHaveAttribute("href", `/outreach/${OUTREACH_ID}`);
    const row = link.closest("tr")!;
    expect(within(row).getByTestId("outreach-row-status")).toHaveTextContent("Sending");
    expect(await within(row).findByRole("link", { name: "Spring release" })).toHaveAttribute("href", `/campaigns/${CAMPAIGN_ID}`);
    expect(within(row).getByText("Label inbox")).toBeInTheDocument();

    await user.click(screen.getByRole("button", { name: "Load more" }));
    const second = (await screen.findByRole("link", { name: "Winter pitch" })).closest("tr")!;
    expect(within(second).getByText("Outbox folder")).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Load more" })).not.toBeInTheDocument();
    expect(
      sent.filter((r) => r.path === "/api/v1/outreach-campaigns").map((r) => r.query.get("cursor")),
    ).toEqual([null, "next"]);
  });

  it("filters by status through the address", async () => {
    const sent = serve();
    const { user, url } = show();
    await screen.findByRole("link", { name: "Spring pitch" });
    await user.selectOptions(screen.getByLabelText("Status"), "Paused");
    await waitFor(() => expect(url()).toBe("/outreach?status=paused"));
    await waitFor(() =>
      expect(sent.some((r) => r.path === "/api/v1/outreach-campaigns" && r.query.get("status") === "paused")).toBe(true),
    );
  });

  it("creates an outreach for the campaign named in the address and opens it", async () => {
    const sent = serve({
      "POST /api/v1/outreach-campaigns": json(outreachCampaign({ campaign_id: OTHER_CAMPAIGN_ID }), 201),
    });
    const { user, url } = show(`/outreach?campaign=${OTHER_CAMPAIGN_ID}`);
    const form = await screen.findByRole("form", { name: "New outreach campaign" });
    expect(within(form).getByLabelText("Campaign")).toHaveValue(OTHER_CAMPAIGN_ID);

    await user.type(within(form).getByLabelText("Name"), "Tour pitch");
    await user.selectOptions(within(form).getByLabelText("Template"), "Intro");
    await user.selectOptions(within(form).getByLabelText("Mailbox"), "Label inbox (label@example.com)");
    // The sender is filled from the mailbox.
    expect(within(form).getByLabelText("Sender email")).toHaveValue("label@example.com");
    const limit = within(form).getByLabelText("Daily limit");
    await user.clear(limit);
    await user.type(limit, "80");
    await user.click(within(form).getByRole("button", { name: "Create outreach" }));

    await waitFor(() => expect(url()).toBe(`/outreach/${OUTREACH_ID}`));
    expect(sent.find((r) => r.method === "POST")?.body).toEqual({
      name: "Tour pitch",
      campaign_id: OTHER_CAMPAIGN_ID,
      template_id: TEMPLATE_ID,
      mailbox_id: MAILBOX_ID,
      sender_email: "label@example.com",
      sender_name: "The Label",
      daily_limit: 80,
      scheduled_at: null,
    });
  });

  it("checks the form before sending it, and puts the server's 422 on its field", async () => {
    const sent = serve({
      "POST /api/v1/outreach-campaigns": problem(422, "Invalid input", [
        { field: "sender_email", message: "the domain example.invalid does not exist" },
      ]),
    });
    const { user, url } = show();
    await user.click(await screen.findByRole("button", { name: "New outreach" }));
    const form = await screen.findByRole("form", { name: "New outreach campaign" });
    await user.click(within(form).getByRole("button", { name: "Create outreach" }));
    expect(await within(form).findByText("Give the outreach a name.")).toBeInTheDocument();
    expect(within(form).getByText("Choose the template of the first message.")).toBeInTheDocument();
    expect(within(form).getByText("Enter the address the messages come from.")).toBeInTheDocument();
    expect(sent.some((r) => r.method === "POST")).toBe(false);

    await user.type(within(form).getByLabelText("Name"), "Pitch");
    await user.selectOptions(within(form).getByLabelText("Template"), "Intro");
    await user.type(within(form).getByLabelText("Sender email"), "me@example.invalid");
    await user.click(within(form).getByRole("button", { name: "Create outreach" }));
    const field = within(form).getByLabelText("Sender email");
    await waitFor(() => expect(field).toHaveAccessibleDescription("the domain example.invalid does not exist"));
    expect(field).toHaveAttribute("aria-invalid", "true");
    expect(url()).toBe("/outreach");
  });

  it("offers no create form to a viewer", async () => {
    serve({}, "viewer");
    const { sessionReady } = show(`/outreach?campaign=${CAMPAIGN_ID}`);
    await screen.findByRole("link", { name: "Spring pitch" });
    await sessionReady();
    expect(screen.queryByRole("form", { name: "New outreach campaign" })).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "New outreach" })).not.toBeInTheDocument();
  });
});
