/** Every page, each its own chunk (loaded when first visited). */
import { lazy, Suspense } from "react";
import type { ComponentType, LazyExoticComponent } from "react";
import { createBrowserRouter } from "react-router";
import { Layout } from "@/components/Layout";
import { Loading } from "@/components/states";

function page(load: () => Promise<{ default: ComponentType }>) {
  const Page: LazyExoticComponent<ComponentType> = lazy(load);
  return (
    <Suspense fallback={<Loading />}>
      <Page />
    </Suspense>
  );
}

export const router = createBrowserRouter([
  { path: "/login", element: page(() => import("@/pages/auth/LoginPage")) },
  { path: "/signup", element: page(() => import("@/pages/auth/SignupPage")) },
  { path: "/invitations/accept", element: page(() => import("@/pages/auth/AcceptInvitationPage")) },
  {
    path: "/",
    element: <Layout />,
    children: [
      { index: true, element: page(() => import("@/pages/dashboard/DashboardPage")) },
      { path: "campaigns", element: page(() => import("@/pages/campaigns/CampaignsPage")) },
      { path: "campaigns/:campaignId", element: page(() => import("@/pages/campaigns/CampaignPage")) },
      { path: "artists", element: page(() => import("@/pages/artists/ArtistsPage")) },
      { path: "artists/:artistId", element: page(() => import("@/pages/artists/ArtistPage")) },
      { path: "discovery", element: page(() => import("@/pages/discovery/DiscoveryPage")) },
      { path: "discovery/:jobId", element: page(() => import("@/pages/discovery/DiscoveryJobPage")) },
      { path: "templates", element: page(() => import("@/pages/templates/TemplatesPage")) },
      { path: "templates/:templateId", element: page(() => import("@/pages/templates/TemplatePage")) },
      { path: "outreach", element: page(() => import("@/pages/outreach/OutreachListPage")) },
      { path: "outreach/:outreachId", element: page(() => import("@/pages/outreach/OutreachPage")) },
      { path: "mailboxes", element: page(() => import("@/pages/mailboxes/MailboxesPage")) },
      { path: "outbox", element: page(() => import("@/pages/mailboxes/OutboxPage")) },
      { path: "transactions", element: page(() => import("@/pages/transactions/TransactionsPage")) },
      { path: "audit-log", element: page(() => import("@/pages/workspace/AuditLogPage")) },
      { path: "members", element: page(() => import("@/pages/workspace/MembersPage")) },
      { path: "settings", element: page(() => import("@/pages/workspace/SettingsPage")) },
      { path: "*", element: page(() => import("@/pages/NotFoundPage")) },
    ],
  },
]);
