/** Every page of these folders, run through axe: labels, names, roles and heading order. */
import type { ReactElement } from "react";
import { screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import AcceptInvitationPage from "@/pages/auth/AcceptInvitationPage";
import LoginPage from "@/pages/auth/LoginPage";
import SignupPage from "@/pages/auth/SignupPage";
import { auditEntry } from "@/test/fixtures";
import { axeViolations } from "@/test/axe";
import { renderPage } from "@/test/render";
import { page, stubApi, type Routes } from "@/test/server";
import { OTHER_WORKSPACE_ID, USER_ID } from "@/test/session";
import AuditLogPage from "./AuditLogPage";
import MembersPage from "./MembersPage";
import SettingsPage from "./SettingsPage";

const OWNER_API: Routes = {
  "GET /api/v1/members": page(
    [
      { id: "m1", user_id: USER_ID, role: "owner", created_at: "2026-01-05T10:00:00Z" },
      { id: "m2", user_id: OTHER_WORKSPACE_ID, role: "viewer", created_at: "2026-01-06T10:00:00Z" },
    ],
    "more",
  ),
  "GET /api/v1/invitations": page([
    {
      id: "i1",
      email: "sam@label.example",
      role: "editor",
      created_at: "2026-01-07T10:00:00Z",
      expires_at: "2999-01-01T00:00:00Z",
      accepted_at: null,
    },
  ]),
  "GET /api/v1/audit-log": page([auditEntry({ id: "a1", entity_id: OTHER_WORKSPACE_ID, request_id: "r1" })], "more"),
  "GET /api/v1/settings": [{ key: "ui.theme", value: { mode: "dark" } }],
  "GET /api/v1/suppressions": page([
    { id: "s1", email: "gone@fans.example", reason: "bounced", created_at: "2026-02-02T10:00:00Z" },
  ]),
  "GET /api/v1/inbound-webhook": {
    url: "https://cm.example/inbound/x/events",
    secret: "ab".repeat(32),
    signature_header: "X-CM-Signature",
    timestamp_header: "X-CM-Timestamp",
    tolerance_seconds: 300,
    max_events: 500,
    example: { body: "{}", headers: {} },
  },
};

const SIGNED_IN: [string, ReactElement, string, string][] = [
  ["members", <MembersPage />, "/members", "Load more members"],
  ["audit log", <AuditLogPage />, "/audit-log", "Load more entries"],
  ["settings", <SettingsPage />, "/settings", "Show secret"],
];

describe("accessibility", () => {
  it.each(SIGNED_IN)("the %s page has no axe violations", async (_name, page, path, loaded) => {
    stubApi(OWNER_API, { role: "owner" });
    // In the app the Layout's <main> holds the page.
    renderPage(<main>{page}</main>, { path });
    await screen.findByRole("button", { name: loaded });
    expect(await axeViolations()).toEqual([]);
  });

  it.each([
    ["sign-in", <LoginPage />, "/login"],
    ["sign-up", <SignupPage />, "/signup"],
    ["invitation", <AcceptInvitationPage />, "/invitations/accept"],
  ] as [string, ReactElement, string][])("the %s page has no axe violations", async (_name, page, path) => {
    stubApi({});
    renderPage(page, { path, url: `${path}?code=abc`, signedIn: false });
    await screen.findByRole("heading", { level: 1 });
    expect(await axeViolations()).toEqual([]);
  });
});
