import { screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { auditEntry } from "@/test/fixtures";
import { renderPage } from "@/test/render";
import { json, page, stubApi } from "@/test/server";
import AuditLogPage from "./AuditLogPage";
import { describeAction } from "./auditText";

const CAMPAIGN_ID = "0194a1b2-0000-7000-8000-00000000c0de";

function entry(n: number, overrides: Parameters<typeof auditEntry>[0] = {}) {
  return auditEntry({
    id: `0194a1b2-0000-7000-8000-${String(n).padStart(12, "0")}`,
    entity_id: CAMPAIGN_ID,
    request_id: `req-${n}`,
    ...overrides,
  });
}

describe("AuditLogPage", () => {
  it("renders readable rows and loads the next page with the cursor", async () => {
    const calls = stubApi(
      {
        "GET /api/v1/audit-log": ({ query }) =>
          query.get("cursor") === "page-2"
            ? json(page([entry(3, { action: "member.join", entity_type: "member", data: { role: "editor" } })]))
            : json(
                page(
                  [
                    entry(1),
                    entry(2, {
                      actor_user_id: null,
                      action: "inbound.report",
                      entity_type: "suppression",
                      entity_id: null,
                      data: { system: "inbound", accepted: 2, suppressed: 1 },
                    }),
                  ],
                  "page-2",
                ),
              ),
      },
      { role: "admin" },
    );
    const { user } = renderPage(<AuditLogPage />, { path: "/audit-log" });

    const table = await screen.findByRole("table", { name: "Audit log entries, newest first" });
    const rows = within(table).getAllByRole("row").slice(1);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toHaveTextContent("Mia Rossi (you)");
    expect(rows[0]).toHaveTextContent("Campaign created");
    expect(rows[0]).toHaveTextContent("name: Spring tour");
    expect(within(rows[0]!).getByRole("link", { name: "Campaign 0194a1b2" })).toHaveAttribute(
      "href",
      `/campaigns/${CAMPAIGN_ID}`,
    );
    expect(rows[1]).toHaveTextContent("System (inbound)");
    expect(rows[1]).toHaveTextContent("Bounces and complaints reported");
    expect(screen.getByTestId("audit-count")).toHaveTextContent("Showing 2 entries (more below)");

    await user.click(screen.getByRole("button", { name: "Load more entries" }));

    await waitFor(() => expect(within(table).getAllByRole("row")).toHaveLength(4));
    expect(within(table).getAllByRole("row")[3]).toHaveTextContent("Member joined");
    expect(screen.queryByRole("button", { name: "Load more entries" })).not.toBeInTheDocument();
    expect(calls.filter((call) => call.path === "/api/v1/audit-log").map((call) => call.query.get("cursor"))).toEqual([
      null,
      "page-2",
    ]);
  });

  it("filters by the URL's parameters, and by a row's entity", async () => {
    const calls = stubApi({ "GET /api/v1/audit-log": page([entry(1)]) }, { role: "owner" });
    const { user } = renderPage(<AuditLogPage />, { path: "/audit-log", url: "/audit-log?action=campaign.create" });

    expect(await screen.findByLabelText("Action")).toHaveValue("campaign.create");
    await user.click(await screen.findByRole("button", { name: "History of campaign 0194a1b2" }));

    await waitFor(() => expect(screen.getByLabelText("Entity id")).toHaveValue(CAMPAIGN_ID));
    const last = calls.filter((call) => call.path === "/api/v1/audit-log").at(-1)!;
    expect(Object.fromEntries(last.query)).toMatchObject({
      action: "campaign.create",
      entity_type: "campaign",
      entity_id: CAMPAIGN_ID,
    });
  });

  it("refuses a malformed user id before asking the server", async () => {
    const calls = stubApi({ "GET /api/v1/audit-log": page([]) }, { role: "admin" });
    const { user } = renderPage(<AuditLogPage />, { path: "/audit-log" });

    expect(await screen.findByText("Nothing has been recorded yet")).toBeInTheDocument();
    await user.type(screen.getByLabelText("User id"), "mia");
    await user.click(screen.getByRole("button", { name: "Apply filters" }));

    expect(screen.getByLabelText("User id")).toHaveAccessibleDescription(
      "Enter the full user id (a UUID), or leave it blank.",
    );
    expect(calls.filter((call) => call.path === "/api/v1/audit-log")).toHaveLength(1);
  });

  it("tells an editor the log is for owners and admins, without asking for it", async () => {
    const calls = stubApi({}, { role: "editor" });
    renderPage(<AuditLogPage />, { path: "/audit-log" });

    expect(await screen.findByText("Only owners and admins can read the audit log")).toBeInTheDocument();
    expect(calls.some((call) => call.path === "/api/v1/audit-log")).toBe(false);
  });
});

describe("describeAction", () => {
  it.each([
    ["campaign.create", "Campaign created"],
    ["artist.note_add", "Artist: note added"],
    ["outreach_campaign.recipients_add", "Outreach: recipients added"],
    ["discovery_job.running", "Discovery job started running"],
    ["something.odd_thing", "Something: odd thing"],
  ])("reads %s as %s", (action, text) => {
    expect(describeAction(action)).toBe(text);
  });
});
