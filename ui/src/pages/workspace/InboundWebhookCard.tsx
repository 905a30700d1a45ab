/** Where a mail provider (or a script reading a bounce mailbox) reports bounces and
 * complaints for this workspace, and how to sign a report. Owners and admins only: the
 * answer holds the signing secret. */
import { useState } from "react";
import type { ReactNode } from "react";
import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "@/api/client";
import type { components } from "@/api/schema";
import { useSession } from "@/auth/session";
import { Button, CopyButton } from "@/components/buttons";
import { Card } from "@/components/page";
import { QueryState } from "@/components/states";
import { formatNumber } from "@/lib/format";

type Webhook = components["schemas"]["InboundWebhookRead"];

const HIDDEN = "<secret>";

/** ``text`` quoted for a POSIX shell. */
function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

function exampleCommand(webhook: Webhook, secret: string): string {
  const body = webhook.example.body;
  return [
    `body=${shellQuote(body)}`,
    "ts=$(date +%s)",
    `sig=$(printf '%s.%s' "$ts" "$body" | openssl dgst -sha256 -mac HMAC -macopt hexkey:${secret} | sed 's/^.* //')`,
    `curl -X POST ${shellQuote(webhook.url)} \\`,
    "  -H 'Content-Type: application/json' \\",
    `  -H "${webhook.timestamp_header}: $ts" \\`,
    `  -H "${webhook.signature_header}: sha256=$sig" \\`,
    `  --data-raw "$body"`,
  ].join("\n");
}

function ReadOnlyValue({ id, label, value, children }: { id: string; label: string; value: string; children?: ReactNode }) {
  return (
    <div className="space-y-1">
      <label htmlFor={id} className="block text-sm font-medium text-slate-800">
        {label}
      </label>
      <div className="flex flex-wrap items-center gap-2">
        <input
          id={id}
          readOnly
          value={value}
          onFocus={(event) => event.target.select()}
          className="min-w-0 flex-1 rounded-md border-0 bg-slate-50 px-3 py-2 font-mono text-xs text-slate-900 ring-1 ring-inset ring-slate-300"
        />
        {children}
      </div>
    </div>
  );
}

export function InboundWebhookCard() {
  const { canAdmin } = useSession();
  const webhook = useQuery({
    queryKey: ["inbound-webhook"],
    queryFn: () => unwrap(api.GET("/api/v1/inbound-webhook")),
    enabled: canAdmin,
    // The secret is not kept around longer than the page shows it.
    gcTime: 0,
  });
  return (
    <Card title="Inbound webhook">
      <p className="mb-4 text-sm text-slate-600">
        Bounces and complaints your mail provider reports after the fact: each reported address is suppressed,
        and its sent emails are marked bounced.
      </p>
      {canAdmin ? (
        <QueryState query={webhook} label="Loading the inbound webhook">
          {(data) => <WebhookDetails webhook={data} />}
        </QueryState>
      ) : (
        <p className="text-sm text-slate-700">
          Only owners and admins can see where reports go and the secret that signs them.
        </p>
      )}
    </Card>
  );
}

function WebhookDetails({ webhook }: { webhook: Webhook }) {
  const [showSecret, setShowSecret] = useState(false);
  const secret = showSecret ? webhook.secret : HIDDEN;
  return (
    <div className="space-y-5">
      <ReadOnlyValue id="inbound-url" label="Report URL" value={webhook.url}>
        <CopyButton text={webhook.url} label="Copy URL" />
      </ReadOnlyValue>
      <ReadOnlyValue id="inbound-secret" label="Signing secret (hex)" value={showSecret ? webhook.secret : "•".repeat(32)}>
        <Button tone="secondary" aria-pressed={showSecret} onClick={() => setShowSecret((shown) => !shown)}>
          {showSecret ? "Hide secret" : "Show secret"}
        </Button>
        <CopyButton text={webhook.secret} label="Copy secret" />
      </ReadOnlyValue>

      <section aria-labelledby="inbound-signing" className="space-y-2 text-sm text-slate-700">
        <h3 id="inbound-signing" className="font-semibold text-slate-900">
          How to send a report
        </h3>
        <ol className="list-decimal space-y-1 pl-5">
          <li>
            POST a JSON body to the report URL:{" "}
            <code className="font-mono text-xs">{`{"events": [{"type": "bounce" | "complaint", "email": "…", "message_id": "<…>", "detail": "…"}]}`}</code>{" "}
            (<code className="font-mono text-xs">message_id</code> and <code className="font-mono text-xs">detail</code>{" "}
            optional; at most {formatNumber(webhook.max_events)} events a report).
          </li>
          <li>
            Put the time of sending, in unix seconds, in{" "}
            <code className="font-mono text-xs">{webhook.timestamp_header}</code>; it must be within{" "}
            {formatNumber(webhook.tolerance_seconds)} seconds of the server's clock.
          </li>
          <li>
            Put <code className="font-mono text-xs">sha256=</code> and the hex HMAC-SHA256 of{" "}
            <code className="font-mono text-xs">{"{timestamp}.{body}"}</code> (the raw body bytes), keyed with the
            secret's 32 bytes (hex-decoded), in <code className="font-mono text-xs">{webhook.signature_header}</code>.
          </li>
        </ol>
        <p>
          The answer counts the events accepted, the addresses newly suppressed and the emails newly marked
          bounced. A missing or wrong signature, or a stale timestamp, gets a 401.
        </p>
        <div className="space-y-1">
          <div className="flex flex-wrap items-center justify-between gap-2">
            <h4 className="font-medium text-slate-900">Example with curl and openssl</h4>
            <CopyButton text={exampleCommand(webhook, webhook.secret)} label="Copy example" />
          </div>
          <pre
            aria-label="Example command"
            tabIndex={0}
            className="overflow-x-auto rounded bg-slate-900 p-3 font-mono text-xs text-slate-100"
          >
            {exampleCommand(webhook, secret)}
          </pre>
          {!showSecret && (
            <p className="text-xs text-slate-600">
              The secret shows as {HIDDEN} until you show it; Copy example copies it with the secret.
            </p>
          )}
        </div>
      </section>
    </div>
  );
}
