import { act, screen, waitFor, within } from "@testing-library/react";
import { artist, campaign, discoveryJob, JOB_ID } from "@/test/fixtures";
import { renderPage } from "@/test/render";
import { json, page, stubApi, type Routes } from "@/test/server";
import DiscoveryJobPage from "./DiscoveryJobPage";
import type { DiscoveryJobRead } from "./query";

const NINA = artist();
const OMAR = artist({ id: "10000000-0000-4000-8000-000000000002", name: "Omar Sol", permalink: "omarsol" });
const SPRING = campaign({ name: "Spring release" });

/** A job with every counter the page shows. */
function job(overrides: Partial<DiscoveryJobRead> = {}): DiscoveryJobRead {
  return discoveryJob({
    query: { terms: ["berlin techno"], genres: [], tags: [], seed_artists: [], country: "DE", max_artists: 100, max_depth: 1 },
    progress: {
      kept: 3,
      examined: 40,
      read: 35,
      filtered: 20,
      filtered_early: 2,
      skipped: 4,
      skipped_timeout: 3,
      skipped_not_found: 1,
      inserted: 2,
      contacts: 5,
      frontier: 17,
      scraper: { requests: 120, failures: 1 },
    },
    ...overrides,
  });
}

function result(a: typeof NINA, score: number) {
  return { artist: a, score, depth: 1, found_at: "2025-03-01T10:02:00Z" };
}

function routes(overrides: Routes = {}): Routes {
  return {
    [`GET /api/v1/discovery-jobs/${JOB_ID}`]: job(),
    [`GET /api/v1/discovery-jobs/${JOB_ID}/artists`]: page([result(NINA, 71.25), result(OMAR, 40)]),
    "GET /api/v1/campaigns": page([SPRING]),
    ...overrides,
  };
}

function renderJob() {
  return renderPage(<DiscoveryJobPage />, { path: "/discovery/:jobId", url: `/discovery/${JOB_ID}` });
}

