/** The workspace's live events (``/api/v1/ws``): one socket per signed-in tab, reconnected
 * with backoff, re-authenticated when the server closes it for an expired token (4401). Each
 * event invalidates the queries that show its entity, so every page updates without reloading. */
import type { QueryClient } from "@tanstack/react-query";
import { accessToken, refreshTokens } from "@/api/client";

export interface LiveEvent {
  id?: string;
  at?: string;
  type: string;
  entity_type?: string;
  entity_id?: string | null;
  data?: Record<string, unknown>;
}

export type LiveStatus = "connecting" | "live" | "offline";

/** Query-key roots showing each entity type (keys start with the API's resource name). */
const SHOWN_IN: Record<string, string[]> = {
  campaign: ["campaigns", "dashboard", "analytics"],
  transaction: ["transactions", "campaigns", "dashboard", "analytics"],
  artist: ["artists", "campaigns"],
  discovery_job: ["discovery-jobs", "dashboard", "artists"],
  // Progress events carry the records they settled.
  outreach_campaign: ["outreach-campaigns", "email-records", "dashboard", "analytics"],
  email_record: ["email-records", "outreach-campaigns", "dashboard", "analytics"],
  analytics_event: ["analytics", "dashboard"],
  member: ["members", "me"],
  invitation: ["invitations"],
  workspace: ["me", "workspaces"],
  suppression: ["suppressions"],
  mailbox: ["mailboxes"],
  email_template: ["email-templates"],
  export: [],
};

export function queryRootsFor(event: LiveEvent): string[] {
  const roots = SHOWN_IN[event.entity_type ?? ""] ?? [];
  // Every recorded change is in the audit log and the dashboard's recent activity.
  return [...new Set([...roots, "audit-log", "activity"])];
}

const MAX_BACKOFF_MS = 30_000;
// Many events in a burst (a batch of sends) refresh each query once.
const INVALIDATE_DEBOUNCE_MS = 250;

export class LiveConnection {
  private socket: WebSocket | null = null;
  private attempt = 0;
  private stopped = false;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private pending = new Set<string>();
  private flushTimer: ReturnType<typeof setTimeout> | null = null;
  private listeners = new Set<(event: LiveEvent) => void>();
  status: LiveStatus = "connecting";
  onStatus: (status: LiveStatus) => void = () => {};

  constructor(
    private readonly queryClient: QueryClient,
    private readonly url: (token: string) => string = defaultUrl,
  ) {}

  start(): void {
    this.stopped = false;
    void this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.socket?.close(1000, "signed out");
    this.socket = null;
  }

  subscribe(listener: (event: LiveEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private setStatus(status: LiveStatus): void {
    this.status = status;
    this.onStatus(status);
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    this.setStatus("connecting");
    const token = await accessToken();
    if (!token || this.stopped) {
      this.setStatus("offline");
      return;
    }
    const socket = new WebSocket(this.url(token));
    this.socket = socket;
    socket.onmessage = (message) => this.receive(message.data);
    socket.onclose = (close) => void this.closed(socket, close.code);
  }

  private receive(raw: unknown): void {
    let event: LiveEvent;
    try {
      event = JSON.parse(String(raw)) as LiveEvent;
    } catch {
      return;
    }
    if (event.type === "ready") {
      this.attempt = 0;
      this.setStatus("live");
      // Whatever changed while disconnected is read again.
      if (this.everConnected) void this.queryClient.invalidateQueries();
      this.everConnected = true;
      return;
    }
    this.listeners.forEach((listener) => listener(event));
    queryRootsFor(event).forEach((root) => this.pending.add(root));
    this.flushTimer ??= setTimeout(() => this.flush(), INVALIDATE_DEBOUNCE_MS);
  }

  private everConnected = false;

  private flush(): void {
    this.flushTimer = null;
    const roots = this.pending;
    this.pending = new Set();
    void this.queryClient.invalidateQueries({
      predicate: (query) => roots.has(String(query.queryKey[0])),
    });
  }

  private async closed(socket: WebSocket, code: number): Promise<void> {
    if (socket !== this.socket || this.stopped) return;
    this.socket = null;
    this.setStatus("offline");
    if (code === 4401) {
      // Expired: a fresh token, then straight back.
      if (await refreshTokens()) {
        void this.connect();
        return;
      }
    }
    if (code === 4403 || code === 1008) {
      // No longer allowed: the next request finds out why; try again slowly.
      this.attempt = Math.max(this.attempt, 4);
    }
    const delay = Math.min(MAX_BACKOFF_MS, 500 * 2 ** this.attempt) * (0.75 + Math.random() / 2);
    this.attempt += 1;
    this.timer = setTimeout(() => void this.connect(), delay);
  }
}

function defaultUrl(token: string): string {
  const scheme = window.location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${window.location.host}/api/v1/ws?token=${encodeURIComponent(token)}`;
}
