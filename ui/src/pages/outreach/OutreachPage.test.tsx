import { describe, expect, it, vi, afterEach } from "vitest";
import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import OutreachPage from "./OutreachPage";
import OutreachListPage from "./OutreachListPage";
import { WORKSPACE, me, page, problem, renderAt, serve, type Routes } from "./testing";
import { EMPTY_PLAN, OUTREACH_ID, lookupRoutes, outreach, progress, record } from "./fixtures";
import type { OutreachStatus } from "./status";

const BASE = `/api/v1/outreach-campaigns/${OUTREACH_ID}`;

function routesFor(status: OutreachStatus, role: Parameters<typeof me>[0] = "editor", extra: Routes = {}): Routes {
  return {
    "GET /api/v1/me": { body: me(role) },
    ...lookupRoutes(),
    [`GET ${BASE}`]: { body: outreach(status) },
    [`GET ${BASE}/progress`]: { body: progress(status, { queued: 3 }) },
    [`GET ${BASE}/steps`]: { body: [] },
    [`GET ${BASE}/plan`]: { body: EMPTY_PLAN },
    "GET /api/v1/email-records": { body: page([]) },
    ...extra,
  };
}

function show() {
  return renderAt(`/outreach/${OUTREACH_ID}`, { list: <OutreachListPage />, detail: <OutreachPage /> });
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("OutreachPage actions", () => {
  const cases: [OutreachStatus, string[]][] = [
    ["draft", ["Launch", "Cancel outreach"]],
    ["scheduled", ["Pause", "Cancel outreach"]],
    ["sending", ["Pause", "Cancel outreach"]],
    ["paused", ["Resume", "Cancel outreach"]],
    ["completed", []],
    ["cancelled", []],
  ];

  it.each(cases)("offers only the commands a %s outreach accepts", async (status, expected) => {
    serve(routesFor(status));
    show();
    expect(await screen.findByRole("heading", { level: 1, name: "Spring pitch" })).toBeInTheDocument();
    if (expected.length > 0) {
      const group = await screen.findByRole("group", { name: "Outreach actions" });
      const names = within(group)
        .getAllByRole("button")
        .map((button) => button.textContent);
      expect(names).toEqual(expected);
    } else {
      // Edit controls show once the session knows the role: deleting is one of them.
      await screen.findByRole("button", { name: "Delete outreach" });
      expect(screen.queryByRole("group", { name: "Outreach actions" })).not.toBeInTheDocument();
    }
  });

  it("shows the server's reason when launching is refused", async () => {
    const sent = serve(
      routesFor("draft", "editor", {
        [`POST ${BASE}/launch`]: problem(409, "launch needs a template with a subject and a body"),
      }),
    );
    show();
    await userEvent.click(await screen.findByRole("button", { name: "Launch" }));
    expect(await screen.findByText("Could not launch: launch needs a template with a subject and a body")).toBeInTheDocument();
    expect(sent.filter((r) => r.method === "POST").map((r) => r.path)).toEqual([`${BASE}/launch`]);
    expect(screen.getByTestId("outreach-status")).toHaveTextContent("Draft");
  });

  it("moves to the status the server answers after a command", async () => {
    let current: OutreachStatus = "sending";
    serve(
      routesFor("sending", "editor", {
        [`GET ${BASE}`]: () => ({ body: outreach(current) }),
        [`GET ${BASE}/progress`]: () => ({ body: progress(current, { queued: 3 }) }),
        [`POST ${BASE}/pause`]: () => {
          current = "paused";
          return { body: outreach("paused") };
        },
      }),
    );
    show();
    await userEvent.click(await screen.findByRole("button", { name: "Pause" }));
    expect(await screen.findByRole("button", { name: "Resume" })).toBeInTheDocument();
    expect(screen.getByTestId("outreach-status")).toHaveTextContent("Paused");
    expect(screen.queryByRole("button", { name: "Pause" })).not.toBeInTheDocument();
  });

  it("cancels only after the confirmation", async () => {
    const sent = serve(
      routesFor("sending", "editor", { [`POST ${BASE}/cancel`]: { body: outreach("cancelled") } }),
    );
    show();
    await userEvent.click(await screen.findByRole("button", { name: "Cancel outreach" }));
    const dialog = screen.getByRole("alertdialog", { name: "Cancel this outreach for good?" });
    expect(dialog).toHaveTextContent("never be sent");
    expect(sent.some((r) => r.method === "POST")).toBe(false);
    await userEvent.click(within(dialog).getByRole("button", { name: "Keep it" }));
    expect(screen.queryByRole("alertdialog")).not.toBeInTheDocument();
    expect(sent.some((r) => r.method === "POST")).toBe(false);

    await userEvent.click(screen.getByRole("button", { name: "Cancel outreach" }));
    await userEvent.click(screen.getByRole("button", { name: "Yes, cancel outreach" }));
    await waitFor(() => expect(sent.some((r) => r.method === "POST" && r.path === `${BASE}/cancel`)).toBe(true));
  });

  it("shows why the system paused it", async () => {
    serve(
      routesFor("paused", "editor", {
        [`GET ${BASE}`]: { body: outreach("paused", { pause_reason: "the mail server refused the login" }) },
        [`GET ${BASE}/progress`]: {
          body: { ...progress("paused", { queued: 2 }), pause_reason: "the mail server refused the login" },
        },
      }),
    );
    show();
    expect(await screen.findByTestId("outreach-pause-reason")).toHaveTextContent(
      "Paused: the mail server refused the login",
    );
  });

  it("hides every edit control from a viewer", async () => {
    serve(
      routesFor("draft", "viewer", {
        "GET /api/v1/email-records": {
          body: page([record("00000000-0000-4000-8000-0000000000e1", "a@example.com", "unknown")]),
        },
      }),
    );
    const { queryClient } = show();
    await screen.findByRole("heading", { level: 1, name: "Spring pitch" });
    await screen.findByText(/We cannot tell whether the server took these messages/);
    await waitFor(() => expect(queryClient.getQueryData(["me", WORKSPACE])).toBeDefined());
    expect(screen.queryByRole("group", { name: "Outreach actions" })).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Edit settings" })).not.toBeInTheDocument();
    expect(screen.queryByRole("form", { name: "Add recipients by email" })).not.toBeInTheDocument();
    expect(screen.queryByRole("form", { name: "Add a follow-up" })).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: /Send again/ })).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: /Mark replied/ })).not.toBeInTheDocument();
  });
});

