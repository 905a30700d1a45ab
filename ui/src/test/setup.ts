import "@testing-library/jest-dom/vitest";
import { afterEach, vi } from "vitest";
import { cleanup } from "@testing-library/react";

// Node's fetch resolves relative URLs ("/api/v1/...") against this origin, as a browser does
// against the page's.
(globalThis as Record<symbol, unknown>)[Symbol.for("undici.globalOrigin.1")] = new URL(
  window.location.origin,
);

afterEach(() => {
  cleanup();
  localStorage.clear();
  // The stand-in API of the test (test/server.ts) goes with it.
  vi.unstubAllGlobals();
});
