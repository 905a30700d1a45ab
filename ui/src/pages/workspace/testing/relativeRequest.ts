/** Node's ``Request`` refuses a path without an origin ("/api/v1/me"), which a browser resolves
 * against the page. openapi-fetch keeps the ``Request`` it finds when the client is created,
 * so a test file imports this module before anything that imports ``@/api/client``. */
const PATCHED = Symbol.for("cm.test.page-request");
const patched = globalThis as typeof globalThis & { [PATCHED]?: boolean };

if (!patched[PATCHED]) {
  const NodeRequest = globalThis.Request;
  globalThis.Request = class PageRequest extends NodeRequest {
    constructor(input: RequestInfo | URL, init?: RequestInit) {
      const resolved =
        typeof input === "string" && input.startsWith("/")
          ? new URL(input, globalThis.location.origin).href
          : input;
      super(resolved, init);
    }
  };
  patched[PATCHED] = true;
}
