import { screen, waitFor, within } from "@testing-library/react";
import { onTestFinished } from "vitest";
import { artist, campaign } from "@/test/fixtures";
import { renderPage } from "@/test/render";
import { json, page, problem, stubApi, type Call } from "@/test/server";
import ArtistsPage from "./ArtistsPage";

const NINA = artist();
const OMAR = artist({ id: "10000000-0000-4000-8000-000000000002", name: "Omar Sol", permalink: "omarsol", soundcloud_id: 102 });
const LEA = artist({ id: "10000000-0000-4000-8000-000000000003", name: "Lea Wolf", permalink: "leawolf", soundcloud_id: 103 });
const SPRING = campaign({ name: "Spring release" });

function searches(calls: Call[]): URLSearchParams[] {
  return calls.filter((c) => c.method === "GET" && c.path === "/api/v1/artists").map((c) => c.query);
}

function renderArtists(url = "/artists") {
  return renderPage(<ArtistsPage />, { path: "/artists", url });
}

describe("ArtistsPage", () => {
  it("sends every filter of the search form in the query string", async () => {
    const calls = stubApi({
      "GET /api/v1/artists": page([NINA]),
      "GET /api/v1/campaigns": page([]),
    });
    const { user } = renderArtists();
    expect(await screen.findByRole("link", { name: "Nina Berg" })).toHaveAttribute("href", `/artists/${NINA.id}`);

    const form = screen.getByRole("search", { name: "Search artists" });
    await user.type(within(form).getByLabelText("Search"), "nina");
    await user.type(within(form).getByLabelText("Genre"), "techno");
    await user.type(within(form).getByLabelText("City"), "Berlin");
    await user.type(within(form).getByLabelText("Country"), "de");
    await user.type(within(form).getByLabelText("Minimum followers"), "100");
    await user.type(within(form).getByLabelText("Maximum followers"), "50000");
    await user.selectOptions(within(form).getByLabelText("Verified"), "Verified only");
    await user.selectOptions(within(form).getByLabelText("Email contact"), "No email yet");
    await user.selectOptions(within(form).getByLabelText("Sort by"), "Name A–Z");
    await user.click(within(form).getByRole("button", { name: "Search" }));

    await waitFor(() => expect(searches(calls)).toHaveLength(2));
    const sent = searches(calls)[1]!;
    expect(Object.fromEntries(sent)).toEqual({
      q: "nina",
      genre: "techno",
      city: "Berlin",
      country: "DE",
      min_followers: "100",
      max_followers: "50000",
      verified: "true",
      has_contact: "false",
      sort: "name",
      limit: "50",
    });
  });

  it("searches with the filters in the page address, and clears them", async () => {
    const calls = stubApi({ "GET /api/v1/artists": page([]) }, { role: "viewer" });
    const { user } = renderArtists("/artists?genre=house&has_contact=true&sort=-created_at");
    expect(await screen.findByText("No artists match these filters")).toBeInTheDocument();
    expect(Object.fromEntries(searches(calls)[0]!)).toEqual({
      genre: "house",
      has_contact: "true",
      sort: "-created_at",
      limit: "50",
    });
    expect(screen.getByLabelText("Genre")).toHaveValue("house");

    await user.click(screen.getByRole("button", { name: "Clear filters" }));
    await waitFor(() => expect(searches(calls)).toHaveLength(2));
    expect(Object.fromEntries(searches(calls)[1]!)).toEqual({ sort: "-followers", limit: "50" });
    expect(screen.getByLabelText("Genre")).toHaveValue("");
  });

  it("refuses a follower range the server would refuse, without asking it", async () => {
    const calls = stubApi({ "GET /api/v1/artists": page([NINA]) }, { role: "viewer" });
    const { user } = renderArtists();
    await screen.findByRole("link", { name: "Nina Berg" });
    await user.type(screen.getByLabelText("Minimum followers"), "500");
    await user.type(screen.getByLabelText("Maximum followers"), "10");
    await user.type(screen.getByLabelText("Country"), "D1");
    await user.click(screen.getByRole("button", { name: "Search" }));
    expect(await screen.findByLabelText("Maximum followers")).toHaveAccessibleDescription(
      "Must not be less than the minimum.",
    );
    expect(screen.getByLabelText("Country")).toHaveAccessibleDescription("Use a two-letter country code, e.g. DE.");
    expect(searches(calls)).toHaveLength(1);
  });

  it("loads the next page with the cursor the last one gave", async () => {
    const calls = stubApi(
      {
        "GET /api/v1/artists": ({ url }) =>
          url.searchParams.get("cursor") === "page-2"
            ? json(page([OMAR]))
            : json(page([NINA], "page-2")),
      },
      { role: "viewer" },
    );
    const { user } = renderArtists();
    await user.click(await screen.findByRole("button", { name: "Load more artists" }));
    expect(await screen.findByRole("link", { name: "Omar Sol" })).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Nina Berg" })).toBeInTheDocument();
    expect(searches(calls)[1]!.get("cursor")).toBe("page-2");
    expect(screen.queryByRole("button", { name: "Load more artists" })).not.toBeInTheDocument();
  });

  it("adds the selected artists to the chosen campaign", async () => {
    const calls = stubApi({
      "GET /api/v1/artists": page([NINA, OMAR, LEA]),
      "GET /api/v1/campaigns": page([SPRING, campaign({ id: "c2", name: "Summer tour" })]),
      [`POST /api/v1/campaigns/${SPRING.id}/artists`]: ({ body }) =>
        (body as { artist_id: string }).artist_id === LEA.id
          ? problem(409, "artist already in this campaign")
          : json({ id: "x", campaign_id: SPRING.id, artist_id: (body as { artist_id: string }).artist_id, status: "proposed", added_at: "2025-01-01T00:00:00Z" }, 201),
    });
    const { user } = renderArtists();
    await user.click(await screen.findByRole("checkbox", { name: "Select Nina Berg" }));
    await user.click(screen.getByRole("checkbox", { name: "Select Lea Wolf" }));
    expect(screen.getByText("2 artists selected.")).toBeInTheDocument();

    const form = screen.getByRole("form", { name: "Add to campaign" });
    await waitFor(() => expect(within(form).getByLabelText("Campaign")).toBeEnabled());
    await user.click(within(form).getByRole("button", { name: "Add to campaign" }));
    expect(within(form).getByLabelText("Campaign")).toHaveAccessibleDescription("Choose a campaign.");

    await user.selectOptions(within(form).getByLabelText("Campaign"), "Spring release (draft)");
    await user.click(within(form).getByRole("button", { name: "Add to campaign" }));

    expect(await within(form).findByRole("status")).toHaveTextContent(
      "Added 1 artist to Spring release. 1 was in it already.",
    );
    const posted = calls
      .filter((c) => c.method === "POST")
      .map((c) => [c.path, (c.body as { artist_id: string }).artist_id]);
    expect(posted.sort()).toEqual(
      [
        [`/api/v1/campaigns/${SPRING.id}/artists`, NINA.id],
        [`/api/v1/campaigns/${SPRING.id}/artists`, LEA.id],
      ].sort(),
    );
    // Done: the selection is cleared.
    expect(screen.getByRole("checkbox", { name: "Select Nina Berg" })).not.toBeChecked();
  });

  it("selects every shown artist at once", async () => {
    stubApi({
      "GET /api/v1/artists": page([NINA, OMAR]),
      "GET /api/v1/campaigns": page([SPRING]),
    });
    const { user } = renderArtists();
    await user.click(await screen.findByRole("checkbox", { name: "Select all shown artists" }));
    expect(screen.getByRole("checkbox", { name: "Select Omar Sol" })).toBeChecked();
    expect(screen.getByText("2 artists selected.")).toBeInTheDocument();
  });

  it("shows viewers no edit controls", async () => {
    stubApi({ "GET /api/v1/artists": page([NINA]) }, { role: "viewer" });
    const { sessionReady } = renderArtists();
    await screen.findByRole("link", { name: "Nina Berg" });
    await sessionReady();
    expect(screen.getByRole("button", { name: "Export CSV" })).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "New artist" })).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Import CSV" })).not.toBeInTheDocument();
    expect(screen.queryByRole("checkbox")).not.toBeInTheDocument();
    expect(screen.queryByRole("form", { name: "Add to campaign" })).not.toBeInTheDocument();
  });

  it("creates an artist, and puts a duplicate SoundCloud id on its field", async () => {
    let attempts = 0;
    const calls = stubApi({
      "GET /api/v1/artists": page([]),
      "GET /api/v1/campaigns": page([]),
      "POST /api/v1/artists": ({ body }) => {
        attempts += 1;
        return attempts === 1
          ? problem(409, "an artist with soundcloud_id 555 is already listed")
          : json(artist({ id: "new-artist", ...(body as object) }), 201);
      },
    });
    const { user, url } = renderArtists();
    await user.click(await screen.findByRole("button", { name: "New artist" }));
    const form = screen.getByRole("form", { name: "New artist" });
    await user.click(within(form).getByRole("button", { name: "Create artist" }));
    expect(within(form).getByLabelText("Name")).toHaveAccessibleDescription("Enter the artist's name.");

    await user.type(within(form).getByLabelText("SoundCloud id"), "555");
    await user.type(within(form).getByLabelText("Name"), "Kai Moon");
    await user.type(within(form).getByLabelText("Permalink"), "kaimoon");
    await user.type(within(form).getByLabelText("Genres"), "house, disco");
    await user.type(within(form).getByLabelText("Country"), "fr");
    await user.click(within(form).getByLabelText("Verified on SoundCloud"));
    await user.click(within(form).getByRole("button", { name: "Create artist" }));

    expect(await within(form).findByText("an artist with soundcloud_id 555 is already listed")).toBeInTheDocument();
    expect(within(form).getByLabelText("SoundCloud id")).toHaveAttribute("aria-invalid", "true");
    const sent = calls.find((c) => c.method === "POST")!.body;
    expect(sent).toMatchObject({
      soundcloud_id: 555,
      name: "Kai Moon",
      permalink: "kaimoon",
      genres: ["house", "disco"],
      country: "FR",
      followers: 0,
      verified: true,
      city: null,
    });

    await user.click(within(form).getByRole("button", { name: "Create artist" }));
    await waitFor(() => expect(url()).toBe("/artists/new-artist"));
  });

  it("imports a CSV file and lists the rows it skipped", async () => {
    const calls = stubApi({
      "GET /api/v1/artists": page([]),
      "GET /api/v1/campaigns": page([]),
      "POST /api/v1/artists/import": {
        rows: 4,
        inserted: 2,
        existing: 1,
        skipped: 1,
        contacts_added: 3,
        errors: [{ row: 3, field: "followers", message: "Input should be a valid integer" }],
      },
    });
    const { user } = renderArtists();
    await user.click(await screen.findByRole("button", { name: "Import CSV" }));
    const form = screen.getByRole("form", { name: "Import artists from CSV" });
    await user.click(within(form).getByRole("button", { name: "Upload and import" }));
    expect(within(form).getByRole("alert")).toHaveTextContent("Choose a CSV file to import.");

    const file = new File(["soundcloud_id,name,permalink\n1,A,a\n"], "artists.csv", { type: "text/csv" });
    await user.upload(within(form).getByLabelText("CSV file"), file);
    await user.click(within(form).getByRole("button", { name: "Upload and import" }));

    expect(await screen.findByText("Import finished: 2 added, 1 skipped.")).toBeInTheDocument();
    expect(screen.getByTestId("import-existing")).toHaveTextContent("1");
    expect(screen.getByTestId("import-contacts")).toHaveTextContent("3");
    const problems = screen.getByRole("table", { name: "Rows not imported" });
    expect(within(problems).getByRole("row", { name: "3 followers Input should be a valid integer" })).toBeInTheDocument();

    const upload = calls.find((c) => c.path === "/api/v1/artists/import")!;
    expect(((upload.body as FormData).get("file") as File).name).toBe("artists.csv");
  });

  it("exports what the search finds and offers the file", async () => {
    // jsdom has no object URLs: the page's link is made from this one.
    const original = { createObjectURL: URL.createObjectURL, revokeObjectURL: URL.revokeObjectURL };
    Object.assign(URL, { createObjectURL: vi.fn(() => "blob:artists"), revokeObjectURL: vi.fn() });
    onTestFinished(() => void Object.assign(URL, original));
    const calls = stubApi(
      {
        "GET /api/v1/artists": page([NINA]),
        "POST /api/v1/artists/export": () =>
          json(
          {
            id: "e1",
            filename: "artists-20250101T000000Z.csv",
            rows: 1,
            created_at: "2025-01-01T00:00:00Z",
            download_url: "/api/v1/exports/e1/artists-20250101T000000Z.csv",
          },
          201,
        ),
        "GET /api/v1/exports/e1/artists-20250101T000000Z.csv": () =>
          new Response("soundcloud_id,name\n101,Nina Berg\n", { headers: { "content-type": "text/csv" } }),
      },
      { role: "viewer" },
    );
    const { user } = renderArtists("/artists?genre=techno");
    await screen.findByRole("link", { name: "Nina Berg" });
    await user.click(screen.getByRole("button", { name: "Export CSV" }));
    const link = await screen.findByRole("link", { name: "Download artists-20250101T000000Z.csv" });
    expect(link).toHaveAttribute("href", "blob:artists");
    expect(link).toHaveAttribute("download", "artists-20250101T000000Z.csv");
    const exported = calls.find((c) => c.path === "/api/v1/artists/export")!;
    expect(exported.query.get("genre")).toBe("techno");
    const download = calls.find((c) => c.path.startsWith("/api/v1/exports/"))!;
    expect(download.method).toBe("GET");
  });

  it("says why the search failed and offers to try again", async () => {
    let failing = true;
    stubApi(
      {
        "GET /api/v1/artists": () =>
          failing ? problem(422, "invalid fields: cursor") : json(page([NINA])),
      },
      { role: "viewer" },
    );
    const { user } = renderArtists();
    expect(await screen.findByText("invalid fields: cursor")).toBeInTheDocument();
    failing = false;
    await user.click(screen.getByRole("button", { name: "Try again" }));
    expect(await screen.findByRole("link", { name: "Nina Berg" })).toBeInTheDocument();
  });
});

