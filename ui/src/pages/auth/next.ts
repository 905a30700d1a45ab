/** Where to go after signing in: the ``next`` query parameter when it is a path of this site. */

const AUTH_PAGES = ["/login", "/signup"];

/** ``raw`` when it is a same-site path ("/campaigns?status=active"), else ``fallback``.
 * Refuses absolute URLs, protocol-relative ones ("//evil.example", "/\\evil.example", which
 * browsers read as "//"), and the sign-in pages themselves (a loop). */
export function safeNext(raw: string | null | undefined, fallback = "/"): string {
  if (!raw || !raw.startsWith("/") || raw.startsWith("//") || raw.startsWith("/\\")) return fallback;
  // Control characters (a tab or newline inside "/\t/evil.example") are dropped by URL parsers.
  if (/[\u0000-\u001f\u007f]/.test(raw)) return fallback;
  const path = raw.split(/[?#]/, 1)[0] ?? "";
  if (AUTH_PAGES.includes(path)) return fallback;
  return raw;
}

/** ``page`` with ``next`` passed on (so sign-in and sign-up link to each other keeping it). */
export function withNext(page: string, next: string): string {
  return next === "/" ? page : `${page}?next=${encodeURIComponent(next)}`;
}

/** Whether ``next`` leads to accepting an invitation (the account must use the invited email). */
export function isInvitation(next: string): boolean {
  return next.startsWith("/invitations/accept");
}
