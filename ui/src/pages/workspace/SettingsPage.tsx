/** The caller's own preferences, the workspace's suppression list, and its inbound webhook
 * for bounce and complaint reports. */
import { PageHeader } from "@/components/page";
import { InboundWebhookCard } from "./InboundWebhookCard";
import { PreferencesCard } from "./PreferencesCard";
import { SuppressionsCard } from "./SuppressionsCard";

export default function SettingsPage() {
  return (
    <>
      <PageHeader
        title="Settings"
        description="Your own preferences in this workspace, and how the workspace handles addresses that must not be emailed."
      />
      <div className="space-y-6">
        <PreferencesCard />
        <SuppressionsCard />
        <InboundWebhookCard />
      </div>
    </>
  );
}
