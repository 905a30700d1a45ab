/** The artist and discovery pages, fully drawn (results, forms, errors), run through axe:
 * labels, names, roles and heading order. */
import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import axe from "axe-core";
import DiscoveryJobPage from "@/pages/discovery/DiscoveryJobPage";
import DiscoveryPage from "@/pages/discovery/DiscoveryPage";
import ArtistPage from "./ArtistPage";
import ArtistsPage from "./ArtistsPage";
import { artist, campaign, mockApi, renderAt, roleKnown, USER_ID } from "./testing";

async function violations(): Promise<string[]> {
  const results = await axe.run(document.body, {
    // jsdom lays nothing out, so contrast cannot be measured here.
    rules: { "color-contrast": { enabled: false } },
  });
  return results.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}

const NINA = artist({ verified: true });
const JOB = {
  id: "30000000-0000-4000-8000-000000000001",
  status: "running",
  query: { terms: ["berlin techno"], max_artists: 100, max_depth: 1, expand: ["related"] },
  progress: { kept: 3, examined: 40, skipped_timeout: 2, scraper: { requests: 50 } },
  error: null,
  created_by: null,
  created_at: "2025-03-01T10:00:00Z",
  updated_at: "2025-03-01T10:05:00Z",
  started_at: "2025-03-01T10:00:01Z",
  finished_at: null,
};

// In the app the Layout's <main> holds the page.
describe("accessibility of the artist and discovery pages", () => {
  afterEach(() => vi.unstubAllGlobals());

  it("the artists page, with results, the new artist form and its errors", async () => {
    const user = userEvent.setup({ delay: null });
    mockApi({
      "GET /api/v1/artists": { items: [NINA], next_cursor: "more" },
      "GET /api/v1/campaigns": { items: [campaign()], next_cursor: null },
    });
    const { queryClient } = renderAt(<main><ArtistsPage /></main>, { route: "/artists", path: "/artists" });
    await screen.findByRole("link", { name: "Nina Berg" });
    await roleKnown(queryClient);
    await user.click(screen.getByRole("button", { name: "New artist" }));
    await user.click(within(screen.getByRole("form", { name: "New artist" })).getByRole("button", { name: "Create artist" }));
    expect(await violations()).toEqual([]);
  });

  it("the artists page with the import form", async () => {
    const user = userEvent.setup({ delay: null });
    mockApi({
      "GET /api/v1/artists": { items: [NINA], next_cursor: null },
      "GET /api/v1/campaigns": { items: [], next_cursor: null },
    });
    const { queryClient } = renderAt(<main><ArtistsPage /></main>, { route: "/artists", path: "/artists" });
    await screen.findByRole("link", { name: "Nina Berg" });
    await roleKnown(queryClient);
    await user.click(screen.getByRole("button", { name: "Import CSV" }));
    expect(await violations()).toEqual([]);
  });

  it("an artist's page", async () => {
    const base = `/api/v1/artists/${NINA.id}`;
    mockApi({
      [`GET ${base}`]: {
        ...NINA,
        social_profiles: [{ platform: "instagram", username: "nina", url: "https://instagram.com/nina", followers_count: 5 }],
        contacts_count: 1,
        notes_count: 1,
      },
      [`GET ${base}/snapshots`]: [],
      [`GET ${base}/contacts`]: {
        items: [
          {
            id: "c1",
            artist_id: NINA.id,
            email: "a@b.example",
            source: "manual",
            consent_state: "granted",
            created_at: "2025-01-01T00:00:00Z",
            updated_at: "2025-01-01T00:00:00Z",
          },
        ],
        next_cursor: null,
      },
      [`GET ${base}/notes`]: {
        items: [
          {
            id: "n1",
            artist_id: NINA.id,
            author_id: USER_ID,
            body: "Hello",
            created_at: "2025-01-01T00:00:00Z",
            updated_at: "2025-01-02T00:00:00Z",
          },
        ],
        next_cursor: null,
      },
      "GET /api/v1/campaigns": { items: [campaign()], next_cursor: null },
    });
    const { queryClient } = renderAt(<main><ArtistPage /></main>, { route: `/artists/${NINA.id}`, path: "/artists/:artistId" });
    await screen.findByText("Hello");
    await screen.findByText("a@b.example");
    await screen.findByText("Not enough history yet");
    await roleKnown(queryClient);
    expect(await violations()).toEqual([]);
  });

  it("the discovery page, with its form's errors and the job list", async () => {
    const user = userEvent.setup({ delay: null });
    mockApi({ "GET /api/v1/discovery-jobs": { items: [JOB], next_cursor: "more" } });
    const { queryClient } = renderAt(<main><DiscoveryPage /></main>, { route: "/discovery", path: "/discovery" });
    await screen.findByRole("table", { name: "Discovery jobs" });
    await roleKnown(queryClient);
    await user.click(screen.getByRole("button", { name: "Start discovery" }));
    await screen.findByText(/Give at least one of/);
    expect(await violations()).toEqual([]);
  });

  it("a discovery job's page", async () => {
    mockApi({
      [`GET /api/v1/discovery-jobs/${JOB.id}`]: JOB,
      [`GET /api/v1/discovery-jobs/${JOB.id}/artists`]: {
        items: [{ artist: NINA, score: 50, depth: 0, found_at: "2025-03-01T10:02:00Z" }],
        next_cursor: null,
      },
      "GET /api/v1/campaigns": { items: [campaign()], next_cursor: null },
    });
    const { queryClient } = renderAt(<main><DiscoveryJobPage /></main>, { route: `/discovery/${JOB.id}`, path: "/discovery/:jobId" });
    await screen.findByRole("link", { name: "Nina Berg" });
    await roleKnown(queryClient);
    expect(await violations()).toEqual([]);
  });
});
