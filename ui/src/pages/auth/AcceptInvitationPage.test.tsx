import { screen, waitFor } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { loadTokens } from "@/auth/tokens";
import { renderPage } from "@/test/render";
import { problem, stubApi } from "@/test/server";
import { OTHER_WORKSPACE_ID } from "@/test/session";
import AcceptInvitationPage from "./AcceptInvitationPage";

const JOINED = {
  id: OTHER_WORKSPACE_ID,
  name: "Harbour Sounds",
  slug: "harbour-sounds",
  created_at: "2026-02-01T09:00:00Z",
  role: "editor",
};

describe("AcceptInvitationPage", () => {
  it("signed out: keeps the code from the link through sign-in and sign-up", async () => {
    stubApi({});
    const { user } = renderPage(<AcceptInvitationPage />, {
      path: "/invitations/accept",
      url: "/invitations/accept?code=Zx-9_q",
      signedIn: false,
    });

    expect(screen.getByLabelText("Invitation code")).toHaveValue("Zx-9_q");
    const back = encodeURIComponent("/invitations/accept?code=Zx-9_q");
    expect(screen.getByRole("link", { name: "Sign in to accept" })).toHaveAttribute("href", `/login?next=${back}`);
    expect(screen.getByRole("link", { name: "Create an account" })).toHaveAttribute("href", `/signup?next=${back}`);
    expect(screen.queryByRole("button", { name: "Accept invitation" })).not.toBeInTheDocument();

    // A code pasted by hand travels the same way.
    await user.clear(screen.getByLabelText("Invitation code"));
    await user.type(screen.getByLabelText("Invitation code"), "pasted");
    expect(screen.getByRole("link", { name: "Sign in to accept" })).toHaveAttribute(
      "href",
      `/login?next=${encodeURIComponent("/invitations/accept?code=pasted")}`,
    );
  });

  it("signed in: accepts, switches to the workspace and opens its dashboard", async () => {
    const calls = stubApi(
      {
        "POST /api/v1/invitations/accept": JOINED,
        "POST /api/v1/auth/switch": {
          access_token: "access-joined",
          token_type: "bearer",
          expires_in: 900,
          refresh_token: "refresh-joined",
          workspace_id: OTHER_WORKSPACE_ID,
        },
      },
      { role: "owner" },
    );
    const { user, url } = renderPage(<AcceptInvitationPage />, {
      path: "/invitations/accept",
      url: "/invitations/accept?code=Zx-9_q",
    });

    expect(await screen.findByText("mia@label.example")).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Accept invitation" }));

    await waitFor(() => expect(url()).toBe("/"));
    expect(calls.find((c) => c.path === "/api/v1/invitations/accept")?.body).toEqual({ token: "Zx-9_q" });
    expect(calls.find((c) => c.path === "/api/v1/auth/switch")?.body).toEqual({ workspace_id: OTHER_WORKSPACE_ID });
    await waitFor(() => expect(loadTokens()?.workspace_id).toBe(OTHER_WORKSPACE_ID));
  });

  it("says on the code field when no invitation for this address has the code", async () => {
    stubApi({ "POST /api/v1/invitations/accept": problem(404, "invitation not found") }, { role: "owner" });
    const { user } = renderPage(<AcceptInvitationPage />, {
      path: "/invitations/accept",
      url: "/invitations/accept?code=wrong",
    });

    await screen.findByText("mia@label.example");
    await user.click(screen.getByRole("button", { name: "Accept invitation" }));

    await waitFor(() =>
      expect(screen.getByLabelText("Invitation code")).toHaveAccessibleDescription(
        /no open invitation for mia@label\.example with this code/,
      ),
    );
  });

  it("shows an expired invitation as a form error", async () => {
    stubApi({ "POST /api/v1/invitations/accept": problem(409, "invitation expired") }, { role: "owner" });
    const { user } = renderPage(<AcceptInvitationPage />, {
      path: "/invitations/accept",
      url: "/invitations/accept?code=old",
    });

    await user.click(screen.getByRole("button", { name: "Accept invitation" }));

    expect(await screen.findByRole("alert")).toHaveTextContent("Invitation expired.");
  });
});
