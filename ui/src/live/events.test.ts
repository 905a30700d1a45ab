import { QueryClient } from "@tanstack/react-query";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { saveTokens } from "@/auth/tokens";
import { LiveConnection, queryRootsFor } from "./events";

class FakeSocket {
  static opened: FakeSocket[] = [];
  onmessage: ((message: { data: string }) => void) | null = null;
  onclose: ((close: { code: number }) => void) | null = null;
  closed = false;
  constructor(readonly url: string) {
    FakeSocket.opened.push(this);
  }
  close() {
    this.closed = true;
  }
  send(data: object) {
    this.onmessage?.({ data: JSON.stringify(data) });
  }
}

describe("queryRootsFor", () => {
  it("names the queries that show the entity, and the activity feeds", () => {
    const roots = queryRootsFor({ type: "transaction.create", entity_type: "transaction" });
    expect(roots).toEqual(expect.arrayContaining(["transactions", "campaigns", "dashboard", "audit-log"]));
    expect(roots).not.toContain("artists");
  });
});

describe("LiveConnection", () => {
  beforeEach(() => {
    FakeSocket.opened = [];
    vi.stubGlobal("WebSocket", FakeSocket);
    vi.useFakeTimers();
    saveTokens({
      access_token: "access-1",
      refresh_token: "refresh-1",
      workspace_id: "ws",
      expires_at: Date.now() + 3_600_000,
    });
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });

  it("invalidates the queries an event touches, once per burst", async () => {
    const client = new QueryClient();
    const invalidate = vi.spyOn(client, "invalidateQueries");
    const connection = new LiveConnection(client, (token) => `ws://test/ws?token=${token}`);
    const statuses: string[] = [];
    connection.onStatus = (status) => statuses.push(status);
    connection.start();
    await vi.waitFor(() => expect(FakeSocket.opened).toHaveLength(1));
    const socket = FakeSocket.opened[0]!;
    expect(socket.url).toBe("ws://test/ws?token=access-1");
    socket.send({ type: "ready" });
    expect(statuses.at(-1)).toBe("live");
    for (let i = 0; i < 5; i++) socket.send({ type: "email_record.sent", entity_type: "email_record" });
    expect(invalidate).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(300);
    expect(invalidate).toHaveBeenCalledTimes(1);
    connection.stop();
  });

  it("reconnects after the server closes the socket, and re-reads everything", async () => {
    const client = new QueryClient();
    const invalidate = vi.spyOn(client, "invalidateQueries");
    const connection = new LiveConnection(client, (token) => `ws://test/ws?token=${token}`);
    connection.start();
    await vi.waitFor(() => expect(FakeSocket.opened).toHaveLength(1));
    FakeSocket.opened[0]!.send({ type: "ready" });
    FakeSocket.opened[0]!.onclose?.({ code: 1006 });
    expect(connection.status).toBe("offline");
    await vi.advanceTimersByTimeAsync(1_000);
    await vi.waitFor(() => expect(FakeSocket.opened).toHaveLength(2));
    FakeSocket.opened[1]!.send({ type: "ready" });
    expect(connection.status).toBe("live");
    expect(invalidate).toHaveBeenCalledWith();
    connection.stop();
  });
});
