import { screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { Role } from "@/auth/session";
import { loadTokens } from "@/auth/tokens";
import { renderPage } from "@/test/render";
import { json, noContent, page, problem, stubApi } from "@/test/server";
import { OTHER_WORKSPACE_ID, USER_ID, WORKSPACE_ID, me } from "@/test/session";
import MembersPage from "./MembersPage";

const OTHER_USER = "0194a1b2-0000-7000-8000-0000000000bb";

function members(selfRole: Role, otherRole: Role = "editor") {
  return page([
    { id: "m-self", user_id: USER_ID, role: selfRole, created_at: "2026-01-05T10:00:00Z" },
    { id: "m-other", user_id: OTHER_USER, role: otherRole, created_at: "2026-01-06T10:00:00Z" },
  ]);
}

const INVITATIONS = page([
  {
    id: "inv-1",
    email: "sam@label.example",
    role: "viewer",
    created_at: "2026-01-07T10:00:00Z",
    expires_at: "2999-01-14T10:00:00Z",
    accepted_at: null,
  },
]);

function renderMembers() {
  return renderPage(<MembersPage />, { path: "/members" });
}

describe("MembersPage", () => {
  it("shows a viewer the members but no invitation, role or removal controls", async () => {
    const calls = stubApi({ "GET /api/v1/members": members("viewer") }, { role: "viewer" });
    renderMembers();

    const table = await screen.findByRole("table", { name: "Members of this workspace" });
    expect(within(table).getByText("Mia Rossi (you)")).toBeInTheDocument();
    expect(within(table).getByText("User 0194a1b2")).toBeInTheDocument();
    expect(within(table).getByText("Editor")).toBeInTheDocument();

    expect(screen.queryByRole("combobox", { name: /Role of/ })).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: /^Remove/ })).not.toBeInTheDocument();
    expect(screen.queryByRole("heading", { name: "Invitations" })).not.toBeInTheDocument();
    expect(screen.queryByLabelText("Email to invite")).not.toBeInTheDocument();
    expect(screen.queryByLabelText("Workspace name")).not.toBeInTheDocument();
    // What any member may do stays.
    expect(screen.getByRole("button", { name: "Leave workspace" })).toBeInTheDocument();
    expect(screen.getByLabelText("New workspace name")).toBeInTheDocument();
    expect(calls.some((call) => call.path === "/api/v1/invitations")).toBe(false);
  });

  it("lets an owner change a role once confirmed", async () => {
    let role: Role = "editor";
    const calls = stubApi(
      {
        "GET /api/v1/members": () => json(members("owner", role)),
        "GET /api/v1/invitations": INVITATIONS,
        "PATCH /api/v1/members/m-other": ({ body }) => {
          role = (body as { role: Role }).role;
          return json(members("owner", role).items[1]);
        },
      },
      { role: "owner" },
    );
    const { user } = renderMembers();

    const select = await screen.findByRole("combobox", { name: "Role of User 0194a1b2" });
    await user.selectOptions(select, "admin");
    expect(calls.some((call) => call.method === "PATCH")).toBe(false);

    const confirm = screen.getByRole("group", { name: "Confirm role of User 0194a1b2" });
    expect(confirm).toHaveTextContent("Make User 0194a1b2 admin?");
    await user.click(within(confirm).getByRole("button", { name: "Change role" }));

    await waitFor(() => expect(calls.find((call) => call.method === "PATCH")?.body).toEqual({ role: "admin" }));
    await waitFor(() => expect(screen.queryByRole("group", { name: /Confirm role/ })).not.toBeInTheDocument());
    expect(screen.getByRole("combobox", { name: "Role of User 0194a1b2" })).toHaveValue("admin");
  });

  it("removes a member only after confirming, and shows a refusal", async () => {
    const calls = stubApi(
      {
        "GET /api/v1/members": members("owner"),
        "GET /api/v1/invitations": INVITATIONS,
        "DELETE /api/v1/members/m-other": problem(409, "the workspace must keep an owner"),
      },
      { role: "owner" },
    );
    const { user } = renderMembers();

    await user.click(await screen.findByRole("button", { name: "Remove User 0194a1b2" }));
    expect(calls.some((call) => call.method === "DELETE")).toBe(false);
    // Nobody removes themselves here: that is Leave workspace.
    expect(screen.queryByRole("button", { name: /Remove Mia/ })).not.toBeInTheDocument();

    await user.click(screen.getByRole("button", { name: "Remove member" }));

    expect(await screen.findByText("The workspace must keep an owner.")).toBeInTheDocument();
    expect(calls.filter((call) => call.method === "DELETE")).toHaveLength(1);
  });

  it("lets an admin invite (not as owner) and shows the link to pass on", async () => {
    const calls = stubApi(
      {
        "GET /api/v1/members": members("admin"),
        "GET /api/v1/invitations": INVITATIONS,
        "POST /api/v1/invitations": json(
          {
            ...INVITATIONS.items[0],
            id: "inv-2",
            email: "kai@label.example",
            role: "editor",
            token: "tok_en-1",
            delivery: "not sent: connection refused",
          },
          201,
        ),
      },
      { role: "admin" },
    );
    const { user } = renderMembers();

    expect(await screen.findByText("sam@label.example")).toBeInTheDocument();
    const roles = within(screen.getByRole("form", { name: "Invite someone" })).getByLabelText("Role");
    expect(within(roles).queryByRole("option", { name: "Owner" })).not.toBeInTheDocument();

    await user.type(screen.getByLabelText("Email to invite"), "kai@label.example");
    await user.click(screen.getByRole("button", { name: "Send invitation" }));

    expect(await screen.findByText(/was not sent \(connection refused\)/)).toBeInTheDocument();
    expect(screen.getByLabelText("Invitation link")).toHaveValue(
      `${window.location.origin}/invitations/accept?code=tok_en-1`,
    );
    expect(calls.find((call) => call.method === "POST")?.body).toEqual({ email: "kai@label.example", role: "editor" });
  });

  it("leaves the workspace and moves to another one the member belongs to", async () => {
    const editor = me("editor");
    editor.workspaces.push({ id: OTHER_WORKSPACE_ID, name: "Harbour Sounds", slug: "harbour-sounds", created_at: "2026-02-01T09:00:00Z", role: "viewer" });
    const order: string[] = [];
    stubApi({
      "GET /api/v1/me": editor,
      "GET /api/v1/members": members("editor"),
      "POST /api/v1/auth/switch": ({ body }) => {
        order.push(`switch ${(body as { workspace_id: string }).workspace_id}`);
        return json({
          access_token: "access-other",
          token_type: "bearer",
          expires_in: 900,
          refresh_token: "refresh-other",
          workspace_id: OTHER_WORKSPACE_ID,
        });
      },
      "DELETE /api/v1/members/me": () => {
        order.push("leave");
        return noContent();
      },
    });
    const { user, url } = renderMembers();

    await user.click(await screen.findByRole("button", { name: "Leave workspace" }));
    expect(
      screen.getByRole("alertdialog", {
        name: "Leave Night Owl Records? You lose access to it at once and move to Harbour Sounds.",
      }),
    ).toBeInTheDocument();
    expect(order).toEqual([]);
    await user.click(screen.getByRole("button", { name: "Leave" }));

    await waitFor(() => expect(url()).toBe("/"));
    // Tokens for the other workspace come first: once gone from this one, its tokens are refused.
    expect(order).toEqual([`switch ${OTHER_WORKSPACE_ID}`, "leave"]);
    expect(loadTokens()?.workspace_id).toBe(OTHER_WORKSPACE_ID);
    expect(loadTokens()?.workspace_id).not.toBe(WORKSPACE_ID);
  });
});
