import { screen, waitFor } from "@testing-library/react";
import type { UserEvent } from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { renderPage } from "@/test/render";
import { problem, stubApi } from "@/test/server";
import { WORKSPACE_ID } from "@/test/session";
import LoginPage from "./LoginPage";
import { safeNext } from "./next";

const PAIR = {
  access_token: "access-new",
  token_type: "bearer",
  expires_in: 900,
  refresh_token: "refresh-new",
  workspace_id: WORKSPACE_ID,
};

function renderLogin(url = "/login", { signedIn = false } = {}) {
  return renderPage(<LoginPage />, { path: "/login", url, signedIn });
}

async function logIn(user: UserEvent, email: string, password: string) {
  await user.type(screen.getByLabelText("Email"), email);
  await user.type(screen.getByLabelText("Password"), password);
  await user.click(screen.getByRole("button", { name: "Sign in" }));
}

describe("LoginPage", () => {
  it("shows a wrong password as a form error and clears the password", async () => {
    stubApi({ "POST /api/v1/auth/login": problem(401, "email or password is wrong") });
    const { user } = renderLogin();

    await logIn(user, "mia@label.example", "not-my-password");

    expect(await screen.findByRole("alert")).toHaveTextContent("The email or password is wrong.");
    expect(screen.getByLabelText("Password")).toHaveValue("");
    expect(screen.getByLabelText("Email")).toHaveValue("mia@label.example");
  });

  it("shows a rate limit's reason", async () => {
    stubApi({ "POST /api/v1/auth/login": problem(429, "too many failed logins from this address") });
    const { user } = renderLogin();

    await logIn(user, "mia@label.example", "whatever1");

    expect(await screen.findByRole("alert")).toHaveTextContent("Too many failed logins from this address.");
  });

  it("goes to a same-site next after signing in", async () => {
    stubApi({ "POST /api/v1/auth/login": PAIR });
    const { user, url } = renderLogin("/login?next=%2Fcampaigns%2F42");

    await logIn(user, "mia@label.example", "correct horse");

    await waitFor(() => expect(url()).toBe("/campaigns/42"));
  });

  it("ignores a next that leaves the site", async () => {
    stubApi({ "POST /api/v1/auth/login": PAIR });
    const { user, url } = renderLogin("/login?next=%2F%2Fevil.example%2Fx");

    await logIn(user, "mia@label.example", "correct horse");

    await waitFor(() => expect(url()).toBe("/"));
  });

  it("sends a signed-in visitor straight on", async () => {
    stubApi({}, { role: "viewer" });
    const { url } = renderLogin("/login", { signedIn: true });

    await waitFor(() => expect(url()).toBe("/"));
  });

  it("links to sign-up keeping next", () => {
    stubApi({});
    renderLogin("/login?next=%2Finvitations%2Faccept%3Fcode%3Dabc");

    expect(screen.getByRole("link", { name: "Create an account" })).toHaveAttribute(
      "href",
      "/signup?next=%2Finvitations%2Faccept%3Fcode%3Dabc",
    );
    expect(screen.getByText(/email address your invitation was sent to/)).toBeInTheDocument();
  });
});

describe("safeNext", () => {
  it.each([
    ["/campaigns?status=active", "/campaigns?status=active"],
    ["/invitations/accept?code=a-b_c", "/invitations/accept?code=a-b_c"],
    ["//evil.example", "/"],
    ["/\\evil.example", "/"],
    ["https://evil.example/", "/"],
    ["javascript:alert(1)", "/"],
    ["/\t/evil.example", "/"],
    ["/login?next=/x", "/"],
    ["", "/"],
  ])("reads %j as %j", (raw, expected) => {
    expect(safeNext(raw)).toBe(expected);
  });
});
