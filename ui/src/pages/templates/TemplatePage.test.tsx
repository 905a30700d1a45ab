import { screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { artist, emailTemplate } from "@/test/fixtures";
import { renderPage } from "@/test/render";
import { json, page, problem, stubApi, type Call, type Routes } from "@/test/server";
import TemplatePage from "./TemplatePage";

const TEMPLATE = emailTemplate({
  id: "t1",
  name: "Welcome",
  subject: "Hi {{ artist.name }}",
  body_text: "Hello {{ artist.name }}",
  body_html: "<p>Hello {{ artist.name }}</p>",
});

const VARIABLES = [
  { name: "artist.name", description: "The artist's display name." },
  { name: "artist.city", description: "Their city, if known." },
  { name: "contact.email", description: "The address the message goes to." },
  { name: "unsubscribe_url", description: "The recipient's unsubscribe link." },
];

const NAMES: Record<string, string> = { a1: "Nova", a2: "Kai" };
type Parts = Pick<typeof TEMPLATE, "subject" | "body_text" | "body_html">;
const PARTS = ["subject", "body_text", "body_html"] as const;

/** Stands in for the server's renderer: the saved template with the request's draft parts in
 * place of the saved ones, checked as saving would (a misspelt ``artst`` is an unknown variable
 * on its line; both bodies empty is refused); for Kai (no city) the saved text body fails. */
function renderer(saved: () => Parts) {
  return (call: Call) => {
    const { artist_id, ...draft } = call.body as { artist_id: string } & Partial<Parts>;
    const parts: Parts = { ...saved(), ...draft };
    const problems = PARTS.flatMap((part) => {
      const at = parts[part].indexOf("{{ artst");
      if (at < 0) return [];
      const line = parts[part].slice(0, at).split("\n").length;
      return [{ field: part, message: `line ${line}: unknown variable 'artst'; the context has artist, campaign` }];
    });
    if (problems.length > 0) {
      const detail = problems.map((p) => `${p.field} ${p.message}`).join("; ");
      return problem(422, `the template does not work: ${detail}`, problems);
    }
    if (!parts.body_text.trim() && !parts.body_html.trim()) {
      const message = "a template needs body_html, body_text or both";
      return problem(422, message, [
        { field: "body_html", message },
        { field: "body_text", message },
      ]);
    }
    if (artist_id === "a2" && draft.body_text === undefined) {
      return problem(422, "body_text line 1: 'None' has no attribute 'upper'", [
        { field: "body_text", message: "line 1: 'None' has no attribute 'upper'" },
      ]);
    }
    const name = NAMES[artist_id] ?? "?";
    const fill = (source: string) => source.replaceAll("{{ artist.name }}", name);
    return json({ subject: fill(parts.subject), text: fill(parts.body_text), html: fill(parts.body_html) });
  };
}

function routes(extra: Routes = {}, saved: () => Parts = () => TEMPLATE): Routes {
  return {
    "GET /api/v1/email-templates/variables": VARIABLES,
    "GET /api/v1/email-templates/t1": TEMPLATE,
    "GET /api/v1/artists": page([
      artist({ id: "a1", name: "Nova", permalink: "nova", city: "Berlin" }),
      artist({ id: "a2", name: "Kai", permalink: "kai", city: null, country: null }),
    ]),
    "GET /api/v1/campaigns": page([]),
    "POST /api/v1/email-templates/t1/preview": renderer(saved),
    ...extra,
  };
}

function open() {
  return renderPage(<TemplatePage />, { path: "/templates/:templateId", url: "/templates/t1" });
}

function previewBodies(calls: Call[]) {
  return calls.filter((call) => call.path.endsWith("/preview")).map((call) => call.body);
}

describe("the template editor", () => {
  it("renders what is typed for the chosen artist, once typing pauses", async () => {
    const calls = stubApi(routes());
    const { user } = open();

    expect(await screen.findByTestId("preview-subject", {}, { timeout: 2000 })).toHaveTextContent("Hi Nova");
    expect(screen.getByTestId("preview-text")).toHaveTextContent("Hello Nova");
    expect(screen.getByText("The saved template, as Nova would get it.")).toBeInTheDocument();
    expect(screen.getByTitle("HTML preview")).toHaveAttribute("sandbox", "");

    const body = screen.getByLabelText("Text body");
    await user.click(body);
    await user.keyboard(" and welcome");
    await waitFor(() => expect(screen.getByTestId("preview-text")).toHaveTextContent("Hello Nova and welcome"), {
      timeout: 2000,
    });
    expect(screen.getByText("Your unsaved changes, as Nova would get them.")).toBeInTheDocument();
    expect(screen.getByTestId("preview-subject")).toHaveTextContent("Hi Nova");
    expect(screen.queryByText(/Save to see your changes/)).not.toBeInTheDocument();
    // One request for the whole burst of typing, with only the part that changed.
    expect(previewBodies(calls)).toEqual([
      { artist_id: "a1" },
      { artist_id: "a1", body_text: "Hello {{ artist.name }} and welcome" },
    ]);
    expect(body).toHaveValue("Hello {{ artist.name }} and welcome");
  });

  it("shows the server's reason for a draft that does not render, keeping what was typed", async () => {
    const calls = stubApi(routes());
    const { user } = open();

    await screen.findByTestId("preview-subject", {}, { timeout: 2000 });
    const body = screen.getByLabelText("Text body");
    await user.click(body);
    await user.keyboard("{Enter}");
    await user.paste("{{ artst.name }}");

    const heading = await screen.findByText("Your draft does not render for Nova:", {}, { timeout: 2000 });
    const panel = screen.getByTestId("preview-problem");
    expect(panel).toContainElement(heading);
    expect(panel).toHaveTextContent("Text body: line 2: unknown variable 'artst'");
    expect(body).toHaveValue("Hello {{ artist.name }}\n{{ artst.name }}");
    // A hint on the field, not an error: saving is still the user's call.
    expect(body).toHaveAccessibleDescription(/^Preview: line 2: unknown variable 'artst'/);
    expect(body).not.toHaveAttribute("aria-invalid");
    expect(screen.getByRole("button", { name: "Save template" })).toBeEnabled();
    // The last render that worked stays, dimmed, under the problem.
    expect(screen.getByText("The last version that rendered:")).toBeInTheDocument();
    expect(screen.getByTestId("preview-stale")).toHaveTextContent("Hello Nova");
    expect(previewBodies(calls).at(-1)).toEqual({ artist_id: "a1", body_text: "Hello {{ artist.name }}\n{{ artst.name }}" });

    await user.keyboard("{Backspace>10}");
    await user.keyboard("ist.name }}");
    await waitFor(() => expect(screen.getByTestId("preview-text")).toHaveTextContent("Hello Nova Nova"), { timeout: 2000 });
    expect(screen.queryByTestId("preview-problem")).not.toBeInTheDocument();
    expect(body).toHaveAccessibleDescription("The plain-text part. Left empty, sending derives it from the HTML body.");
  });

  it("shows the saved template's render error for one artist, and not another artist's render", async () => {
    const calls = stubApi(routes());
    const { user } = open();

    await screen.findByTestId("preview-subject", {}, { timeout: 2000 });
    await user.selectOptions(screen.getByLabelText("Preview for"), "a2");
    const failure = await screen.findByText("This template does not render for Kai:", {}, { timeout: 2000 });
    expect(screen.getByTestId("preview-problem")).toContainElement(failure);
    expect(screen.getByTestId("preview-problem")).toHaveTextContent("Text body: line 1: 'None' has no attribute 'upper'");
    expect(screen.queryByTestId("preview-subject")).not.toBeInTheDocument();
    expect(previewBodies(calls)).toEqual([{ artist_id: "a1" }, { artist_id: "a2" }]);
  });

  it("says what is missing instead of rendering a draft the server would refuse", async () => {
    const calls = stubApi(routes());
    const { user } = open();

    await screen.findByTestId("preview-subject", {}, { timeout: 2000 });
    await user.clear(screen.getByLabelText("Subject"));
    expect(await screen.findByText("Write a subject to see the preview.", {}, { timeout: 2000 })).toBeInTheDocument();
    expect(previewBodies(calls)).toEqual([{ artist_id: "a1" }]);

    await user.type(screen.getByLabelText("Subject"), "Yo");
    await user.clear(screen.getByLabelText("Text body"));
    await user.clear(screen.getByLabelText("HTML body"));
    const panel = await screen.findByTestId("preview-problem", {}, { timeout: 2000 });
    expect(panel).toHaveTextContent("Text body: a template needs body_html, body_text or both");
    expect(panel).toHaveTextContent("HTML body: a template needs body_html, body_text or both");
    expect(screen.getByLabelText("HTML body")).toHaveAccessibleDescription(
      "Preview: a template needs body_html, body_text or both",
    );
    expect(previewBodies(calls).at(-1)).toEqual({ artist_id: "a1", subject: "Yo", body_text: "", body_html: "" });
  });

  it("shows a part that does not compile on its field when saving, keeping the typed text", async () => {
    const calls = stubApi(
      routes({
        "PATCH /api/v1/email-templates/t1": problem(
          422,
          "the template does not work: body_text line 2: unknown variable 'artst'",
          [{ field: "body_text", message: "line 2: unknown variable 'artst'; the context has artist, campaign" }],
        ),
      }),
    );
    const { user } = open();

    const body = await screen.findByLabelText("Text body");
    await user.click(body);
    await user.keyboard("{Enter}");
    await user.paste("{{ artst.name }}");
    await user.click(screen.getByRole("button", { name: "Save template" }));

    await waitFor(() => expect(body).toHaveAttribute("aria-invalid", "true"));
    expect(body).toHaveAccessibleDescription("line 2: unknown variable 'artst'; the context has artist, campaign");
    expect(body).toHaveValue("Hello {{ artist.name }}\n{{ artst.name }}");
    const patch = calls.find((call) => call.method === "PATCH");
    expect(patch?.body).toEqual({ body_text: "Hello {{ artist.name }}\n{{ artst.name }}" });
  });

  it("saves the changed parts and previews the saved version", async () => {
    let saved = { ...TEMPLATE };
    const calls = stubApi(
      routes(
        {
          "PATCH /api/v1/email-templates/t1": ({ body }) => {
            saved = { ...saved, ...(body as Partial<Parts>), updated_at: "2025-05-02T09:00:00Z" };
            return json(saved);
          },
        },
        () => saved,
      ),
    );
    const { user } = open();

    await screen.findByTestId("preview-subject", {}, { timeout: 2000 });
    const subject = screen.getByLabelText("Subject");
    await user.clear(subject);
    await user.paste("Hey {{ artist.name }}");
    await user.click(screen.getByRole("button", { name: "Save template" }));

    expect(await screen.findByText(/^Saved at/)).toBeInTheDocument();
    expect(calls.find((call) => call.method === "PATCH")?.body).toEqual({ subject: "Hey {{ artist.name }}" });
    expect(screen.getByRole("button", { name: "Save template" })).toBeDisabled();
    // Rendered again from the saved version, with no draft left to send.
    await waitFor(() => expect(previewBodies(calls).at(-1)).toEqual({ artist_id: "a1" }), { timeout: 2000 });
    await waitFor(() => expect(screen.getByTestId("preview-subject")).toHaveTextContent("Hey Nova"));
    expect(screen.getByText("The saved template, as Nova would get it.")).toBeInTheDocument();
  });

  it("inserts a variable at the cursor of the field last focused", async () => {
    stubApi(routes());
    const { user } = open();

    const body = (await screen.findByLabelText("Text body")) as HTMLTextAreaElement;
    await user.click(body);
    body.setSelectionRange(6, 6);
    await user.click(await screen.findByRole("button", { name: "Insert artist.city" }));
    expect(body).toHaveValue("Hello {{ artist.city }}{{ artist.name }}");
    expect(body).toHaveFocus();
    expect(body.selectionStart).toBe("Hello {{ artist.city }}".length);

    const subject = screen.getByLabelText("Subject") as HTMLInputElement;
    await user.click(subject);
    expect(screen.getByTestId("insert-target")).toHaveTextContent("Subject");
    subject.setSelectionRange(subject.value.length, subject.value.length);
    await user.click(screen.getByRole("button", { name: "Insert contact.email" }));
    expect(subject).toHaveValue("Hi {{ artist.name }}{{ contact.email }}");
    expect(screen.getByRole("button", { name: "Save template" })).toBeEnabled();
  });

  it("asks before leaving with unsaved changes", async () => {
    stubApi(routes());
    const { user, url } = open();

    await user.type(await screen.findByLabelText("Name"), " v2");
    await user.click(screen.getByRole("link", { name: "← All templates" }));
    const ask = await screen.findByRole("alertdialog", { name: /Leave without saving/ });
    await user.click(within(ask).getByRole("button", { name: "Stay" }));
    expect(screen.getByLabelText("Name")).toHaveValue("Welcome v2");

    await user.click(screen.getByRole("link", { name: "← All templates" }));
    await user.click(await screen.findByRole("button", { name: "Leave" }));
    await waitFor(() => expect(url()).toBe("/templates"));
  });

  it("lets a viewer read but not change the template", async () => {
    stubApi(routes(), { role: "viewer" });
    const { sessionReady } = open();
    await sessionReady();
    expect(await screen.findByTestId("preview-subject", {}, { timeout: 2000 })).toHaveTextContent("Hi Nova");
    const variables = screen.getByRole("region", { name: "Artist variables" });
    expect(within(variables).getByText("artist.name")).toBeInTheDocument();
    expect(screen.getByLabelText("Text body")).toHaveAttribute("readonly");
    expect(screen.getByLabelText("Subject")).toHaveAttribute("readonly");
    expect(screen.queryByRole("button", { name: "Save template" })).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: /^Insert / })).not.toBeInTheDocument();
  });

  it("says so when the template does not exist", async () => {
    stubApi({ "GET /api/v1/email-templates/t1": problem(404, "email template not found") });
    open();
    expect(await screen.findByRole("heading", { name: "Template not found" })).toBeInTheDocument();
  });
});
