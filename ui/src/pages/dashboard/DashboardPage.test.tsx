import { screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { auditEntry, campaign, discoveryJob } from "@/test/fixtures";
import { renderPage } from "@/test/render";
import { json, page, stubApi, type Routes } from "@/test/server";
import { activityLink, activitySentence } from "./activity";
import DashboardPage from "./DashboardPage";

function job(id: string, status: "running" | "queued", kept: number) {
  return discoveryJob({
    id,
    status,
    query: { genres: ["techno"], city: "Berlin", max_artists: 200 },
    progress: { kept, examined: kept * 3 },
    started_at: status === "running" ? "2024-06-01T09:01:00Z" : null,
  });
}

function entry(action: string, entityType: string, data: Record<string, unknown> = {}) {
  return auditEntry({ id: `${action}-id`, action, entity_type: entityType, entity_id: "e-1", data });
}

const API: Routes = {
  "GET /api/v1/analytics/overview": {
    campaigns_by_status: { active: 3, draft: 1 },
    email_records_by_status: { sent: 6, opened: 2, replied: 2, bounced: 1, queued: 5 },
    transactions_by_currency: [{ currency: "EUR", income_minor: 10_000, expense_minor: 2_500, net_minor: 7_500, count: 3 }],
    members: 4,
  },
  "GET /api/v1/analytics/summary": () => {
    const today = new Date().toISOString().slice(0, 10);
    return json({
      total: 9,
      counts: { "email.sent": 7, "email.replied": 2 },
      interval: "day",
      buckets: [{ start: `${today}T00:00:00Z`, counts: { "email.sent": 7, "email.replied": 2 } }],
    });
  },
  "GET /api/v1/campaigns": page([
    campaign({ id: "c-1", name: "Summer release", spent_minor: 150_000, over_budget: true }),
    campaign({ id: "c-2", name: "No money", budget_minor: 0 }),
  ]),
  "GET /api/v1/discovery-jobs": ({ query }) =>
    json(page(query.get("status") === "running" ? [job("j-1", "running", 50)] : [job("j-2", "queued", 0)])),
  "GET /api/v1/audit-log": page([entry("campaign.create", "campaign", { name: "Summer release" })]),
};

describe("DashboardPage", () => {
  it("shows the overview, engagement, spend, discovery and activity", async () => {
    const calls = stubApi(API, { role: "admin" });
    renderPage(<DashboardPage />);

    expect(await screen.findByTestId("overview-active-campaigns")).toHaveTextContent("3");
    expect(screen.getByTestId("overview-emails-sent")).toHaveTextContent("10");
    expect(screen.getByTestId("overview-reply-rate")).toHaveTextContent("20.0%");

    const summary = calls.find((call) => call.path === "/api/v1/analytics/summary");
    expect(summary?.query.get("interval")).toBe("day");
    const engagement = await screen.findByLabelText("Engagement in this period");
    expect(within(engagement).getByText("Sent").nextSibling).toHaveTextContent("7");
    expect(screen.getByRole("figure", { name: /^Emails sent, opened, clicked and replied per day/ })).toBeInTheDocument();

    const over = await screen.findByText(/Over budget:/);
    expect(within(over).getByRole("link", { name: "Summer release" })).toHaveAttribute("href", "/campaigns/c-1");
    expect(screen.getByRole("figure", { name: "Spent against budget for the newest campaigns" })).toBeInTheDocument();

    const [runningJob] = await screen.findAllByLabelText("Artists kept by techno, Berlin");
    expect(runningJob).toHaveAttribute("value", "50");
    expect(screen.getAllByText("techno, Berlin").map((link) => link.getAttribute("href"))).toEqual([
      "/discovery/j-1",
      "/discovery/j-2",
    ]);
    expect(screen.getByText("50 of 200 artists kept", { exact: false })).toBeInTheDocument();

    const activity = await screen.findByRole("list", { name: "Recent activity" });
    expect(within(activity).getByRole("link", { name: "Campaign created: Summer release" })).toHaveAttribute(
      "href",
      "/campaigns/e-1",
    );
    expect(calls.find((call) => call.path === "/api/v1/audit-log")?.query.get("limit")).toBe("10");
  });

  it("leaves the audit log out for members who may not read it", async () => {
    const calls = stubApi(API, { role: "editor" });
    const { sessionReady } = renderPage(<DashboardPage />);
    await screen.findByTestId("overview-members");
    await sessionReady();
    expect(screen.queryByRole("heading", { name: "Recent activity" })).not.toBeInTheDocument();
    expect(calls.some((call) => call.path === "/api/v1/audit-log")).toBe(false);
  });
});

describe("activity sentences", () => {
  it("reads an audit entry as a sentence and links to what it is about", () => {
    const status = entry("campaign.status", "campaign", { status: "active" });
    expect(activitySentence(status)).toBe("Campaign is now active");
    expect(activityLink(status)).toBe("/campaigns/e-1");
    const imported = entry("transaction.import", "transaction", { created: 12, filename: "june.csv" });
    expect(activitySentence(imported)).toBe("Transaction imported: june.csv (12 rows)");
    expect(activityLink(entry("campaign.delete", "campaign"))).toBeNull();
    expect(activitySentence(entry("outreach_campaign.step_add", "outreach_campaign"))).toBe("Outreach step add");
  });
});
