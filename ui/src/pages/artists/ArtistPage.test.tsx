import { screen, waitFor, within } from "@testing-library/react";
import { artist, campaign } from "@/test/fixtures";
import { renderPage } from "@/test/render";
import { json, noContent, page, problem, stubApi, type Routes } from "@/test/server";
import { USER_ID } from "@/test/session";
import ArtistPage from "./ArtistPage";

const NINA = artist({ description: "Berlin techno.\nBookings: see links." });
const SPRING = campaign({ name: "Spring release" });
const BASE = `/api/v1/artists/${NINA.id}`;
const DETAIL = {
  ...NINA,
  verified: true,
  social_profiles: [
    { platform: "instagram", username: "nina.berg", url: "https://instagram.com/nina.berg", followers_count: 800 },
    { platform: "website", username: null, url: "javascript:alert(1)", followers_count: null },
  ],
  contacts_count: 1,
  notes_count: 1,
};
const CONTACT = {
  id: "c1",
  artist_id: NINA.id,
  email: "booking@nina.example",
  source: "description",
  consent_state: "public_business",
  created_at: "2025-02-01T10:00:00Z",
  updated_at: "2025-02-01T10:00:00Z",
};
const NOTE = {
  id: "n1",
  artist_id: NINA.id,
  author_id: USER_ID,
  body: "Met at Panorama Bar.",
  created_at: "2025-02-02T10:00:00Z",
  updated_at: "2025-02-02T10:00:00Z",
};

function routes(overrides: Routes = {}): Routes {
  return {
    [`GET ${BASE}`]: DETAIL,
    [`GET ${BASE}/snapshots`]: [
      { followers: 10_000, tracks: 30, captured_at: "2025-01-01T00:00:00Z" },
      { followers: 12_345, tracks: 40, captured_at: "2025-03-01T00:00:00Z" },
    ],
    [`GET ${BASE}/contacts`]: page([CONTACT]),
    [`GET ${BASE}/notes`]: page([NOTE]),
    "GET /api/v1/campaigns": page([SPRING]),
    ...overrides,
  };
}

function renderArtist() {
  return renderPage(<ArtistPage />, { path: "/artists/:artistId", url: `/artists/${NINA.id}` });
}

