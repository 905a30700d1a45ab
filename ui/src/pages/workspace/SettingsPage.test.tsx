import { screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { renderPage } from "@/test/render";
import { json, page, stubApi } from "@/test/server";
import SettingsPage from "./SettingsPage";

const SUPPRESSIONS = page([
  { id: "s1", email: "gone@fans.example", reason: "bounced", created_at: "2026-02-02T10:00:00Z" },
  { id: "s2", email: "nope@fans.example", reason: "unsubscribed", created_at: "2026-02-03T10:00:00Z" },
]);

function renderSettings() {
  return renderPage(<SettingsPage />, { path: "/settings" });
}

const WEBHOOK = {
  url: "https://cm.example/inbound/0194a1b2-0000-7000-8000-000000000001/events",
  secret: "ab".repeat(32),
  signature_header: "X-CM-Signature",
  timestamp_header: "X-CM-Timestamp",
  tolerance_seconds: 300,
  max_events: 500,
  example: {
    body: '{"events":[{"type":"complaint","email":"listener@example.com"}]}',
    headers: { "Content-Type": "application/json", "X-CM-Timestamp": "1767000000", "X-CM-Signature": "sha256=00" },
  },
};

describe("SettingsPage", () => {
  it("shows a viewer their preferences and the suppression list, without edit controls or the secret", async () => {
    const calls = stubApi(
      {
        "GET /api/v1/settings": [{ key: "ui.theme", value: { mode: "dark" } }],
        "GET /api/v1/suppressions": SUPPRESSIONS,
      },
      { role: "viewer" },
    );
    renderSettings();

    const table = await screen.findByRole("table", { name: "Suppressed addresses" });
    expect(within(table).getByText("gone@fans.example")).toBeInTheDocument();
    expect(within(table).getByText("Bounced")).toBeInTheDocument();
    expect(within(table).queryByRole("button")).not.toBeInTheDocument();
    expect(screen.queryByLabelText("Address to suppress")).not.toBeInTheDocument();

    // Their own preferences are theirs to change, viewer or not.
    expect(await screen.findByText("ui.theme")).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Edit ui.theme" })).toBeInTheDocument();

    expect(screen.getByText(/Only owners and admins can see where reports go/)).toBeInTheDocument();
    expect(calls.some((call) => call.path === "/api/v1/inbound-webhook")).toBe(false);
  });

  it("shows an admin the webhook's address, with the secret hidden until asked", async () => {
    stubApi(
      {
        "GET /api/v1/settings": [],
        "GET /api/v1/suppressions": SUPPRESSIONS,
        "GET /api/v1/inbound-webhook": WEBHOOK,
      },
      { role: "admin" },
    );
    const { user } = renderSettings();

    expect(await screen.findByLabelText("Report URL")).toHaveValue(WEBHOOK.url);
    const secret = screen.getByLabelText("Signing secret (hex)");
    expect(secret).not.toHaveValue(WEBHOOK.secret);
    expect(screen.getByLabelText("Example command")).toHaveTextContent("hexkey:<secret>");

    await user.click(screen.getByRole("button", { name: "Show secret" }));
    expect(secret).toHaveValue(WEBHOOK.secret);
    expect(screen.getByLabelText("Example command")).toHaveTextContent(`hexkey:${WEBHOOK.secret}`);
    expect(screen.getByRole("button", { name: "Lift the suppression of gone@fans.example" })).toBeInTheDocument();
  });

  it("checks a preference's JSON before saving it", async () => {
    const calls = stubApi(
      {
        "GET /api/v1/settings": [],
        "GET /api/v1/suppressions": page([]),
        "PUT /api/v1/settings/ui.theme": ({ body }) => json({ key: "ui.theme", value: (body as { value: unknown }).value }),
      },
      { role: "viewer" },
    );
    const { user } = renderSettings();

    const key = await screen.findByLabelText("Key");
    const value = screen.getByLabelText("Value (JSON object)");
    await user.type(key, "ui.theme");
    await user.clear(value);
    await user.type(value, "[[1, 2]");
    await user.click(screen.getByRole("button", { name: "Add preference" }));
    expect(value).toHaveAccessibleDescription('The value must be a JSON object, like {"mode": "dark"}.');

    await user.clear(value);
    await user.type(value, '{{"mode": "dark"}');
    await user.click(screen.getByRole("button", { name: "Add preference" }));

    expect(await screen.findByText("Saved ui.theme.")).toBeInTheDocument();
    const put = calls.filter((call) => call.method === "PUT");
    expect(put).toHaveLength(1);
    expect(put[0]?.body).toEqual({ value: { mode: "dark" } });
  });

  it("lets an editor suppress an address and says when it already was", async () => {
    const calls = stubApi({
      "GET /api/v1/settings": [],
      "GET /api/v1/suppressions": SUPPRESSIONS,
      // 200, not 201: the address was suppressed already.
      "POST /api/v1/suppressions": SUPPRESSIONS.items[0]!,
    });
    const { user } = renderSettings();

    await user.type(await screen.findByLabelText("Address to suppress"), "Gone@Fans.example");
    await user.click(screen.getByRole("button", { name: "Suppress" }));

    expect(await screen.findByText("gone@fans.example was already suppressed (bounced); nothing changed.")).toBeInTheDocument();
    await waitFor(() => expect(calls.find((call) => call.method === "POST")?.body).toEqual({ email: "Gone@Fans.example", reason: "manual" }));
  });
});
