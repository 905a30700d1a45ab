/** The links in an outbox message, as text a user can copy: the unsubscribe link first. */

export interface MessageLink {
  url: string;
  /** What the link is: "Unsubscribe link", "Tracked link to …", its text in the message. */
  label: string;
  unsubscribe: boolean;
}

interface MessageParts {
  headers: { name: string; value: string }[];
  text: string | null;
  html: string | null;
}

// Paths the service puts on CM_PUBLIC_URL (core/messages.py).
const UNSUBSCRIBE_PATH = "/u/";
const CLICK_PATH = "/t/c/";
const OPEN_PATH = "/t/o/";

// A URL in plain text ends at whitespace or at what usually closes around one.
const TEXT_URL = /\bhttps?:\/\/[^\s<>"'()[\]{}]+[^\s<>"'()[\]{}.,;:!?]/g;

function pathOf(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return "";
  }
}

/** ``List-Unsubscribe: <https://…/u/TOKEN>, <mailto:…>`` → the URIs between angle brackets. */
function headerUris(value: string): string[] {
  return [...value.matchAll(/<([^<>\s]+)>/g)].map((match) => match[1] ?? "").filter(Boolean);
}

function htmlLinks(html: string): { url: string; text: string }[] {
  // A parsed document is inert: no script runs and nothing loads.
  const document = new DOMParser().parseFromString(html, "text/html");
  return [...document.querySelectorAll("a[href], area[href]")].map((anchor) => ({
    url: anchor.getAttribute("href")?.trim() ?? "",
    text: (anchor.textContent ?? "").replace(/\s+/g, " ").trim(),
  }));
}

export function messageLinks(message: MessageParts): MessageLink[] {
  const found = new Map<string, MessageLink>();
  const add = (url: string, label: string, unsubscribe = false) => {
    if (!url || url.startsWith("#") || pathOf(url).startsWith(OPEN_PATH)) return;
    const known = found.get(url);
    if (known) {
      known.unsubscribe ||= unsubscribe;
      return;
    }
    found.set(url, { url, label, unsubscribe });
  };

  for (const header of message.headers) {
    if (header.name.toLowerCase() !== "list-unsubscribe") continue;
    for (const uri of headerUris(header.value)) {
      add(uri, uri.startsWith("mailto:") ? "Unsubscribe by email" : "Unsubscribe link", true);
    }
  }
  for (const { url, text } of message.html ? htmlLinks(message.html) : []) {
    const path = pathOf(url);
    if (path.startsWith(UNSUBSCRIBE_PATH)) add(url, "Unsubscribe link", true);
    else if (path.startsWith(CLICK_PATH)) add(url, `Tracked link${text ? `: ${text}` : ""} (opening it counts a click)`);
    else add(url, text || "Link in the HTML part");
  }
  for (const match of message.text?.matchAll(TEXT_URL) ?? []) {
    const url = match[0];
    add(url, pathOf(url).startsWith(UNSUBSCRIBE_PATH) ? "Unsubscribe link" : "Link in the text part", pathOf(url).startsWith(UNSUBSCRIBE_PATH));
  }
  return [...found.values()].sort((a, b) => Number(b.unsubscribe) - Number(a.unsubscribe));
}