describe("DiscoveryJobPage", () => {
  it("shows the job's progress and follows it when its queries are invalidated", async () => {
    let current = job();
    const calls = stubApi(routes({ [`GET /api/v1/discovery-jobs/${JOB_ID}`]: () => json(current) }));
    const { queryClient } = renderJob();

    expect(await screen.findByTestId("count-kept")).toHaveTextContent("3");
    expect(screen.getByTestId("job-status")).toHaveTextContent("Running");
    expect(screen.getByTestId("count-examined")).toHaveTextContent("40");
    expect(screen.getByTestId("count-read")).toHaveTextContent("35");
    expect(screen.getByTestId("count-filtered")).toHaveTextContent("22");
    expect(screen.getByTestId("count-requests")).toHaveTextContent("120");
    expect(screen.getByTestId("count-errors")).toHaveTextContent("5");
    expect(screen.getByTestId("count-contacts")).toHaveTextContent("5");
    expect(screen.getByTestId("count-frontier")).toHaveTextContent("17");
    expect(screen.getByRole("progressbar", { name: "Artists kept" })).toHaveAttribute("aria-valuenow", "3");
    expect(screen.getByText("timeout:")).toBeInTheDocument();
    expect(screen.getByRole("heading", { level: 1, name: "Discovery job" })).toBeInTheDocument();

    // What a live event does: every query under "discovery-jobs" is read again.
    current = job({
      status: "completed",
      finished_at: "2025-03-01T10:09:00Z",
      progress: { ...current.progress, kept: 9, examined: 130, scraper: { requests: 400, failures: 2 } },
    });
    const readsBefore = calls.filter((c) => c.path.endsWith("/artists")).length;
    await act(() => queryClient.invalidateQueries({ queryKey: ["discovery-jobs"] }));

    await waitFor(() => expect(screen.getByTestId("count-kept")).toHaveTextContent("9"));
    expect(screen.getByTestId("count-examined")).toHaveTextContent("130");
    expect(screen.getByTestId("count-requests")).toHaveTextContent("400");
    expect(screen.getByTestId("job-status")).toHaveTextContent("Completed");
    expect(screen.getByRole("progressbar", { name: "Artists kept" })).toHaveAttribute("aria-valuenow", "9");
    // The results were read again too.
    expect(calls.filter((c) => c.path.endsWith("/artists")).length).toBeGreaterThan(readsBefore);
    // A finished job cannot be cancelled.
    expect(screen.queryByRole("button", { name: "Cancel job" })).not.toBeInTheDocument();
  });

  it("polls a running job every 3 seconds, and stops once it has finished", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    try {
      let reads = 0;
      stubApi(
        routes({
          [`GET /api/v1/discovery-jobs/${JOB_ID}`]: () => {
            reads += 1;
            return json(reads >= 2 ? job({ status: "completed", progress: { kept: 8 } }) : job());
          },
        }),
      );
      renderJob();
      expect(await screen.findByTestId("count-kept")).toHaveTextContent("3");
      await act(() => vi.advanceTimersByTimeAsync(3_100));
      await waitFor(() => expect(screen.getByTestId("count-kept")).toHaveTextContent("8"));
      await act(() => vi.advanceTimersByTimeAsync(10_000));
      expect(reads).toBe(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it("cancels the job", async () => {
    let current = job();
    const calls = stubApi(
      routes({
        [`GET /api/v1/discovery-jobs/${JOB_ID}`]: () => json(current),
        [`POST /api/v1/discovery-jobs/${JOB_ID}/cancel`]: () => {
          current = job({ status: "cancelled", finished_at: "2025-03-01T10:06:00Z" });
          return json(current);
        },
      }),
    );
    const { user } = renderJob();
    await user.click(await screen.findByRole("button", { name: "Cancel job" }));
    await waitFor(() => expect(screen.getByTestId("job-status")).toHaveTextContent("Cancelled"));
    expect(screen.queryByRole("button", { name: "Cancel job" })).not.toBeInTheDocument();
    expect(calls.filter((c) => c.method === "POST").map((c) => c.path)).toEqual([
      `/api/v1/discovery-jobs/${JOB_ID}/cancel`,
    ]);
  });

  it("shows why a job failed", async () => {
    stubApi(
      routes({
        [`GET /api/v1/discovery-jobs/${JOB_ID}`]: job({
          status: "failed",
          error: "no artist could be read: 12 pages failed",
          finished_at: "2025-03-01T10:01:00Z",
        }),
        [`GET /api/v1/discovery-jobs/${JOB_ID}/artists`]: page([]),
      }),
    );
    renderJob();
    expect(await screen.findByRole("alert")).toHaveTextContent("no artist could be read: 12 pages failed");
    expect(await screen.findByText("This job kept no artists")).toBeInTheDocument();
  });

  it("lists the artists it kept and adds the selected ones to a campaign", async () => {
    const calls = stubApi(
      routes({
        [`POST /api/v1/campaigns/${SPRING.id}/artists`]: ({ body }) =>
          json({ id: "x", campaign_id: SPRING.id, artist_id: (body as { artist_id: string }).artist_id, status: "proposed", added_at: "2025-01-01T00:00:00Z" }, 201),
      }),
    );
    const { user } = renderJob();
    const table = await screen.findByRole("table", { name: "Artists this job kept, best score first" });
    expect(within(table).getByRole("link", { name: "Nina Berg" })).toHaveAttribute("href", `/artists/${NINA.id}`);
    expect(within(table).getAllByRole("row")[1]).toHaveTextContent("71.3");

    await user.click(within(table).getByRole("checkbox", { name: "Select Omar Sol" }));
    const form = screen.getByRole("form", { name: "Add to campaign" });
    await waitFor(() => expect(within(form).getByLabelText("Campaign")).toBeEnabled());
    await user.selectOptions(within(form).getByLabelText("Campaign"), "Spring release (draft)");
    await user.click(within(form).getByRole("button", { name: "Add to campaign" }));

    expect(await within(form).findByRole("status")).toHaveTextContent("Added 1 artist to Spring release.");
    expect(calls.filter((c) => c.method === "POST").map((c) => c.body)).toEqual([
      { artist_id: OMAR.id, status: "proposed" },
    ]);
  });

  it("lets viewers watch but not cancel or select", async () => {
    stubApi(routes(), { role: "viewer" });
    const { sessionReady } = renderJob();
    await screen.findByRole("table", { name: "Artists this job kept, best score first" });
    await sessionReady();
    expect(screen.queryByRole("button", { name: "Cancel job" })).not.toBeInTheDocument();
    expect(screen.queryByRole("checkbox")).not.toBeInTheDocument();
    expect(screen.queryByRole("form", { name: "Add to campaign" })).not.toBeInTheDocument();
  });
});