describe("OutreachPage counters", () => {
  it("shows new numbers once the progress query is invalidated", async () => {
    let counts: Record<string, number> = { queued: 10, sent: 2 };
    serve(routesFor("sending", "editor", { [`GET ${BASE}/progress`]: () => ({ body: progress("sending", counts) }) }));
    const { queryClient } = show();
    await waitFor(() => expect(screen.getByTestId("outreach-count-sent")).toHaveTextContent("2"));
    expect(screen.getByTestId("outreach-count-queued")).toHaveTextContent("10");
    expect(screen.getByTestId("outreach-count-unknown")).toHaveTextContent("0");
    expect(screen.getByTestId("outreach-count-total")).toHaveTextContent("12");

    counts = { queued: 4, sent: 7, opened: 1 };
    await queryClient.invalidateQueries({ queryKey: ["outreach-campaigns"] });
    await waitFor(() => expect(screen.getByTestId("outreach-count-sent")).toHaveTextContent("7"));
    expect(screen.getByTestId("outreach-count-queued")).toHaveTextContent("4");
    expect(screen.getByTestId("outreach-count-opened")).toHaveTextContent("1");
    expect(screen.getByTestId("outreach-count-total")).toHaveTextContent("12");
  });
});

describe("OutreachPage unknown messages", () => {
  const UNKNOWN = "00000000-0000-4000-8000-0000000000e1";

  it("asks for confirmation, naming the risk of a duplicate, before sending again", async () => {
    const sent = serve(
      routesFor("sending", "editor", {
        [`GET ${BASE}/progress`]: { body: progress("sending", { unknown: 1, sent: 4 }) },
        "GET /api/v1/email-records": ({ query }) => ({
          body: page(
            query.get("status") === "unknown" || query.get("status") === null
              ? [record(UNKNOWN, "dj@example.com", "unknown", { error: "connection dropped during DATA" })]
              : [],
          ),
        }),
        [`POST /api/v1/email-records/${UNKNOWN}/resend`]: {
          body: record(UNKNOWN, "dj@example.com", "queued"),
        },
      }),
    );
    show();
    const review = await screen.findByRole("region", { name: /Needs your review/ });
    expect(review).toHaveTextContent("We cannot tell whether the server took these messages");

    await userEvent.click(within(review).getByRole("button", { name: "Send again: dj@example.com" }));
    const dialog = screen.getByRole("alertdialog", { name: "Send this message to dj@example.com again?" });
    expect(dialog).toHaveTextContent("will receive this message twice");
    expect(sent.some((r) => r.method === "POST")).toBe(false);
    // The safe choice has the focus.
    expect(within(dialog).getByRole("button", { name: "Don't send" })).toHaveFocus();

    await userEvent.click(within(dialog).getByRole("button", { name: "Send again anyway" }));
    await waitFor(() =>
      expect(sent.filter((r) => r.method === "POST").map((r) => r.path)).toEqual([
        `/api/v1/email-records/${UNKNOWN}/resend`,
      ]),
    );
  });

  it("sends nothing when the confirmation is dismissed", async () => {
    const sent = serve(
      routesFor("sending", "editor", {
        "GET /api/v1/email-records": { body: page([record(UNKNOWN, "dj@example.com", "unknown")]) },
      }),
    );
    show();
    const review = await screen.findByRole("region", { name: /Needs your review/ });
    await userEvent.click(within(review).getByRole("button", { name: "Send again: dj@example.com" }));
    await userEvent.keyboard("{Escape}");
    expect(screen.queryByRole("alertdialog")).not.toBeInTheDocument();
    expect(sent.some((r) => r.method === "POST")).toBe(false);
  });

  it("marks a message replied", async () => {
    const SENT = "00000000-0000-4000-8000-0000000000e2";
    const sent = serve(
      routesFor("sending", "editor", {
        "GET /api/v1/email-records": ({ query }) => ({
          body: page(query.get("status") ? [] : [record(SENT, "fan@example.com", "sent")]),
        }),
        [`POST /api/v1/email-records/${SENT}/reply`]: { body: record(SENT, "fan@example.com", "replied") },
      }),
    );
    show();
    await userEvent.click(await screen.findByRole("button", { name: "Mark replied: fan@example.com" }));
    await waitFor(() =>
      expect(sent.some((r) => r.method === "POST" && r.path === `/api/v1/email-records/${SENT}/reply`)).toBe(true),
    );
  });
});

