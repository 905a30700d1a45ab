/** How people and roles read on the workspace pages. The API names other members only by
 * user id (MemberRead, AuditLogEntryRead), so only the signed-in user has a name here. */
import type { Me, Role } from "@/auth/session";
import { roleAtLeast } from "@/auth/session";

export function shortId(id: string): string {
  return id.slice(0, 8);
}

/** "Mia Rossi (you)" for the signed-in user, "User 0194a1b2" for anyone else. */
export function personLabel(userId: string, me: Me | undefined): string {
  if (me && userId === me.user.id) return `${me.user.display_name || me.user.email} (you)`;
  return `User ${shortId(userId)}`;
}

export const ROLE_LABELS: Record<Role, string> = {
  owner: "Owner",
  admin: "Admin",
  editor: "Editor",
  viewer: "Viewer",
};

export const ROLE_TONES: Record<Role, "indigo" | "green" | "amber" | "slate"> = {
  owner: "indigo",
  admin: "green",
  editor: "amber",
  viewer: "slate",
};

const ROLES: Role[] = ["owner", "admin", "editor", "viewer"];

/** The roles ``caller`` may hand out: only an owner grants the owner role. */
export function grantableRoles(caller: Role | undefined): Role[] {
  if (!roleAtLeast(caller, "admin")) return [];
  return caller === "owner" ? ROLES : ROLES.filter((role) => role !== "owner");
}

export function roleOptions(roles: Role[]): { value: string; label: string }[] {
  return roles.map((role) => ({ value: role, label: ROLE_LABELS[role] }));
}

export const ROLE_SUMMARY =
  "Owners and admins manage members and invitations, editors change the workspace's data, viewers only read. Only an owner grants or removes the owner role.";