describe("ArtistPage", () => {
  it("shows the profile, stats, links and follower history", async () => {
    stubApi(routes());
    renderArtist();
    expect(await screen.findByRole("heading", { level: 1, name: "Nina Berg" })).toBeInTheDocument();
    expect(screen.getByText("NB")).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "SoundCloud profile of Nina Berg: soundcloud.com/ninaberg (opens in a new tab)" })).toHaveAttribute(
      "href",
      "https://soundcloud.com/ninaberg",
    );
    expect(screen.getByTestId("stat-followers")).toHaveTextContent(/12.345/);
    expect(screen.getByTestId("stat-contacts")).toHaveTextContent("1");
    expect(screen.getByRole("link", { name: "Instagram: nina.berg (opens in a new tab)" })).toHaveAttribute(
      "href",
      "https://instagram.com/nina.berg",
    );
    // A scraped link that is not http(s) never becomes a link.
    expect(document.querySelector('a[href^="javascript:"]')).toBeNull();
    expect(await screen.findByTestId("follower-summary")).toHaveTextContent(/From 10.000 followers .*\(up 2.345\)/);
    expect(screen.getByRole("img", { name: /Follower history chart/ })).toBeInTheDocument();
  });

  it("explains the empty chart when there is one reading", async () => {
    stubApi(routes({ [`GET ${BASE}/snapshots`]: [{ followers: 5, tracks: 1, captured_at: "2025-01-01T00:00:00Z" }] }));
    renderArtist();
    expect(await screen.findByText("Not enough history yet")).toBeInTheDocument();
    expect(screen.getByText(/one so far/)).toBeInTheDocument();
    expect(screen.queryByRole("img", { name: /Follower history chart/ })).not.toBeInTheDocument();
  });

  it("adds a note and shows the list read again", async () => {
    const notes = [NOTE];
    const calls = stubApi(
      routes({
        [`GET ${BASE}/notes`]: () => json(page(notes)),
        [`POST ${BASE}/notes`]: ({ body }) => {
          const note = { ...NOTE, id: "n2", body: (body as { body: string }).body };
          notes.unshift(note);
          return json(note, 201);
        },
      }),
    );
    const { user } = renderArtist();
    const form = await screen.findByRole("form", { name: "Add note" });
    await user.click(within(form).getByRole("button", { name: "Add note" }));
    expect(within(form).getByLabelText("New note")).toHaveAccessibleDescription("Write something first.");

    await user.type(within(form).getByLabelText("New note"), "Wants a vinyl release.");
    await user.click(within(form).getByRole("button", { name: "Add note" }));
    const list = await screen.findByRole("list", { name: "Notes" });
    expect(await within(list).findByText("Wants a vinyl release.")).toBeInTheDocument();
    expect(within(form).getByLabelText("New note")).toHaveValue("");
    expect(calls.find((c) => c.method === "POST")!.body).toEqual({ body: "Wants a vinyl release." });
    expect(within(list).getAllByText(/By you/)).toHaveLength(2);
  });

  it("edits a note", async () => {
    const calls = stubApi(routes({ [`PATCH ${BASE}/notes/n1`]: { ...NOTE, body: "Met at Tresor." } }));
    const { user } = renderArtist();
    const list = await screen.findByRole("list", { name: "Notes" });
    await user.click(within(list).getByRole("button", { name: "Edit note" }));
    const form = within(list).getByRole("form", { name: "Edit note" });
    const text = within(form).getByLabelText("Note text");
    await user.clear(text);
    await user.type(text, "Met at Tresor.");
    await user.click(within(form).getByRole("button", { name: "Save note" }));
    await waitFor(() => expect(calls.some((c) => c.method === "PATCH")).toBe(true));
    expect(calls.find((c) => c.method === "PATCH")!.body).toEqual({ body: "Met at Tresor." });
  });

  it("deletes a contact only once confirmed", async () => {
    let contacts = [CONTACT];
    const calls = stubApi(
      routes({
        [`GET ${BASE}/contacts`]: () => json(page(contacts)),
        [`DELETE ${BASE}/contacts/c1`]: () => {
          contacts = [];
          return noContent();
        },
      }),
    );
    const { user } = renderArtist();
    await user.click(await screen.findByRole("button", { name: "Delete booking@nina.example" }));
    expect(calls.some((c) => c.method === "DELETE")).toBe(false);
    await user.click(screen.getByRole("button", { name: "Yes, delete" }));
    expect(await screen.findByText("No email contacts yet")).toBeInTheDocument();
    expect(calls.filter((c) => c.method === "DELETE").map((c) => c.path)).toEqual([`${BASE}/contacts/c1`]);
  });

  it("adds a contact and puts the server's objection on the email field", async () => {
    const calls = stubApi(
      routes({ [`POST ${BASE}/contacts`]: () =>
        problem(409, "booking@nina.example is already a contact of this artist") }),
    );
    const { user } = renderArtist();
    const form = await screen.findByRole("form", { name: "Add contact" });
    await user.type(within(form).getByLabelText("Email"), "not-an-email");
    await user.click(within(form).getByRole("button", { name: "Add contact" }));
    expect(within(form).getByLabelText("Email")).toHaveAccessibleDescription(
      "Enter an email address like name@example.com.",
    );
    await user.clear(within(form).getByLabelText("Email"));
    await user.type(within(form).getByLabelText("Email"), "booking@nina.example");
    await user.selectOptions(within(form).getByLabelText("Consent"), "Consent granted");
    await user.click(within(form).getByRole("button", { name: "Add contact" }));
    await waitFor(() =>
      expect(within(form).getByLabelText("Email")).toHaveAccessibleDescription(
        "booking@nina.example is already a contact of this artist",
      ),
    );
    expect(calls.find((c) => c.method === "POST")!.body).toEqual({
      email: "booking@nina.example",
      consent_state: "granted",
      source: "manual",
    });
  });

  it("adds the artist to a campaign", async () => {
    const calls = stubApi(
      routes({
        [`POST /api/v1/campaigns/${SPRING.id}/artists`]: () =>
          json({ id: "ca", campaign_id: SPRING.id, artist_id: NINA.id, status: "proposed", added_at: "2025-01-01T00:00:00Z" }, 201),
      }),
    );
    const { user } = renderArtist();
    const form = await screen.findByRole("form", { name: "Add to campaign" });
    await waitFor(() => expect(within(form).getByLabelText("Campaign")).toBeEnabled());
    await user.selectOptions(within(form).getByLabelText("Campaign"), "Spring release (draft)");
    await user.click(within(form).getByRole("button", { name: "Add to campaign" }));
    expect(await within(form).findByRole("status")).toHaveTextContent("Added 1 artist to Spring release.");
    expect(calls.find((c) => c.method === "POST")!.body).toEqual({ artist_id: NINA.id, status: "proposed" });
  });

  it("shows viewers the artist without edit controls", async () => {
    stubApi(routes(), { role: "viewer" });
    const { sessionReady } = renderArtist();
    expect(await screen.findByText("booking@nina.example")).toBeInTheDocument();
    expect(await screen.findByText("Met at Panorama Bar.")).toBeInTheDocument();
    await sessionReady();
    expect(screen.queryByRole("form", { name: "Add note" })).not.toBeInTheDocument();
    expect(screen.queryByRole("form", { name: "Add contact" })).not.toBeInTheDocument();
    expect(screen.queryByRole("form", { name: "Add to campaign" })).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Edit note" })).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: /Delete/ })).not.toBeInTheDocument();
  });

  it("says when the artist is not there", async () => {
    stubApi(routes({ [`GET ${BASE}`]: () => problem(404, `artist ${NINA.id} not found`) }));
    renderArtist();
    expect(await screen.findByRole("alert")).toHaveTextContent(`artist ${NINA.id} not found`);
    expect(screen.getByRole("link", { name: "Back to artists" })).toHaveAttribute("href", "/artists");
  });
});

