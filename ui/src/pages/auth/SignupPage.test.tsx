import { screen, waitFor } from "@testing-library/react";
import type { UserEvent } from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { loadTokens } from "@/auth/tokens";
import { renderPage } from "@/test/render";
import { json, problem, stubApi } from "@/test/server";
import { me } from "@/test/session";
import SignupPage from "./SignupPage";

const PAIR = {
  access_token: "access-new",
  token_type: "bearer",
  expires_in: 900,
  refresh_token: "refresh-new",
  workspace_id: "0194a1b2-0000-7000-8000-000000000009",
};

function renderSignup(url = "/signup") {
  return renderPage(<SignupPage />, { path: "/signup", url, signedIn: false });
}

async function fillIn(
  user: UserEvent,
  values: { name?: string; email?: string; password?: string; workspace?: string },
) {
  if (values.name) await user.type(screen.getByLabelText("Your name"), values.name);
  if (values.email) await user.type(screen.getByLabelText("Email"), values.email);
  if (values.password) await user.type(screen.getByLabelText("Password"), values.password);
  if (values.workspace) await user.type(screen.getByLabelText("Workspace name"), values.workspace);
  await user.click(screen.getByRole("button", { name: "Create account" }));
}

describe("SignupPage", () => {
  it("shows the client's errors beside their fields and sends nothing", async () => {
    const calls = stubApi({});
    const { user } = renderSignup();

    await fillIn(user, { email: "mia@label", password: "short" });

    expect(await screen.findByLabelText("Email")).toHaveAccessibleDescription(
      "Enter an email address like name@example.com.",
    );
    expect(screen.getByLabelText("Password")).toHaveAccessibleDescription("Use at least 8 characters.");
    expect(screen.getByLabelText("Email")).toHaveAttribute("aria-invalid", "true");
    expect(calls).toHaveLength(0);
  });

  it("puts a 422's field error next to the field it names", async () => {
    stubApi({
      "POST /api/v1/auth/register": problem(422, "invalid fields: workspace_name", [
        { field: "workspace_name", message: "String should have at most 200 characters" },
      ]),
    });
    const { user } = renderSignup();

    await fillIn(user, { email: "mia@label.example", password: "a long passphrase", workspace: "Night Owl" });

    expect(await screen.findByLabelText("Workspace name")).toHaveAccessibleDescription(
      "String should have at most 200 characters",
    );
    expect(screen.getByLabelText("Email")).not.toHaveAttribute("aria-invalid");
    // Placed on its field, so no second copy above the form.
    expect(screen.getAllByRole("alert")).toHaveLength(1);
  });

  it("says clearly when the email already has an account, with a way to sign in", async () => {
    stubApi({ "POST /api/v1/auth/register": problem(409, "a user with this email already exists") });
    const { user } = renderSignup("/signup?next=%2Fcampaigns");

    await fillIn(user, { email: "mia@label.example", password: "a long passphrase" });

    expect(await screen.findByLabelText("Email")).toHaveAccessibleDescription(
      "An account with this email already exists.",
    );
    expect(screen.getByRole("link", { name: "Sign in with this email instead" })).toHaveAttribute(
      "href",
      "/login?next=%2Fcampaigns",
    );
  });

  it("signs the new account in and goes on to next, sending the form's values", async () => {
    const owner = me("owner");
    const calls = stubApi(
      {
        "POST /api/v1/auth/register": json({ user: owner.user, workspace: owner.workspaces[0], tokens: PAIR }, 201),
      },
      { role: "owner" },
    );
    const { user, url } = renderSignup("/signup?next=%2Fartists%3Fq%3Dowl");

    await fillIn(user, { name: "Mia Rossi", email: " Mia@Label.example ", password: "a long passphrase" });

    await waitFor(() => expect(url()).toBe("/artists?q=owl"));
    expect(calls[0]?.body).toEqual({
      email: "Mia@Label.example",
      password: "a long passphrase",
      display_name: "Mia Rossi",
      workspace_name: null,
    });
    await waitFor(() => expect(loadTokens()?.access_token).toBe("access-new"));
  });
});
