/** Mailboxes: the SMTP accounts outreach sends through, with their limits; add, change,
 * delete, and test a connection (the server's own answer shown). */
import { useState } from "react";
import { Link } from "react-router";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "@/api/client";
import { errorMessage } from "@/api/problem";
import type { components } from "@/api/schema";
import { useSession } from "@/auth/session";
import { Button } from "@/components/buttons";
import { ConfirmButton } from "@/components/confirm";
import { Badge, Card, PageHeader } from "@/components/page";
import { PagedList } from "@/components/paged";
import { Empty } from "@/components/states";
import { formatNumber } from "@/lib/format";
import { usePagedList } from "@/lib/paging";
import { MailboxForm, TLS_MODES, WEEKDAYS, type Mailbox } from "./MailboxForm";

type ConnectionTest = components["schemas"]["ConnectionTestRead"];

// A connection test ends at the login; the message steps (mail, rcpt, data) are named too
// because the stage type is the one sending reports failures with.
const PASSED: Record<ConnectionTest["stage"], string> = {
  connect: "Connected (no encryption, no login)",
  tls: "Connected and secured with TLS (no login)",
  auth: "Connected and logged in",
  mail: "Connected and the sender accepted",
  rcpt: "Connected and the recipient accepted",
  data: "Connected and the message accepted",
};
const FAILED_AT: Record<ConnectionTest["stage"], string> = {
  connect: "connecting to the server",
  tls: "the TLS step",
  auth: "the login",
  mail: "the sender address (MAIL FROM)",
  rcpt: "the recipient address (RCPT TO)",
  data: "sending the message (DATA)",
};

function serverAnswer(result: ConnectionTest): string {
  return [result.code, result.message].filter((part) => part !== null && part !== "").join(" ");
}

function TestResult({ result }: { result: ConnectionTest }) {
  const answer = serverAnswer(result);
  if (result.ok) {
    return (
      <p role="status" className="rounded-md bg-green-50 px-3 py-2 text-sm text-green-900">
        <span className="font-medium">{PASSED[result.stage]}.</span>
        {answer && <> The server said: <span className="font-mono text-xs">{answer}</span></>}
      </p>
    );
  }
  return (
    <p role="alert" className="rounded-md bg-red-50 px-3 py-2 text-sm text-red-900">
      <span className="font-medium">The connection test failed at {FAILED_AT[result.stage]}.</span>
      {answer && <> The server said: <span className="font-mono text-xs">{answer}</span></>}
    </p>
  );
}

function hour(value: number): string {
  return `${String(value % 24).padStart(2, "0")}:00`;
}

function windowText(mailbox: Mailbox): string {
  const days = mailbox.window_weekdays.map((day) => WEEKDAYS[day - 1]).join(", ");
  const overnight = mailbox.window_end_hour < mailbox.window_start_hour ? " (next day)" : "";
  return `${hour(mailbox.window_start_hour)}–${hour(mailbox.window_end_hour)}${overnight}, ${days}`;
}

