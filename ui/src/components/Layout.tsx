/** The signed-in frame: navigation, workspace switcher, live status, and the page. */
import { Suspense, useState } from "react";
import { NavLink, Navigate, Outlet, useLocation, useNavigate } from "react-router";
import { useSession } from "@/auth/session";
import { useLive } from "@/live/LiveProvider";
import { errorMessage } from "@/api/problem";
import { Loading } from "./states";

export const NAVIGATION = [
  { to: "/", label: "Dashboard" },
  { to: "/campaigns", label: "Campaigns" },
  { to: "/artists", label: "Artists" },
  { to: "/discovery", label: "Discovery" },
  { to: "/templates", label: "Templates" },
  { to: "/outreach", label: "Outreach" },
  { to: "/mailboxes", label: "Mailboxes" },
  { to: "/outbox", label: "Outbox" },
  { to: "/transactions", label: "Transactions" },
  { to: "/audit-log", label: "Audit log" },
  { to: "/members", label: "Members" },
  { to: "/settings", label: "Settings" },
] as const;

function WorkspaceSwitcher() {
  const { me, switchWorkspace } = useSession();
  const navigate = useNavigate();
  const [error, setError] = useState<string | null>(null);
  if (!me) return null;
  return (
    <div className="px-3">
      <label htmlFor="workspace-switcher" className="block text-xs font-medium text-indigo-100">
        Workspace
      </label>
      <select
        id="workspace-switcher"
        className="mt-1 block w-full rounded-md border-0 bg-indigo-900 px-2 py-1.5 text-sm text-white ring-1 ring-indigo-700"
        value={me.workspace_id}
        onChange={async (event) => {
          setError(null);
          try {
            await switchWorkspace(event.target.value);
            navigate("/");
          } catch (failure) {
            setError(errorMessage(failure));
          }
        }}
      >
        {me.workspaces.map((workspace) => (
          <option key={workspace.id} value={workspace.id}>
            {workspace.name} ({workspace.role})
          </option>
        ))}
      </select>
      {error && (
        <p role="alert" className="mt-1 text-xs text-red-200">
          {error}
        </p>
      )}
    </div>
  );
}

function LiveBadge() {
  const { status } = useLive();
  const label = { live: "Live", connecting: "Connecting", offline: "Offline" }[status];
  const dot = { live: "bg-green-400", connecting: "bg-amber-400", offline: "bg-slate-400" }[status];
  return (
    <span className="inline-flex items-center gap-1.5 text-xs text-indigo-100" aria-live="polite">
      <span aria-hidden="true" className={`h-2 w-2 rounded-full ${dot}`} />
      <span data-testid="live-status">{label}</span>
    </span>
  );
}

export function Layout() {
  const { tokens, me, signOut, meError } = useSession();
  const location = useLocation();
  const [menuOpen, setMenuOpen] = useState(false);
  if (!tokens) {
    const next = encodeURIComponent(location.pathname + location.search);
    return <Navigate to={`/login?next=${next}`} replace />;
  }
  return (
    <div className="min-h-screen md:flex">
      <a
        href="#main"
        className="sr-only focus:not-sr-only focus:absolute focus:left-2 focus:top-2 focus:z-50 focus:rounded focus:bg-white focus:px-3 focus:py-2"
      >
        Skip to content
      </a>
      <header className="flex items-center justify-between bg-indigo-950 px-4 py-3 text-white md:hidden">
        <span className="font-semibold">Campaign Manager</span>
        <button
          type="button"
          className="rounded px-2 py-1 text-sm ring-1 ring-indigo-700"
          aria-expanded={menuOpen}
          aria-controls="main-navigation"
          onClick={() => setMenuOpen((open) => !open)}
        >
          Menu
        </button>
      </header>
      <nav
        id="main-navigation"
        aria-label="Main"
        className={`${menuOpen ? "block" : "hidden"} w-full shrink-0 space-y-4 bg-indigo-950 py-4 text-white md:sticky md:top-0 md:block md:h-screen md:w-60 md:overflow-y-auto`}
      >
        <div className="hidden px-4 text-lg font-semibold md:block">Campaign Manager</div>
        <WorkspaceSwitcher />
        <ul className="space-y-0.5 px-2">
          {NAVIGATION.map((item) => (
            <li key={item.to}>
              <NavLink
                to={item.to}
                end={item.to === "/"}
                onClick={() => setMenuOpen(false)}
                className={({ isActive }) =>
                  `block rounded-md px-3 py-2 text-sm ${isActive ? "bg-indigo-700 font-medium text-white" : "text-indigo-100 hover:bg-indigo-800"}`
                }
              >
                {item.label}
              </NavLink>
            </li>
          ))}
        </ul>
        <div className="space-y-2 border-t border-indigo-800 px-4 pt-4">
          <LiveBadge />
          {me && (
            <p className="truncate text-xs text-indigo-100" title={me.user.email}>
              {me.user.display_name || me.user.email} · {me.role}
            </p>
          )}
          <button
            type="button"
            className="text-sm text-indigo-100 underline hover:text-white"
            onClick={() => void signOut()}
          >
            Sign out
          </button>
        </div>
      </nav>
      <main id="main" tabIndex={-1} className="min-w-0 flex-1 p-4 sm:p-6 lg:p-8">
        {meError ? (
          <div role="alert" className="rounded-md bg-red-50 p-4 text-sm text-red-800">
            {errorMessage(meError)}
          </div>
        ) : null}
        <Suspense fallback={<Loading />}>
          <Outlet />
        </Suspense>
      </main>
    </div>
  );
}