describe("ArtistsPage growth", () => {
  it("searches by growth and watch state from the page address and shows growth columns", async () => {
    const rising = { ...NINA, growth_7d: 50, growth_7d_gain: 500, growth_30d: -10, growth_30d_gain: -30, watched: true };
    const calls = stubApi({ "GET /api/v1/artists": page([rising, OMAR]) }, { role: "viewer" });
    renderArtists("/artists?genre=techno&city=Berlin&min_growth_7d=10&watched=true&sort=-growth_7d");
    const table = await screen.findByRole("table");
    expect(Object.fromEntries(searches(calls)[0]!)).toEqual({
      genre: "techno",
      city: "Berlin",
      min_growth_7d: "10",
      watched: "true",
      sort: "-growth_7d",
      limit: "50",
    });
    expect(screen.getByLabelText("Sort by")).toHaveValue("-growth_7d");
    expect(screen.getByLabelText("Minimum 7-day growth (%)")).toHaveValue("10");
    expect(screen.getByLabelText("Watched")).toHaveValue("true");

    const [, ninaRow, omarRow] = within(table).getAllByRole("row");
    expect(within(ninaRow!).getByTitle("+500 followers in 7 days")).toHaveTextContent("+50%");
    expect(ninaRow).toHaveTextContent("+500 followers");
    expect(ninaRow).toHaveTextContent("-10%");
    expect(within(ninaRow!).getByText("Watched")).toBeInTheDocument();
    expect(omarRow).toHaveTextContent("—, not enough history");
  });

  it("puts growth filters and sorts from the form in the address, and refuses a loss past 100%", async () => {
    const calls = stubApi({ "GET /api/v1/artists": page([NINA]) }, { role: "viewer" });
    const { user } = renderArtists();
    await screen.findByRole("link", { name: "Nina Berg" });
    await user.type(screen.getByLabelText("Minimum 30-day growth (%)"), "-150");
    await user.click(screen.getByRole("button", { name: "Search" }));
    expect(await screen.findByLabelText("Minimum 30-day growth (%)")).toHaveAccessibleDescription(
      "Enter a percent from -100 up, e.g. 10 or 2.5.",
    );
    expect(searches(calls)).toHaveLength(1);

    await user.clear(screen.getByLabelText("Minimum 30-day growth (%)"));
    await user.type(screen.getByLabelText("Minimum 30-day growth (%)"), "2,5");
    await user.selectOptions(screen.getByLabelText("Sort by"), "Fastest growing, 30 days");
    await user.selectOptions(screen.getByLabelText("Watched"), "Not watched");
    await user.click(screen.getByRole("button", { name: "Search" }));
    await waitFor(() => expect(searches(calls)).toHaveLength(2));
    expect(Object.fromEntries(searches(calls)[1]!)).toEqual({
      min_growth_30d: "2.5",
      watched: "false",
      sort: "-growth_30d",
      limit: "50",
    });
  });
});
