import { describe, expect, it } from "vitest";
import { screen, waitFor, within } from "@testing-library/react";
import type { Role } from "@/auth/session";
import { OUTREACH_ID, outreachCampaign } from "@/test/fixtures";
import { axeViolations } from "@/test/axe";
import { renderPage } from "@/test/render";
import { json, page, problem, stubApi, type Routes } from "@/test/server";
import OutreachPage from "./OutreachPage";
import { EMPTY_PLAN, FOLLOW_UP_ID, lookupRoutes, progress, record } from "./fixtures";
import type { OutreachStatus } from "./status";

const BASE = `/api/v1/outreach-campaigns/${OUTREACH_ID}`;

/** The API of an outreach in ``status``, seen as ``role``, with ``extra`` in place. */
function serve(status: OutreachStatus, role: Role = "editor", extra: Routes = {}) {
  return stubApi(
    {
      ...lookupRoutes(),
      [`GET ${BASE}`]: outreachCampaign({ status }),
      [`GET ${BASE}/progress`]: progress(status, { queued: 3 }),
      [`GET ${BASE}/steps`]: [],
      [`GET ${BASE}/plan`]: EMPTY_PLAN,
      "GET /api/v1/email-records": page([]),
      ...extra,
    },
    { role },
  );
}

function show() {
  return renderPage(<OutreachPage />, { path: "/outreach/:outreachId", url: `/outreach/${OUTREACH_ID}` });
}

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
    serve(status);
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
    const sent = serve("draft", "editor", {
      [`POST ${BASE}/launch`]: problem(409, "launch needs a template with a subject and a body"),
    });
    const { user } = show();
    await user.click(await screen.findByRole("button", { name: "Launch" }));
    expect(await screen.findByText("Could not launch: launch needs a template with a subject and a body")).toBeInTheDocument();
    expect(sent.filter((r) => r.method === "POST").map((r) => r.path)).toEqual([`${BASE}/launch`]);
    expect(screen.getByTestId("outreach-status")).toHaveTextContent("Draft");
  });

  it("moves to the status the server answers after a command", async () => {
    let current: OutreachStatus = "sending";
    serve("sending", "editor", {
      [`GET ${BASE}`]: () => json(outreachCampaign({ status: current })),
      [`GET ${BASE}/progress`]: () => json(progress(current, { queued: 3 })),
      [`POST ${BASE}/pause`]: () => {
        current = "paused";
        return json(outreachCampaign({ status: "paused" }));
      },
    });
    const { user } = show();
    await user.click(await screen.findByRole("button", { name: "Pause" }));
    expect(await screen.findByRole("button", { name: "Resume" })).toBeInTheDocument();
    expect(screen.getByTestId("outreach-status")).toHaveTextContent("Paused");
    expect(screen.queryByRole("button", { name: "Pause" })).not.toBeInTheDocument();
  });

  it("cancels only after the confirmation", async () => {
    const sent = serve("sending", "editor", { [`POST ${BASE}/cancel`]: outreachCampaign({ status: "cancelled" }) });
    const { user } = show();
    await user.click(await screen.findByRole("button", { name: "Cancel outreach" }));
    const dialog = screen.getByRole("alertdialog", { name: "Cancel this outreach for good?" });
    expect(dialog).toHaveTextContent("never be sent");
    expect(sent.some((r) => r.method === "POST")).toBe(false);
    await user.click(within(dialog).getByRole("button", { name: "Keep it" }));
    expect(screen.queryByRole("alertdialog")).not.toBeInTheDocument();
    expect(sent.some((r) => r.method === "POST")).toBe(false);

    await user.click(screen.getByRole("button", { name: "Cancel outreach" }));
    await user.click(screen.getByRole("button", { name: "Yes, cancel outreach" }));
    await waitFor(() => expect(sent.some((r) => r.method === "POST" && r.path === `${BASE}/cancel`)).toBe(true));
  });

  it("shows why the system paused it", async () => {
    serve("paused", "editor", {
      [`GET ${BASE}`]: outreachCampaign({ status: "paused", pause_reason: "the mail server refused the login" }),
      [`GET ${BASE}/progress`]: { ...progress("paused", { queued: 2 }), pause_reason: "the mail server refused the login" },
    });
    show();
    expect(await screen.findByTestId("outreach-pause-reason")).toHaveTextContent(
      "Paused: the mail server refused the login",
    );
  });

  it("hides every edit control from a viewer", async () => {
    serve("draft", "viewer", {
      "GET /api/v1/email-records": page([record("00000000-0000-4000-8000-0000000000e1", "a@example.com", "unknown")]),
    });
    const { sessionReady } = show();
    await screen.findByRole("heading", { level: 1, name: "Spring pitch" });
    await screen.findByText(/We cannot tell whether the server took these messages/);
    await sessionReady();
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
    serve("sending", "editor", { [`GET ${BASE}/progress`]: () => json(progress("sending", counts)) });
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
    const sent = serve("sending", "editor", {
      [`GET ${BASE}/progress`]: progress("sending", { unknown: 1, sent: 4 }),
      "GET /api/v1/email-records": ({ query }) =>
        json(
          page(
            query.get("status") === "unknown" || query.get("status") === null
              ? [record(UNKNOWN, "dj@example.com", "unknown", { error: "connection dropped during DATA" })]
              : [],
          ),
        ),
      [`POST /api/v1/email-records/${UNKNOWN}/resend`]: record(UNKNOWN, "dj@example.com", "queued"),
    });
    const { user } = show();
    const review = await screen.findByRole("region", { name: /Needs your review/ });
    expect(review).toHaveTextContent("We cannot tell whether the server took these messages");

    await user.click(within(review).getByRole("button", { name: "Send again: dj@example.com" }));
    const dialog = screen.getByRole("alertdialog", { name: "Send this message to dj@example.com again?" });
    expect(dialog).toHaveTextContent("will receive this message twice");
    expect(sent.some((r) => r.method === "POST")).toBe(false);
    // The safe choice has the focus.
    expect(within(dialog).getByRole("button", { name: "Don't send" })).toHaveFocus();

    await user.click(within(dialog).getByRole("button", { name: "Send again anyway" }));
    await waitFor(() =>
      expect(sent.filter((r) => r.method === "POST").map((r) => r.path)).toEqual([
        `/api/v1/email-records/${UNKNOWN}/resend`,
      ]),
    );
  });

  it("sends nothing when the confirmation is dismissed", async () => {
    const sent = serve("sending", "editor", {
      "GET /api/v1/email-records": page([record(UNKNOWN, "dj@example.com", "unknown")]),
    });
    const { user } = show();
    const review = await screen.findByRole("region", { name: /Needs your review/ });
    await user.click(within(review).getByRole("button", { name: "Send again: dj@example.com" }));
    await user.keyboard("{Escape}");
    expect(screen.queryByRole("alertdialog")).not.toBeInTheDocument();
    expect(sent.some((r) => r.method === "POST")).toBe(false);
  });

  it("marks a message replied", async () => {
    const SENT = "00000000-0000-4000-8000-0000000000e2";
    const sent = serve("sending", "editor", {
      "GET /api/v1/email-records": ({ query }) =>
        json(page(query.get("status") ? [] : [record(SENT, "fan@example.com", "sent")])),
      [`POST /api/v1/email-records/${SENT}/reply`]: record(SENT, "fan@example.com", "replied"),
    });
    const { user } = show();
    await user.click(await screen.findByRole("button", { name: "Mark replied: fan@example.com" }));
    await waitFor(() =>
      expect(sent.some((r) => r.method === "POST" && r.path === `/api/v1/email-records/${SENT}/reply`)).toBe(true),
    );
  });
});

