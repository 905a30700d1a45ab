/** The member the component tests sign in as: their tokens, and the API's ``/api/v1/me``
 * answer for them in a given role. */
import type { Me, Role } from "@/auth/session";
import { saveTokens } from "@/auth/tokens";

export const USER_ID = "0194a1b2-0000-7000-8000-00000000000a";
export const WORKSPACE_ID = "0194a1b2-0000-7000-8000-000000000001";
export const OTHER_WORKSPACE_ID = "0194a1b2-0000-7000-8000-000000000002";

/** Mia Rossi, a member of Night Owl Records (WORKSPACE_ID) as ``role``. */
export function me(role: Role = "editor", overrides: Partial<Me> = {}): Me {
  return {
    user: {
      id: USER_ID,
      email: "mia@label.example",
      display_name: "Mia Rossi",
      created_at: "2026-01-05T10:00:00Z",
    },
    workspace_id: WORKSPACE_ID,
    role,
    workspaces: [
      { id: WORKSPACE_ID, name: "Night Owl Records", slug: "night-owl-records", created_at: "2026-01-05T10:00:00Z", role },
    ],
    ...overrides,
  };
}

/** Tokens for WORKSPACE_ID stored, as after signing in; they stay good for an hour. */
export function signIn(): void {
  saveTokens({
    access_token: "access-token",
    refresh_token: "refresh-token",
    workspace_id: WORKSPACE_ID,
    expires_at: Date.now() + 3_600_000,
  });
}
