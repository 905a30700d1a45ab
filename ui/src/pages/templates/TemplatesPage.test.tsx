import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import TemplatesPage from "./TemplatesPage";
import { problem, renderRoutes, sessionLoaded, stubApi, type Call } from "./testing";

function template(id: string, name: string, type = "initial") {
  return {
    id,
    name,
    type,
    subject: `About ${name}`,
    body_text: "Hello",
    body_html: "",
    created_at: "2025-05-01T10:00:00Z",
    updated_at: "2025-05-01T10:00:00Z",
  };
}

function list(call: Call) {
  if (call.query.get("cursor") === "page-2") {
    return { body: { items: [template("t3", "Last chance", "follow_up")], next_cursor: null } };
  }
  return { body: { items: [template("t1", "Welcome"), template("t2", "Nudge", "follow_up")], next_cursor: "page-2" } };
}

function open() {
  return renderRoutes(
    [
      { path: "/templates", element: <TemplatesPage /> },
      { path: "/templates/:templateId", element: <p>Editor of the new template</p> },
    ],
    "/templates",
  );
}

describe("the templates list", () => {
  it("lists templates a page at a time", async () => {
    const user = userEvent.setup({ delay: null });
    const { calls } = stubApi([["GET", "/api/v1/email-templates", list]]);
    open();

    expect(await screen.findByRole("link", { name: "Welcome" })).toHaveAttribute("href", "/templates/t1");
    expect(screen.getByRole("link", { name: "Nudge" })).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Load more" }));
    expect(await screen.findByRole("link", { name: "Last chance" })).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Load more" })).not.toBeInTheDocument();
    expect(calls.filter((call) => call.path === "/api/v1/email-templates").map((call) => call.query.get("cursor"))).toEqual([
      null,
      "page-2",
    ]);
  });

  it("creates a template and opens its editor", async () => {
    const user = userEvent.setup({ delay: null });
    const { calls } = stubApi([
      ["GET", "/api/v1/email-templates", { body: { items: [], next_cursor: null } }],
      ["POST", "/api/v1/email-templates", { status: 201, body: template("t9", "Intro") }],
    ]);
    open();

    expect(await screen.findByText("No templates yet")).toBeInTheDocument();
    await user.click(await screen.findByRole("button", { name: "New template" }));
    await user.type(screen.getByLabelText("Name"), "Intro");
    await user.type(screen.getByLabelText("Subject"), "A release for you");
    await user.type(screen.getByLabelText("Body"), "Hello there");
    await user.click(screen.getByRole("button", { name: "Create template" }));

    expect(await screen.findByText("Editor of the new template")).toBeInTheDocument();
    expect(calls.find((call) => call.method === "POST")?.body).toEqual({
      name: "Intro",
      type: "initial",
      subject: "A release for you",
      body_text: "Hello there",
      body_html: "",
    });
  });

  it("shows the server's refusal of a new template on its field", async () => {
    const user = userEvent.setup({ delay: null });
    stubApi([
      ["GET", "/api/v1/email-templates", { body: { items: [], next_cursor: null } }],
      [
        "POST",
        "/api/v1/email-templates",
        problem(422, "the template does not work: subject line 1: unexpected '}'", [
          { field: "subject", message: "line 1: unexpected '}'" },
        ]),
      ],
    ]);
    open();

    await user.click(await screen.findByRole("button", { name: "New template" }));
    await user.type(screen.getByLabelText("Name"), "Broken");
    await user.type(screen.getByLabelText("Subject"), "Hi }}");
    await user.type(screen.getByLabelText("Body"), "Hello");
    await user.click(screen.getByRole("button", { name: "Create template" }));

    expect(await screen.findByText("line 1: unexpected '}'")).toBeInTheDocument();
    expect(screen.getByLabelText("Subject")).toHaveAttribute("aria-invalid", "true");
    expect(screen.getByLabelText("Subject")).toHaveValue("Hi }}");
  });

  it("deletes after confirming, and shows why when the server refuses", async () => {
    const user = userEvent.setup({ delay: null });
    let deletes = 0;
    const { calls } = stubApi([
      ["GET", "/api/v1/email-templates", list],
      [
        "DELETE",
        "/api/v1/email-templates/t1",
        () => (++deletes === 1 ? problem(409, "the template is used by outreach campaign Spring push") : { status: 204 }),
      ],
    ]);
    open();

    await user.click(await screen.findByRole("button", { name: "Delete template Welcome" }));
    const confirm = screen.getByRole("group", { name: "Confirm deleting template Welcome" });
    expect(within(confirm).getByRole("button", { name: "Cancel" })).toHaveFocus();
    await user.click(within(confirm).getByRole("button", { name: "Yes, delete" }));
    expect(await within(confirm).findByRole("alert")).toHaveTextContent(
      "the template is used by outreach campaign Spring push",
    );

    await user.click(within(confirm).getByRole("button", { name: "Yes, delete" }));
    await screen.findByRole("button", { name: "Delete template Welcome" });
    expect(calls.filter((call) => call.method === "DELETE")).toHaveLength(2);
    expect(calls.filter((call) => call.path === "/api/v1/email-templates").length).toBeGreaterThan(1);
  });

  it("offers no changes to a viewer", async () => {
    stubApi([["GET", "/api/v1/email-templates", list]], { role: "viewer" });
    const { queryClient } = open();
    await sessionLoaded(queryClient);

    expect(await screen.findByRole("link", { name: "Welcome" })).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "New template" })).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: /^Delete template/ })).not.toBeInTheDocument();
  });
});
