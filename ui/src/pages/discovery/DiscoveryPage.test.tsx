import { screen, waitFor, within } from "@testing-library/react";
import { discoveryJob as job } from "@/test/fixtures";
import { renderPage } from "@/test/render";
import { json, page, problem, stubApi, type Routes } from "@/test/server";
import DiscoveryPage from "./DiscoveryPage";

function routes(overrides: Routes = {}): Routes {
  return { "GET /api/v1/discovery-jobs": page([]), ...overrides };
}

function renderDiscovery() {
  return renderPage(<DiscoveryPage />, { path: "/discovery" });
}

describe("DiscoveryPage", () => {
  it("checks the query as the server does before sending it", async () => {
    const calls = stubApi(routes());
    const { user } = renderDiscovery();
    const form = await screen.findByRole("form", { name: "New discovery job" });
    await user.click(within(form).getByRole("button", { name: "Start discovery" }));
    expect(within(form).getByLabelText("Search terms")).toHaveAccessibleDescription(
      "Give at least one of search terms, genres, tags, seed artists or a city to start from.",
    );

    await user.type(within(form).getByLabelText("Genres"), "techno");
    await user.type(within(form).getByLabelText("Country"), "D3");
    await user.type(within(form).getByLabelText("Minimum followers"), "5000");
    await user.type(within(form).getByLabelText("Maximum followers"), "100");
    await user.type(within(form).getByLabelText("Active within days"), "4000");
    await user.clear(within(form).getByLabelText("Maximum artists"));
    await user.type(within(form).getByLabelText("Maximum artists"), "0");
    await user.type(within(form).getByLabelText("Seed artists"), "https://soundcloud.com/discover");
    await user.click(within(form).getByRole("button", { name: "Start discovery" }));

    // Checked once the second submit has been validated: the start points are given now.
    await waitFor(() => expect(within(form).getByLabelText("Search terms")).not.toHaveAttribute("aria-invalid"));
    expect(within(form).getByLabelText("Country")).toHaveAccessibleDescription("Use a two-letter country code, e.g. DE.");
    expect(within(form).getByLabelText("Maximum followers")).toHaveAccessibleDescription(
      "Must not be less than the minimum.",
    );
    expect(within(form).getByLabelText("Active within days")).toHaveAccessibleDescription(
      "Enter a whole number from 1 to 3,650.",
    );
    expect(within(form).getByLabelText("Maximum artists")).toHaveAccessibleDescription(
      "Enter a whole number from 1 to 100,000.",
    );
    expect(within(form).getByLabelText("Seed artists")).toHaveAccessibleDescription(
      "https://soundcloud.com/discover is not a SoundCloud profile URL or permalink.",
    );
    expect(calls.some((c) => c.method === "POST")).toBe(false);
  });

  it("puts the server's 422 on the field it names", async () => {
    const calls = stubApi(
      routes({
        "POST /api/v1/discovery-jobs": () =>
          problem(422, "'https://evil.example/x' is not on soundcloud.com", [
            { field: "seed_artists", message: "'https://evil.example/x' is not on soundcloud.com" },
          ]),
      }),
    );
    const { user } = renderDiscovery();
    const form = await screen.findByRole("form", { name: "New discovery job" });
    await user.type(within(form).getByLabelText("Seed artists"), "https://evil.example/x");
    await user.click(within(form).getByRole("button", { name: "Start discovery" }));
    await waitFor(() =>
      expect(within(form).getByLabelText("Seed artists")).toHaveAccessibleDescription(
        "'https://evil.example/x' is not on soundcloud.com",
      ),
    );
    expect(within(form).getByLabelText("Seed artists")).toHaveAttribute("aria-invalid", "true");
    expect(calls.filter((c) => c.method === "POST")).toHaveLength(1);
  });

  it("says a refused start that names no field above the form", async () => {
    stubApi(
      routes({
        "POST /api/v1/discovery-jobs": () => problem(429, "this workspace already runs 2 discovery jobs"),
      }),
    );
    const { user } = renderDiscovery();
    const form = await screen.findByRole("form", { name: "New discovery job" });
    await user.type(within(form).getByLabelText("City"), "Leipzig");
    await user.click(within(form).getByRole("button", { name: "Start discovery" }));
    expect(await within(form).findByRole("alert")).toHaveTextContent(
      "this workspace already runs 2 discovery jobs Wait for a running job to finish, or cancel one.",
    );
  });

  it("starts a job with the whole query and opens it", async () => {
    const calls = stubApi(routes({ "POST /api/v1/discovery-jobs": () => json(job({ id: "new-job" }), 201) }));
    const { user, url } = renderDiscovery();
    const form = await screen.findByRole("form", { name: "New discovery job" });
    await user.type(within(form).getByLabelText("Search terms"), "berlin techno, dark  disco");
    await user.type(within(form).getByLabelText("Genres"), "techno,house,techno");
    await user.type(within(form).getByLabelText("Tags"), "vinyl");
    await user.type(within(form).getByLabelText("Seed artists"), "https://soundcloud.com/ninaberg\nomarsol");
    await user.type(within(form).getByLabelText("City"), " Berlin ");
    await user.type(within(form).getByLabelText("Country"), "de");
    await user.type(within(form).getByLabelText("Minimum followers"), "100");
    await user.type(within(form).getByLabelText("Maximum followers"), "20000");
    await user.type(within(form).getByLabelText("Active within days"), "90");
    await user.clear(within(form).getByLabelText("Maximum artists"));
    await user.type(within(form).getByLabelText("Maximum artists"), "250");
    await user.selectOptions(within(form).getByLabelText("Maximum depth"), "2");
    await user.click(within(form).getByLabelText("Who they follow"));
    await user.click(within(form).getByRole("button", { name: "Start discovery" }));

    await waitFor(() => expect(url()).toBe("/discovery/new-job"));
    expect(calls.find((c) => c.method === "POST")!.body).toEqual({
      terms: ["berlin techno", "dark disco"],
      genres: ["techno", "house"],
      tags: ["vinyl"],
      seed_artists: ["https://soundcloud.com/ninaberg", "omarsol"],
      city: "Berlin",
      country: "DE",
      min_followers: 100,
      max_followers: 20000,
      active_within_days: 90,
      max_artists: 250,
      max_depth: 2,
      expand: ["related"],
    });
  });

  it("lists jobs with their progress and cancels a running one", async () => {
    const running = job();
    const done = job({
      id: "30000000-0000-4000-8000-000000000002",
      status: "completed",
      query: { genres: ["house"], city: "Paris", max_artists: 50 },
      progress: { kept: 50, examined: 300 },
      finished_at: "2025-03-01T11:00:00Z",
    });
    const calls = stubApi(
      routes({
        "GET /api/v1/discovery-jobs": page([running, done]),
        [`POST /api/v1/discovery-jobs/${running.id}/cancel`]: () => json({ ...running, status: "cancelled" }),
      }),
    );
    const { user } = renderDiscovery();
    const table = await screen.findByRole("table", { name: "Discovery jobs" });
    const first = within(table).getByRole("link", { name: "terms: berlin techno" });
    expect(first).toHaveAttribute("href", `/discovery/${running.id}`);
    expect(within(table).getByRole("link", { name: "genres: house · in Paris" })).toBeInTheDocument();
    const rows = within(table).getAllByRole("row");
    expect(rows[1]).toHaveTextContent("Running");
    expect(rows[1]).toHaveTextContent("12 of 200 kept");
    expect(rows[2]).toHaveTextContent("Completed");
    // Only a job under way can be cancelled.
    expect(within(rows[2]!).queryByRole("button")).not.toBeInTheDocument();

    await user.click(within(rows[1]!).getByRole("button", { name: "Cancel job terms: berlin techno" }));
    await waitFor(() =>
      expect(calls.some((c) => c.method === "POST" && c.path.endsWith("/cancel"))).toBe(true),
    );
  });

  it("filters jobs by status", async () => {
    const calls = stubApi(routes());
    const { user } = renderDiscovery();
    expect(await screen.findByText("No discovery jobs yet")).toBeInTheDocument();
    await user.selectOptions(screen.getByLabelText("Status"), "Failed");
    expect(await screen.findByText("No jobs with this status")).toBeInTheDocument();
    const lists = calls.filter((c) => c.method === "GET" && c.path === "/api/v1/discovery-jobs");
    expect(lists.at(-1)!.query.get("status")).toBe("failed");
  });

  it("lets viewers follow jobs but not start them", async () => {
    stubApi(routes({ "GET /api/v1/discovery-jobs": page([job()]) }), { role: "viewer" });
    const { sessionReady } = renderDiscovery();
    await screen.findByRole("table", { name: "Discovery jobs" });
    await sessionReady();
    expect(screen.queryByRole("form", { name: "New discovery job" })).not.toBeInTheDocument();
    expect(screen.getByText(/starting one takes an editor/)).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: /Cancel/ })).not.toBeInTheDocument();
  });
});
