import { createContext, useContext, useEffect, useState } from "react";
import type { ReactNode } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { useSession } from "@/auth/session";
import { LiveConnection, type LiveEvent, type LiveStatus } from "./events";

interface Live {
  status: LiveStatus;
  subscribe: (listener: (event: LiveEvent) => void) => () => void;
}

const LiveContext = createContext<Live>({ status: "offline", subscribe: () => () => {} });

/** Keeps the workspace's event socket open while signed in (reopened on a workspace switch). */
export function LiveProvider({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient();
  const { tokens } = useSession();
  const workspaceId = tokens?.workspace_id;
  const [live, setLive] = useState<Live>({ status: "offline", subscribe: () => () => {} });

  useEffect(() => {
    if (!workspaceId) return;
    const connection = new LiveConnection(queryClient);
    const subscribe = connection.subscribe.bind(connection);
    connection.onStatus = (status) => setLive({ status, subscribe });
    connection.start();
    return () => connection.stop();
  }, [queryClient, workspaceId]);

  return <LiveContext.Provider value={live}>{children}</LiveContext.Provider>;
}

export function useLive(): Live {
  return useContext(LiveContext);
}

/** Call ``listener`` for each live event while the component is mounted. */
export function useLiveEvents(listener: (event: LiveEvent) => void): void {
  const { subscribe } = useLive();
  useEffect(() => subscribe(listener), [subscribe, listener]);
}
