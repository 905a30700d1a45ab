import { screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { emailTemplate } from "@/test/fixtures";
import { renderPage } from "@/test/render";
import { json, noContent, page, problem, stubApi, type Call } from "@/test/server";
import TemplatesPage from "./TemplatesPage";

function list({ query }: Call) {
  if (query.get("cursor") === "page-2") {
    return json(page([emailTemplate({ id: "t3", name: "Last chance", type: "follow_up" })]));
  }
  return json(
    page([emailTemplate({ id: "t1", name: "Welcome" }), emailTemplate({ id: "t2", name: "Nudge", type: "follow_up" })], "page-2"),
  );
}

function open() {
  return renderPage(<TemplatesPage />, { path: "/templates" });
}

describe("the templates list", () => {
  it("lists templates a page at a time", async () => {
    const calls = stubApi({ "GET /api/v1/email-templates": list });
    const { user } = open();

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
    const calls = stubApi({
      "GET /api/v1/email-templates": page([]),
      "POST /api/v1/email-templates": json(emailTemplate({ id: "t9", name: "Intro" }), 201),
    });
    const { user, url } = open();

    expect(await screen.findByText("No templates yet")).toBeInTheDocument();
    await user.click(await screen.findByRole("button", { name: "New template" }));
    await user.type(screen.getByLabelText("Name"), "Intro");
    await user.type(screen.getByLabelText("Subject"), "A release for you");
    await user.type(screen.getByLabelText("Body"), "Hello there");
    await user.click(screen.getByRole("button", { name: "Create template" }));

    await waitFor(() => expect(url()).toBe("/templates/t9"));
    expect(calls.find((call) => call.method === "POST")?.body).toEqual({
      name: "Intro",
      type: "initial",
      subject: "A release for you",
      body_text: "Hello there",
      body_html: "",
    });
  });

  it("shows the server's refusal of a new template on its field", async () => {
    stubApi({
      "GET /api/v1/email-templates": page([]),
      "POST /api/v1/email-templates": problem(422, "the template does not work: subject line 1: unexpected '}'", [
        { field: "subject", message: "line 1: unexpected '}'" },
      ]),
    });
    const { user } = open();

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
    let deletes = 0;
    const calls = stubApi({
      "GET /api/v1/email-templates": list,
      "DELETE /api/v1/email-templates/t1": () =>
        ++deletes === 1 ? problem(409, "the template is used by outreach campaign Spring push") : noContent(),
    });
    const { user } = open();

    await user.click(await screen.findByRole("button", { name: "Delete template Welcome" }));
    const confirm = screen.getByRole("alertdialog", { name: "Delete the template “Welcome”?" });
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
    stubApi({ "GET /api/v1/email-templates": list }, { role: "viewer" });
    const { sessionReady } = open();
    await sessionReady();

    expect(await screen.findByRole("link", { name: "Welcome" })).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "New template" })).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: /^Delete template/ })).not.toBeInTheDocument();
  });
});
