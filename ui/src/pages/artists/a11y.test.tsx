/** The artist and discovery pages, fully drawn (results, forms, errors), run through axe:
 * labels, names, roles and heading order. */
import { screen, within } from "@testing-library/react";
import DiscoveryJobPage from "@/pages/discovery/DiscoveryJobPage";
import DiscoveryPage from "@/pages/discovery/DiscoveryPage";
import { artist, campaign, discoveryJob } from "@/test/fixtures";
import { axeViolations } from "@/test/axe";
import { renderPage } from "@/test/render";
import { page, stubApi } from "@/test/server";
import { USER_ID } from "@/test/session";
import ArtistPage from "./ArtistPage";
import ArtistsPage from "./ArtistsPage";

const NINA = artist({ verified: true });
const JOB = discoveryJob({
  query: { terms: ["berlin techno"], max_artists: 100, max_depth: 1, expand: ["related"] },
  progress: { kept: 3, examined: 40, skipped_timeout: 2, scraper: { requests: 50 } },
});

// In the app the Layout's <main> holds the page.
describe("accessibility of the artist and discovery pages", () => {
  it("the artists page, with results, the new artist form and its errors", async () => {
    stubApi({
      "GET /api/v1/artists": page([NINA], "more"),
      "GET /api/v1/campaigns": page([campaign()]),
    });
    const { user, sessionReady } = renderPage(<main><ArtistsPage /></main>, { path: "/artists" });
    await screen.findByRole("link", { name: "Nina Berg" });
    await sessionReady();
    await user.click(screen.getByRole("button", { name: "New artist" }));
    await user.click(within(screen.getByRole("form", { name: "New artist" })).getByRole("button", { name: "Create artist" }));
    expect(await axeViolations()).toEqual([]);
  });

  it("the artists page with the import form", async () => {
    stubApi({
      "GET /api/v1/artists": page([NINA]),
      "GET /api/v1/campaigns": page([]),
    });
    const { user, sessionReady } = renderPage(<main><ArtistsPage /></main>, { path: "/artists" });
    await screen.findByRole("link", { name: "Nina Berg" });
    await sessionReady();
    await user.click(screen.getByRole("button", { name: "Import CSV" }));
    expect(await axeViolations()).toEqual([]);
  });

  it("an artist's page", async () => {
    const base = `/api/v1/artists/${NINA.id}`;
    stubApi({
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
      "GET /api/v1/campaigns": page([campaign()]),
    });
    const { sessionReady } = renderPage(<main><ArtistPage /></main>, { path: "/artists/:artistId", url: `/artists/${NINA.id}` });
    await screen.findByText("Hello");
    await screen.findByText("a@b.example");
    await screen.findByText("Not enough history yet");
    await sessionReady();
    expect(await axeViolations()).toEqual([]);
  });

  it("the discovery page, with its form's errors and the job list", async () => {
    stubApi({ "GET /api/v1/discovery-jobs": page([JOB], "more") });
    const { user, sessionReady } = renderPage(<main><DiscoveryPage /></main>, { path: "/discovery" });
    await screen.findByRole("table", { name: "Discovery jobs" });
    await sessionReady();
    await user.click(screen.getByRole("button", { name: "Start discovery" }));
    await screen.findByText(/Give at least one of/);
    expect(await axeViolations()).toEqual([]);
  });

  it("a discovery job's page", async () => {
    stubApi({
      [`GET /api/v1/discovery-jobs/${JOB.id}`]: JOB,
      [`GET /api/v1/discovery-jobs/${JOB.id}/artists`]: {
        items: [{ artist: NINA, score: 50, depth: 0, found_at: "2025-03-01T10:02:00Z" }],
        next_cursor: null,
      },
      "GET /api/v1/campaigns": page([campaign()]),
    });
    const { sessionReady } = renderPage(<main><DiscoveryJobPage /></main>, { path: "/discovery/:jobId", url: `/discovery/${JOB.id}` });
    await screen.findByRole("link", { name: "Nina Berg" });
    await sessionReady();
    expect(await axeViolations()).toEqual([]);
  });
});
