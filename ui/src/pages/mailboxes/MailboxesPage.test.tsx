import { screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { mailbox } from "@/test/fixtures";
import { renderPage } from "@/test/render";
import { json, page, problem, stubApi, type Routes } from "@/test/server";
import MailboxesPage from "./MailboxesPage";

const MAILBOX = mailbox({ id: "m1" });

function routes(extra: Routes = {}): Routes {
  return { "GET /api/v1/mailboxes": page([MAILBOX]), ...extra };
}

function open() {
  return renderPage(<MailboxesPage />, { path: "/mailboxes" });
}

describe("the mailboxes page", () => {
  it("shows each mailbox's server, sender, limits and window", async () => {
    stubApi(routes());
    open();

    const card = (await screen.findByRole("heading", { name: "Label outreach" })).closest("section")!;
    expect(card).toHaveTextContent("smtp.label.example:587");
    expect(card).toHaveTextContent("Mia <mia@label.example>");
    expect(card).toHaveTextContent("10 a minute, 100 a day (from 40, +2 a day), 60–180 s apart");
    expect(card).toHaveTextContent("09:00–17:00, Mon, Tue, Wed, Thu, Fri");
    expect(card).toHaveTextContent("password stored");
  });

  it("adds a mailbox, and shows the server's refusal on the field it names", async () => {
    let posts = 0;
    const calls = stubApi(
      routes({
        "POST /api/v1/mailboxes": () =>
          ++posts === 1
            ? problem(422, "host is a link-local address (where cloud metadata services answer)", [
                { field: "host", message: "is a link-local address (where cloud metadata services answer); the service will not connect to it" },
              ])
            : json({ ...MAILBOX, id: "m2", name: "Relay", host: "relay.label.example" }, 201),
      }),
    );
    const { user } = open();

    await user.click(await screen.findByRole("button", { name: "New mailbox" }));
    const form = screen.getByRole("form", { name: "Add a mailbox" });
    await user.type(within(form).getByLabelText("Name"), "Relay");
    await user.type(within(form).getByLabelText("SMTP host"), "169.254.169.254");
    await user.type(within(form).getByLabelText("Username"), "mia");
    await user.type(within(form).getByLabelText("Password"), "s3cret");
    await user.type(within(form).getByLabelText("From address"), "mia@label.example");
    await user.click(within(form).getByRole("button", { name: "Add mailbox" }));

    const host = within(form).getByLabelText("SMTP host");
    expect(await within(form).findByText(/is a link-local address/)).toBeInTheDocument();
    expect(host).toHaveAttribute("aria-invalid", "true");
    expect(host).toHaveAccessibleDescription(/the service will not connect to it/);
    expect(host).toHaveValue("169.254.169.254");
    expect(calls.find((call) => call.method === "POST")?.body).toEqual({
      name: "Relay",
      host: "169.254.169.254",
      port: 587,
      tls_mode: "starttls",
      username: "mia",
      password: "s3cret",
      from_name: "",
      from_email: "mia@label.example",
      per_minute: 10,
      daily_cap: 100,
      ramp_start: 40,
      ramp_increment: 2,
      gap_min_seconds: 60,
      gap_max_seconds: 180,
      window_start_hour: 9,
      window_end_hour: 17,
      window_weekdays: [1, 2, 3, 4, 5],
    });

    await user.clear(host);
    await user.type(host, "relay.label.example");
    await user.click(within(form).getByRole("button", { name: "Add mailbox" }));
    expect(await screen.findByText("Added mailbox Relay.")).toBeInTheDocument();
    expect(screen.queryByRole("form", { name: "Add a mailbox" })).not.toBeInTheDocument();
  });

  it("checks the limits before asking the server", async () => {
    const calls = stubApi(routes());
    const { user } = open();

    await user.click(await screen.findByRole("button", { name: "New mailbox" }));
    const form = screen.getByRole("form", { name: "Add a mailbox" });
    await user.clear(within(form).getByLabelText("Longest gap (seconds)"));
    await user.type(within(form).getByLabelText("Longest gap (seconds)"), "30");
    await user.clear(within(form).getByLabelText("Messages per minute"));
    await user.type(within(form).getByLabelText("Messages per minute"), "0");
    for (const day of ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]) {
      await user.click(within(form).getByRole("checkbox", { name: day }));
    }
    await user.click(within(form).getByRole("button", { name: "Add mailbox" }));

    expect(await within(form).findByText("Must not be less than the shortest gap")).toBeInTheDocument();
    expect(within(form).getByLabelText("Messages per minute")).toHaveAccessibleDescription("Must be from 1 to 60,000");
    expect(within(form).getByText("Pick at least one weekday")).toBeInTheDocument();
    expect(calls.some((call) => call.method === "POST")).toBe(false);
  });

  it("sends only what changed when a mailbox is edited", async () => {
    const calls = stubApi(
      routes({ "PATCH /api/v1/mailboxes/m1": { ...MAILBOX, daily_cap: 250, has_password: false } }),
    );
    const { user } = open();

    await user.click(await screen.findByRole("button", { name: "Edit mailbox Label outreach" }));
    const form = screen.getByRole("form", { name: "Edit mailbox Label outreach" });
    expect(within(form).getByLabelText("Password")).toHaveValue("");
    await user.clear(within(form).getByLabelText("Daily cap"));
    await user.type(within(form).getByLabelText("Daily cap"), "250");
    await user.click(within(form).getByRole("checkbox", { name: "Remove the stored password" }));
    expect(within(form).getByLabelText("Password")).toBeDisabled();
    await user.click(within(form).getByRole("button", { name: "Save mailbox" }));

    expect(await screen.findByText("Saved mailbox Label outreach.")).toBeInTheDocument();
    expect(calls.find((call) => call.method === "PATCH")?.body).toEqual({ daily_cap: 250, password: null });
  });

  it("shows the server's answer when the connection test fails", async () => {
    stubApi(
      routes({
        "POST /api/v1/mailboxes/m1/test": { ok: false, stage: "auth", code: 535, message: "5.7.8 Authentication credentials invalid" },
      }),
    );
    const { user } = open();

    await user.click(await screen.findByRole("button", { name: "Test connection of Label outreach" }));
    const failure = await screen.findByText(/The connection test failed at the login/);
    expect(failure.closest("[role=alert]")).toHaveTextContent(
      "The server said: 535 5.7.8 Authentication credentials invalid",
    );
  });

  it("says when the test passes, and when it could not run", async () => {
    let tests = 0;
    stubApi(
      routes({
        "POST /api/v1/mailboxes/m1/test": () =>
          ++tests === 1
            ? json({ ok: true, stage: "auth", code: 235, message: "2.7.0 Authentication successful" })
            : problem(429, "too many connection tests in this workspace; try again in a minute"),
      }),
    );
    const { user } = open();

    const button = await screen.findByRole("button", { name: "Test connection of Label outreach" });
    await user.click(button);
    expect(await screen.findByText(/Connected and logged in/)).toBeInTheDocument();
    await user.click(button);
    expect(
      await screen.findByText("Could not run the test: too many connection tests in this workspace; try again in a minute"),
    ).toBeInTheDocument();
  });

  it("shows why a mailbox in use cannot be deleted", async () => {
    stubApi(
      routes({ "DELETE /api/v1/mailboxes/m1": problem(409, "outreach campaign Spring push is sending through this mailbox") }),
    );
    const { user } = open();

    await user.click(await screen.findByRole("button", { name: "Delete mailbox Label outreach" }));
    await user.click(screen.getByRole("button", { name: "Yes, delete" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("outreach campaign Spring push is sending through this mailbox");
  });

  it("offers a viewer nothing to change", async () => {
    stubApi(routes(), { role: "viewer" });
    const { sessionReady } = open();
    await sessionReady();

    expect(await screen.findByRole("heading", { name: "Label outreach" })).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "New mailbox" })).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: /Test connection|Edit mailbox|Delete mailbox/ })).not.toBeInTheDocument();
  });
});