function MailboxCard({ mailbox, onEdit }: { mailbox: Mailbox; onEdit: () => void }) {
  const { canEdit } = useSession();
  const queryClient = useQueryClient();
  const test = useMutation({
    mutationFn: () =>
      unwrap(api.POST("/api/v1/mailboxes/{mailbox_id}/test", { params: { path: { mailbox_id: mailbox.id } } })),
  });
  const remove = useMutation({
    mutationFn: () => unwrap(api.DELETE("/api/v1/mailboxes/{mailbox_id}", { params: { path: { mailbox_id: mailbox.id } } })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["mailboxes"] }),
  });
  const security = TLS_MODES.find((mode) => mode.value === mailbox.tls_mode)?.label.split(" (")[0] ?? mailbox.tls_mode;

  return (
    <Card
      title={mailbox.name}
      actions={
        canEdit ? (
          <div className="flex flex-wrap gap-2">
            <Button
              tone="secondary"
              busy={test.isPending}
              aria-label={`Test connection of ${mailbox.name}`}
              onClick={() => test.mutate()}
            >
              Test connection
            </Button>
            <Button tone="secondary" aria-label={`Edit mailbox ${mailbox.name}`} onClick={onEdit}>
              Edit
            </Button>
            <ConfirmButton
              label="Delete"
              accessibleLabel={`Delete mailbox ${mailbox.name}`}
              question={`Delete the mailbox “${mailbox.name}”?`}
              confirmLabel="Yes, delete"
              tone="ghost"
              onConfirm={() => remove.mutateAsync()}
            />
          </div>
        ) : null
      }
    >
      <dl className="grid gap-x-6 gap-y-3 text-sm sm:grid-cols-2">
        <div>
          <dt className="font-medium text-slate-600">Server</dt>
          <dd className="break-all font-mono text-xs text-slate-900">
            {mailbox.host}:{mailbox.port} <Badge>{security}</Badge>
          </dd>
        </div>
        <div>
          <dt className="font-medium text-slate-600">Login</dt>
          <dd className="break-all text-slate-900">
            {mailbox.username ?? "No login"}
            {mailbox.username && (mailbox.has_password ? " · password stored" : " · no password")}
          </dd>
        </div>
        <div>
          <dt className="font-medium text-slate-600">From</dt>
          <dd className="break-all text-slate-900">
            {mailbox.from_name ? `${mailbox.from_name} <${mailbox.from_email}>` : mailbox.from_email}
          </dd>
        </div>
        <div>
          <dt className="font-medium text-slate-600">Limits</dt>
          <dd className="text-slate-900">
            {formatNumber(mailbox.per_minute)} a minute, {formatNumber(mailbox.daily_cap)} a day (from{" "}
            {formatNumber(mailbox.ramp_start)}, +{formatNumber(mailbox.ramp_increment)} a day),{" "}
            {formatNumber(mailbox.gap_min_seconds)}–{formatNumber(mailbox.gap_max_seconds)} s apart
          </dd>
        </div>
        <div className="sm:col-span-2">
          <dt className="font-medium text-slate-600">Sending window (recipient's local time)</dt>
          <dd className="text-slate-900">{windowText(mailbox)}</dd>
        </div>
      </dl>
      <div className="mt-4 empty:hidden" aria-live="polite">
        {test.isPending && <p className="text-sm text-slate-600">Connecting to {mailbox.host}…</p>}
        {test.data && !test.isPending && <TestResult result={test.data} />}
        {test.isError && (
          <p role="alert" className="rounded-md bg-red-50 px-3 py-2 text-sm text-red-900">
            Could not run the test: {errorMessage(test.error)}
          </p>
        )}
      </div>
    </Card>
  );
}

type Editing = { mode: "closed" } | { mode: "create" } | { mode: "edit"; mailbox: Mailbox };

export default function MailboxesPage() {
  const { canEdit } = useSession();
  const queryClient = useQueryClient();
  const [editing, setEditing] = useState<Editing>({ mode: "closed" });
  const [notice, setNotice] = useState<string | null>(null);

  const mailboxes = usePagedList(["mailboxes", "list"], (cursor) =>
    unwrap(api.GET("/api/v1/mailboxes", { params: { query: { limit: 50, sort: "name", cursor } } })),
  );

  const saved = (mailbox: Mailbox) => {
    setNotice(`${editing.mode === "create" ? "Added" : "Saved"} mailbox ${mailbox.name}.`);
    setEditing({ mode: "closed" });
    void queryClient.invalidateQueries({ queryKey: ["mailboxes"] });
  };

  return (
    <div className="space-y-6">
      <PageHeader
        title="Mailboxes"
        description={
          <>
            The SMTP accounts outreach sends through. An outreach without a mailbox writes its mail to the{" "}
            <Link to="/outbox" className="text-indigo-700 underline">
              outbox
            </Link>{" "}
            instead of sending it.
          </>
        }
        actions={
          canEdit && editing.mode === "closed" ? (
            <Button
              onClick={() => {
                setNotice(null);
                setEditing({ mode: "create" });
              }}
            >
              New mailbox
            </Button>
          ) : null
        }
      />
      {notice && (
        <p role="status" className="rounded-md bg-green-50 px-3 py-2 text-sm text-green-900">
          {notice}
        </p>
      )}
      {editing.mode !== "closed" && (
        <MailboxForm
          key={editing.mode === "edit" ? editing.mailbox.id : "new"}
          mailbox={editing.mode === "edit" ? editing.mailbox : undefined}
          onDone={saved}
          onCancel={() => setEditing({ mode: "closed" })}
        />
      )}

      <PagedList
        list={mailboxes}
        loading="Loading mailboxes"
        more="Load more"
        empty={
          <Empty title="No mailboxes yet">
            {canEdit
              ? "Add one with “New mailbox” to send outreach through your own SMTP server."
              : "An editor of this workspace can add one."}
          </Empty>
        }
      >
        {(rows) => (
          <ul aria-label="Mailboxes" className="space-y-4">
            {rows.map((mailbox) => (
              <li key={mailbox.id}>
                <MailboxCard
                  mailbox={mailbox}
                  onEdit={() => {
                    setNotice(null);
                    setEditing({ mode: "edit", mailbox });
                  }}
                />
              </li>
            ))}
          </ul>
        )}
      </PagedList>
    </div>
  );
}
