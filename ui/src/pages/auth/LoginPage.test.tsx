import { mockApi, problem, renderPage, signIn, meAs } from "@/pages/workspace/testing/harness";
import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import LoginPage from "./LoginPage";
import { safeNext } from "./next";

const PAIR = {
  access_token: "access-new",
  token_type: "bearer",
  expires_in: 900,
  refresh_token: "refresh-new",
  workspace_id: "0194a1b2-0000-7000-8000-000000000001",
};

async function logIn(email: string, password: string) {
  const user = userEvent.setup();
  await user.type(screen.getByLabelText("Email"), email);
  await user.type(screen.getByLabelText("Password"), password);
  await user.click(screen.getByRole("button", { name: "Sign in" }));
}

describe("LoginPage", () => {
  it("shows a wrong password as a form error and clears the password", async () => {
    mockApi({ "POST /api/v1/auth/login": problem(401, "email or password is wrong") });
    renderPage(<LoginPage />, { path: "/login" });

    await logIn("mia@label.example", "not-my-password");

    expect(await screen.findByRole("alert")).toHaveTextContent("The email or password is wrong.");
    expect(screen.getByLabelText("Password")).toHaveValue("");
    expect(screen.getByLabelText("Email")).toHaveValue("mia@label.example");
  });

  it("shows a rate limit's reason", async () => {
    mockApi({ "POST /api/v1/auth/login": problem(429, "too many failed logins from this address") });
    renderPage(<LoginPage />, { path: "/login" });

    await logIn("mia@label.example", "whatever1");

    expect(await screen.findByRole("alert")).toHaveTextContent("Too many failed logins from this address.");
  });

  it("goes to a same-site next after signing in", async () => {
    mockApi({ "POST /api/v1/auth/login": { body: PAIR }, "GET /api/v1/me": { body: meAs("editor") } });
    renderPage(<LoginPage />, { path: "/login", url: "/login?next=%2Fcampaigns%2F42" });

    await logIn("mia@label.example", "correct horse");

    expect(await screen.findByTestId("location")).toHaveTextContent("/campaigns/42");
  });

  it("ignores a next that leaves the site", async () => {
    mockApi({ "POST /api/v1/auth/login": { body: PAIR }, "GET /api/v1/me": { body: meAs("editor") } });
    renderPage(<LoginPage />, { path: "/login", url: "/login?next=%2F%2Fevil.example%2Fx" });

    await logIn("mia@label.example", "correct horse");

    const location = await screen.findByTestId("location");
    expect(location.textContent).toBe("/");
  });

  it("sends a signed-in visitor straight on", async () => {
    signIn();
    mockApi({ "GET /api/v1/me": { body: meAs("viewer") } });
    renderPage(<LoginPage />, { path: "/login" });

    expect((await screen.findByTestId("location")).textContent).toBe("/");
  });

  it("links to sign-up keeping next", () => {
    mockApi({});
    renderPage(<LoginPage />, { path: "/login", url: "/login?next=%2Finvitations%2Faccept%3Fcode%3Dabc" });

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