describe("OutreachPage recipients and steps", () => {
  it("queues addresses and says what was skipped, or names the bad address", async () => {
    const sent = serve("draft", "editor", {
      [`POST ${BASE}/recipients`]: { queued: 1, skipped_suppressed: 1, skipped_duplicates: 0 },
    });
    const { user } = show();
    const form = await screen.findByRole("form", { name: "Add recipients by email" });
    const field = within(form).getByLabelText("Email addresses");
    await user.type(field, "a@example.com, nope");
    await user.click(within(form).getByRole("button", { name: "Add recipients" }));
    expect(await within(form).findByText("Not an email address: nope.")).toBeInTheDocument();
    expect(sent.some((r) => r.method === "POST")).toBe(false);

    await user.clear(field);
    await user.type(field, "a@example.com\nb@example.com");
    await user.click(within(form).getByRole("button", { name: "Add recipients" }));
    expect(await within(form).findByText("Queued 1 recipient. Skipped: 1 on the suppression list.")).toBeInTheDocument();
    expect(sent.find((r) => r.method === "POST")?.body).toEqual({
      recipients: [{ to_email: "a@example.com" }, { to_email: "b@example.com" }],
    });
  });

  it("adds a follow-up step with a follow-up template", async () => {
    const sent = serve("draft", "editor", {
      [`POST ${BASE}/steps`]: problem(422, "delay_days too long", [{ field: "delay_days", message: "must be at most 365" }]),
    });
    const { user } = show();
    const form = await screen.findByRole("form", { name: "Add a follow-up" });
    await user.selectOptions(within(form).getByLabelText("Follow-up template"), "Nudge");
    await user.click(within(form).getByRole("button", { name: "Add follow-up" }));
    expect(await within(form).findByText("must be at most 365")).toBeInTheDocument();
    expect(sent.find((r) => r.method === "POST")?.body).toEqual({ template_id: FOLLOW_UP_ID, delay_days: 3 });
  });
});

describe("OutreachPage accessibility", () => {
  it("has no axe violations with every section drawn", async () => {
    const UNKNOWN = "00000000-0000-4000-8000-0000000000e1";
    serve("draft", "editor", {
      [`GET ${BASE}/plan`]: {
        ...EMPTY_PLAN,
        queued: 2,
        planned: 2,
        first_send_at: "2025-03-03T09:00:00Z",
        last_send_at: "2025-03-03T09:01:00Z",
        days_needed: 1,
        days: [{ day: "2025-03-03", messages: 2 }],
      },
      "GET /api/v1/email-records": page([record(UNKNOWN, "dj@example.com", "unknown")]),
    });
    const { container } = show();
    await screen.findByRole("form", { name: "Add a follow-up" });
    await screen.findByRole("region", { name: /Needs your review/ });
    await screen.findByRole("table", { name: "Messages planned per day (UTC)" });
    expect(await axeViolations(container)).toEqual([]);
  });
});
