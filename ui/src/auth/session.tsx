/** Who is signed in, in which workspace, with which role; sign in, out and switch. */
import { createContext, useCallback, useContext, useEffect, useMemo, useState } from "react";
import type { ReactNode } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "@/api/client";
import type { components } from "@/api/schema";
import { loadTokens, onTokens, saveTokens, tokensFrom, type Tokens } from "./tokens";

export type Me = components["schemas"]["MeResponse"];
export type Role = Me["role"];
type TokenPair = components["schemas"]["TokenPair"];

const RANK: Record<Role, number> = { owner: 4, admin: 3, editor: 2, viewer: 1 };

export function roleAtLeast(role: Role | undefined, needed: Role): boolean {
  return role !== undefined && RANK[role] >= RANK[needed];
}

interface Session {
  tokens: Tokens | null;
  me: Me | undefined;
  meError: unknown;
  role: Role | undefined;
  /** Editors and above change data; viewers only read. */
  canEdit: boolean;
  canAdmin: boolean;
  signIn: (pair: TokenPair) => void;
  signOut: () => Promise<void>;
  switchWorkspace: (workspaceId: string) => Promise<void>;
}

const SessionContext = createContext<Session | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient();
  const [tokens, setTokens] = useState<Tokens | null>(loadTokens);
  useEffect(() => onTokens(setTokens), []);

  const meQuery = useQuery({
    queryKey: ["me", tokens?.workspace_id],
    queryFn: () => unwrap(api.GET("/api/v1/me")),
    enabled: tokens !== null,
    staleTime: 60_000,
  });

  const signIn = useCallback(
    (pair: TokenPair) => {
      queryClient.clear();
      saveTokens(tokensFrom(pair));
    },
    [queryClient],
  );

  const signOut = useCallback(async () => {
    const current = loadTokens();
    saveTokens(null);
    queryClient.clear();
    if (current) {
      // Revoke on the server too; signed out here whatever it answers.
      await api.POST("/api/v1/auth/logout", { body: { refresh_token: current.refresh_token } });
    }
  }, [queryClient]);

  const switchWorkspace = useCallback(
    async (workspaceId: string) => {
      const pair = await unwrap(
        api.POST("/api/v1/auth/switch", { body: { workspace_id: workspaceId } }),
      );
      signIn(pair);
    },
    [signIn],
  );

  const value = useMemo<Session>(() => {
    const role = meQuery.data?.role;
    return {
      tokens,
      me: meQuery.data,
      meError: meQuery.error,
      role,
      canEdit: roleAtLeast(role, "editor"),
      canAdmin: roleAtLeast(role, "admin"),
      signIn,
      signOut,
      switchWorkspace,
    };
  }, [tokens, meQuery.data, meQuery.error, signIn, signOut, switchWorkspace]);

  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error("useSession outside SessionProvider");
  return session;
}
