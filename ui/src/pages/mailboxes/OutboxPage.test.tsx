import { screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { renderPage } from "@/test/render";
import { json, page, problem, stubApi, type Call } from "@/test/server";
import { messageLinks } from "./links";
import OutboxPage from "./OutboxPage";

const UNSUBSCRIBE = "http://127.0.0.1:8000/u/tok-123";
const CLICK = "http://127.0.0.1:8000/t/c/click-1";

const MESSAGE = {
  id: "0190a1b2-0000-7000-8000-000000000001",
  to: "nova@music.example",
  subject: "Hi Nova",
  date: "2025-05-02T09:00:00Z",
  size: 2048,
  headers: [
    { name: "From", value: "Mia <mia@label.example>" },
    { name: "List-Unsubscribe", value: `<${UNSUBSCRIBE}>` },
  ],
  text: `Hello Nova,\nListen: https://label.example/release.\n\nUnsubscribe: ${UNSUBSCRIBE}\n`,
  html: `<p>Hello Nova, <a href="${CLICK}">listen</a>.</p><p><a href="${UNSUBSCRIBE}">Unsubscribe</a></p><img src="http://127.0.0.1:8000/t/o/open-1" alt="">`,
};

function list({ query }: Call) {
  if (query.get("cursor")) return json(page([{ ...MESSAGE, id: "older", subject: "Older one" }]));
  return json(page([MESSAGE], MESSAGE.id));
}

function open(url = "/outbox") {
  return renderPage(<OutboxPage />, { path: "/outbox", url });
}

describe("the outbox", () => {
  it("lists messages a page at a time and opens one", async () => {
    const calls = stubApi({ "GET /api/v1/outbox": list, [`GET /api/v1/outbox/${MESSAGE.id}`]: MESSAGE });
    const { user } = open();

    const messages = await screen.findByRole("list", { name: "Outbox messages" });
    await user.click(within(messages).getByRole("link", { name: /Hi Nova/ }));
    expect(await screen.findByRole("heading", { name: "Hi Nova" })).toBeInTheDocument();
    expect(screen.getByTestId("outbox-text")).toHaveTextContent("Listen: https://label.example/release.");
    const frame = screen.getByTitle("HTML part of the message");
    expect(frame).toHaveAttribute("sandbox", "");
    expect(frame.getAttribute("srcdoc")).toContain("img-src data:");

    await user.click(screen.getByRole("button", { name: "Load more" }));
    expect(await screen.findByRole("link", { name: /Older one/ })).toBeInTheDocument();
    expect(calls.filter((call) => call.path === "/api/v1/outbox").map((call) => call.query.get("cursor"))).toEqual([
      null,
      MESSAGE.id,
    ]);
  });

  it("shows the unsubscribe link as text to copy", async () => {
    stubApi({ "GET /api/v1/outbox": list, [`GET /api/v1/outbox/${MESSAGE.id}`]: MESSAGE });
    open(`/outbox?message=${MESSAGE.id}`);

    expect(await screen.findByLabelText("Unsubscribe link")).toHaveValue(UNSUBSCRIBE);
    expect(screen.getByRole("button", { name: "Copy Unsubscribe link" })).toBeInTheDocument();
    expect(screen.getByLabelText("Tracked link: listen (opening it counts a click)")).toHaveValue(CLICK);
  });

  it("says so when a message is no longer there", async () => {
    stubApi({ "GET /api/v1/outbox": page([]), "GET /api/v1/outbox/gone": problem(404, "outbox message not found") });
    open("/outbox?message=gone");

    expect(await screen.findByText("This message is not in the outbox")).toBeInTheDocument();
    expect(screen.getByText("The outbox is empty")).toBeInTheDocument();
  });
});

describe("messageLinks", () => {
  it("puts the unsubscribe link first, once, and leaves out the open pixel", () => {
    const links = messageLinks(MESSAGE);
    expect(links.map((link) => link.url)).toEqual([UNSUBSCRIBE, CLICK, "https://label.example/release"]);
    expect(links[0]).toMatchObject({ label: "Unsubscribe link", unsubscribe: true });
  });

  it("reads a mailto unsubscribe from the header", () => {
    const links = messageLinks({
      headers: [{ name: "list-unsubscribe", value: `<${UNSUBSCRIBE}>, <mailto:unsub@label.example?subject=stop>` }],
      text: null,
      html: null,
    });
    expect(links.map((link) => link.label)).toEqual(["Unsubscribe link", "Unsubscribe by email"]);
  });
});