describe("OutreachPage recipients and steps", () => {
  it("queues addresses and says what was skipped, or names the bad address", async () => {
    const sent = serve(
      routesFor("draft", "editor", {
        [`POST ${BASE}/recipients`]: { body: { queued: 1, skipped_suppressed: 1, skipped_duplicates: 0 } },
      }),
    );
    show();
    const form = await screen.findByRole("form", { name: "Add recipients by email" });
    const field = within(form).getByLabelText("Email addresses");
    await userEvent.type(field, "a@example.com, nope");
    await userEvent.click(within(form).getByRole("button", { name: "Add recipients" }));
    expect(await within(form).findByText("Not an email address: nope.")).toBeInTheDocument();
    expect(sent.some((r) => r.method === "POST")).toBe(false);

    await userEvent.clear(field);
    await userEvent.type(field, "a@example.com\nb@example.com");
    await userEvent.click(within(form).getByRole("button", { name: "Add recipients" }));
    expect(await within(form).findByText("Queued 1 recipient. Skipped: 1 on the suppression list.")).toBeInTheDocument();
    expect(sent.find((r) => r.method === "POST")?.body).toEqual({
      recipients: [{ to_email: "a@example.com" }, { to_email: "b@example.com" }],
    });
  });

  it("adds a follow-up step with a follow-up template", async () => {
    const sent = serve(
      routesFor("draft", "editor", {
        [`POST ${BASE}/steps`]: problem(422, "delay_days too long", [{ field: "delay_days", message: "must be at most 365" }]),
      }),
    );
    show();
    const form = await screen.findByRole("form", { name: "Add a follow-up" });
    await userEvent.selectOptions(within(form).getByLabelText("Follow-up template"), "Nudge");
    await userEvent.click(within(form).getByRole("button", { name: "Add follow-up" }));
    expect(await within(form).findByText("must be at most 365")).toBeInTheDocument();
    expect(sent.find((r) => r.method === "POST")?.body).toEqual({
      template_id: "00000000-0000-4000-8000-000000000004",
      delay_days: 3,
    });
  });
});

describe("OutreachPage accessibility", () => {
  it("has no axe violations with every section drawn", async () => {
    const UNKNOWN = "00000000-0000-4000-8000-0000000000e1";
    serve(
      routesFor("draft", "editor", {
        [`GET ${BASE}/plan`]: {
          body: { ...EMPTY_PLAN, queued: 2, planned: 2, first_send_at: "2025-03-03T09:00:00Z", last_send_at: "2025-03-03T09:01:00Z", days_needed: 1, days: [{ day: "2025-03-03", messages: 2 }] },
        },
        "GET /api/v1/email-records": { body: page([record(UNKNOWN, "dj@example.com", "unknown")]) },
      }),
    );
    const { container } = show();
    await screen.findByRole("form", { name: "Add a follow-up" });
    await screen.findByRole("region", { name: /Needs your review/ });
    await screen.findByRole("table", { name: "Messages planned per day (UTC)" });
    const axe = (await import("axe-core")).default;
    // jsdom draws nothing: contrast and the visible-label rule need a canvas.
    const results = await axe.run(container, {
      runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21aa"] },
      rules: { "color-contrast": { enabled: false }, "label-content-name-mismatch": { enabled: false } },
    });
    expect(results.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`)).toEqual([]);
  });
});
