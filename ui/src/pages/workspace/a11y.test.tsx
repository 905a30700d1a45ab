/** Every page of these folders, run through axe: labels, names, roles and heading order. */
import { OTHER_WORKSPACE_ID, USER_ID, meAs, mockApi, renderPage, signIn } from "./testing/harness";
import type { ReactElement } from "react";
import { screen } from "@testing-library/react";
import axe from "axe-core";
import { describe, expect, it } from "vitest";
import AcceptInvitationPage from "@/pages/auth/AcceptInvitationPage";
import LoginPage from "@/pages/auth/LoginPage";
import SignupPage from "@/pages/auth/SignupPage";
import AuditLogPage from "./AuditLogPage";
import MembersPage from "./MembersPage";
import SettingsPage from "./SettingsPage";

async function violations(): Promise<string[]> {
  const results = await axe.run(document.body, {
    // jsdom lays nothing out, so contrast cannot be measured here.
    rules: { "color-contrast": { enabled: false } },
  });
  return results.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}

const OWNER_API = {
  "GET /api/v1/me": { body: meAs("owner") },
  "GET /api/v1/members": {
    body: {
      items: [
        { id: "m1", user_id: USER_ID, role: "owner", created_at: "2026-01-05T10:00:00Z" },
        { id: "m2", user_id: OTHER_WORKSPACE_ID, role: "viewer", created_at: "2026-01-06T10:00:00Z" },
      ],
      next_cursor: "more",
    },
  },
  "GET /api/v1/invitations": {
    body: {
      items: [
        {
          id: "i1",
          email: "sam@label.example",
          role: "editor",
          created_at: "2026-01-07T10:00:00Z",
          expires_at: "2999-01-01T00:00:00Z",
          accepted_at: null,
        },
      ],
      next_cursor: null,
    },
  },
  "GET /api/v1/audit-log": {
    body: {
      items: [
        {
          id: "a1",
          actor_user_id: USER_ID,
          action: "campaign.create",
          entity_type: "campaign",
          entity_id: OTHER_WORKSPACE_ID,
          data: { name: "Spring tour" },
          request_id: "r1",
          created_at: "2026-03-01T12:00:00Z",
        },
      ],
      next_cursor: "more",
    },
  },
  "GET /api/v1/settings": { body: [{ key: "ui.theme", value: { mode: "dark" } }] },
  "GET /api/v1/suppressions": {
    body: { items: [{ id: "s1", email: "gone@fans.example", reason: "bounced", created_at: "2026-02-02T10:00:00Z" }], next_cursor: null },
  },
  "GET /api/v1/inbound-webhook": {
    body: {
      url: "https://cm.example/inbound/x/events",
      secret: "ab".repeat(32),
      signature_header: "X-CM-Signature",
      timestamp_header: "X-CM-Timestamp",
      tolerance_seconds: 300,
      max_events: 500,
      example: { body: "{}", headers: {} },
    },
  },
};

const SIGNED_IN: [string, ReactElement, string, string][] = [
  ["members", <MembersPage />, "/members", "Load more members"],
  ["audit log", <AuditLogPage />, "/audit-log", "Load more entries"],
  ["settings", <SettingsPage />, "/settings", "Show secret"],
];

describe("accessibility", () => {
  it.each(SIGNED_IN)("the %s page has no axe violations", async (_name, page, path, loaded) => {
    signIn();
    mockApi(OWNER_API);
    // In the app the Layout's <main> holds the page.
    renderPage(<main>{page}</main>, { path });
    await screen.findByRole("button", { name: loaded });
    expect(await violations()).toEqual([]);
  });

  it.each([
    ["sign-in", <LoginPage />, "/login"],
    ["sign-up", <SignupPage />, "/signup"],
    ["invitation", <AcceptInvitationPage />, "/invitations/accept"],
  ] as [string, ReactElement, string][])("the %s page has no axe violations", async (_name, page, path) => {
    mockApi({});
    renderPage(page, { path, url: `${path}?code=abc` });
    await screen.findByRole("heading", { level: 1 });
    expect(await violations()).toEqual([]);
  });
});
