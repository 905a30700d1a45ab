/** In a browser the API client's relative URLs ("/api/v1/...") resolve against the page;
 * Node's Request has no page. Tests build them against http://localhost instead. Must run
 * before @/api/client is first imported (it captures Request). */
const NodeRequest = globalThis.Request;

if (!(NodeRequest as { resolvesRelative?: boolean }).resolvesRelative) {
  class RelativeRequest extends NodeRequest {
    static resolvesRelative = true;

    constructor(input: RequestInfo | URL, init?: RequestInit) {
      super(typeof input === "string" && input.startsWith("/") ? new URL(input, "http://localhost") : input, init);
    }
  }
  globalThis.Request = RelativeRequest;
}

export {};