describe("ArtistPage growth and watching", () => {
  it("shows growth over 7 and 30 days, and a dash when the history is too short", async () => {
    stubApi(routes({ [`GET ${BASE}`]: { ...DETAIL, growth_7d: 25, growth_7d_gain: 200 } }));
    renderArtist();
    const week = await screen.findByTestId("stat-growth-7d");
    expect(week).toHaveTextContent("+25%");
    expect(week).toHaveTextContent("+200 followers");
    expect(screen.getByTestId("stat-growth-30d")).toHaveTextContent("—, not enough history");
  });

  it("lets an editor watch the artist and shows the state the server then gives", async () => {
    let watched = false;
    const calls = stubApi(
      routes({
        [`GET ${BASE}`]: () => json({ ...DETAIL, watched }),
        [`PUT ${BASE}/watch`]: () => {
          watched = true;
          return noContent();
        },
        [`DELETE ${BASE}/watch`]: () => {
          watched = false;
          return noContent();
        },
      }),
    );
    const { user } = renderArtist();
    await user.click(await screen.findByRole("button", { name: "Watch Nina Berg" }));
    expect(await screen.findByRole("button", { name: "Unwatch Nina Berg" })).toBeInTheDocument();
    expect(screen.getByText("Watched")).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Unwatch Nina Berg" }));
    expect(await screen.findByRole("button", { name: "Watch Nina Berg" })).toBeInTheDocument();
    expect(calls.filter((c) => c.path === `${BASE}/watch`).map((c) => c.method)).toEqual(["PUT", "DELETE"]);
  });

  it("says why watching failed", async () => {
    stubApi(routes({ [`PUT ${BASE}/watch`]: () => problem(403, "your role cannot change workspace data") }));
    const { user } = renderArtist();
    await user.click(await screen.findByRole("button", { name: "Watch Nina Berg" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("Your role cannot change workspace data.");
  });

  it("shows viewers whether the artist is watched, with no control", async () => {
    stubApi(routes({ [`GET ${BASE}`]: { ...DETAIL, watched: true } }), { role: "viewer" });
    const { sessionReady } = renderArtist();
    expect(await screen.findByText("Watched")).toBeInTheDocument();
    await sessionReady();
    expect(screen.queryByRole("button", { name: /Watch/ })).not.toBeInTheDocument();
  });
});
