/** Invite people by email with a role, see who was invited, withdraw an invitation. Owners
 * and admins only (the API refuses the rest). */
import { useState } from "react";
import { useForm } from "react-hook-form";
import { zodResolver } from "@hookform/resolvers/zod";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { z } from "zod";
import { api, unwrap } from "@/api/client";
import type { components } from "@/api/schema";
import { useSession, type Role } from "@/auth/session";
import { Button, CopyButton } from "@/components/buttons";
import { ConfirmButton } from "@/components/confirm";
import { ActionError, FormError, SelectField, TextField } from "@/components/forms";
import { Badge, Card, Table } from "@/components/page";
import { PagedList } from "@/components/paged";
import { Empty } from "@/components/states";
import { formatDate, sentence } from "@/lib/format";
import { usePagedList } from "@/lib/paging";
import { useApiSubmit } from "@/lib/forms";
import { emailAddress } from "@/lib/rules";
import { ROLE_LABELS, grantableRoles, roleOptions } from "./people";

type Invitation = components["schemas"]["InvitationRead"];
type Created = components["schemas"]["InvitationCreated"];

const PAGE_SIZE = 50;

const schema = z.object({
  email: emailAddress(),
  role: z.enum(["owner", "admin", "editor", "viewer"]),
});
type Values = z.infer<typeof schema>;

/** The page an invitee opens: the code in the query, as the invitation page reads it. */
export function invitationLink(token: string): string {
  return `${window.location.origin}/invitations/accept?code=${encodeURIComponent(token)}`;
}

function deliveryText(created: Created): string {
  if (created.delivery === "smtp") return `The invitation was emailed to ${created.email}.`;
  if (created.delivery === "outbox")
    return "No mail server is set up, so the invitation email was saved to the workspace's outbox folder instead of being sent.";
  const why = created.delivery.replace(/^not sent:\s*/, "");
  return `The invitation email was not sent (${why}). The invitation stands: send the link yourself.`;
}

export function InvitationsCard() {
  const { role } = useSession();
  const [created, setCreated] = useState<Created | null>(null);
  const invitations = usePagedList(["invitations"], (cursor) =>
    unwrap(api.GET("/api/v1/invitations", { params: { query: { limit: PAGE_SIZE, cursor } } })),
  );

  return (
    <Card title="Invitations">
      <div className="space-y-6">
        <InviteForm roles={grantableRoles(role)} onCreated={setCreated} />
        {created && <CreatedNotice created={created} onDismiss={() => setCreated(null)} />}
        <section aria-labelledby="invitations-list">
          <h3 id="invitations-list" className="mb-3 text-sm font-semibold text-slate-900">
            Sent invitations
          </h3>
          <PagedList
            list={invitations}
            loading="Loading invitations"
            more="Load more invitations"
            empty={<Empty title="No invitations yet">Invite someone above; they join with the code in their email.</Empty>}
          >
            {(rows) => (
              <Table caption="Invitations" head={["Email", "Role", "Status", "Sent", "Actions"]}>
                {rows.map((invitation) => (
                  <InvitationRow key={invitation.id} invitation={invitation} />
                ))}
              </Table>
            )}
          </PagedList>
        </section>
      </div>
    </Card>
  );
}

function InviteForm({ roles, onCreated }: { roles: Role[]; onCreated: (created: Created) => void }) {
  const queryClient = useQueryClient();
  const form = useForm<Values>({ resolver: zodResolver(schema), defaultValues: { email: "", role: "editor" } });
  const { errors } = form.formState;
  const { formError, submit } = useApiSubmit(form, ["email", "role"], (error) => {
    // Someone with this address is invited already.
    if (error.status !== 409) return undefined;
    form.setError("email", { type: "server", message: sentence(error.message) });
    return null;
  });

  const invite = useMutation({
    mutationFn: (values: Values) => unwrap(api.POST("/api/v1/invitations", { body: values })),
    onSuccess: (data) => {
      onCreated(data);
      form.reset({ email: "", role: form.getValues("role") });
      void queryClient.invalidateQueries({ queryKey: ["invitations"] });
    },
  });

  return (
    <form
      noValidate
      aria-label="Invite someone"
      className="grid gap-3 sm:grid-cols-[1fr_12rem_auto] sm:items-start"
      onSubmit={submit((values) => invite.mutateAsync(values))}
    >
      <div className="sm:col-span-3">
        <FormError message={formError} />
      </div>
      <TextField
        label="Email to invite"
        type="email"
        autoComplete="off"
        error={errors.email?.message}
        {...form.register("email")}
      />
      <SelectField label="Role" options={roleOptions(roles)} error={errors.role?.message} {...form.register("role")} />
      <Button type="submit" className="sm:mt-6" busy={invite.isPending}>
        Send invitation
      </Button>
    </form>
  );
}

function CreatedNotice({ created, onDismiss }: { created: Created; onDismiss: () => void }) {
  const link = invitationLink(created.token);
  const failed = created.delivery.startsWith("not sent");
  return (
    <div
      role="status"
      className={`space-y-3 rounded-md p-4 text-sm ring-1 ${failed ? "bg-amber-50 text-amber-950 ring-amber-200" : "bg-green-50 text-green-950 ring-green-200"}`}
    >
      <p className="font-medium">
        {created.email} is invited as {ROLE_LABELS[created.role].toLowerCase()}.
      </p>
      <p>{deliveryText(created)}</p>
      <p>
        This link holds the invitation's code and is shown only now. Whoever opens it signs in (or signs
        up) as {created.email} to join.
      </p>
      <div className="flex flex-wrap items-center gap-2">
        <label htmlFor="invitation-link" className="sr-only">
          Invitation link
        </label>
        <input
          id="invitation-link"
          readOnly
          value={link}
          onFocus={(event) => event.target.select()}
          className="min-w-0 flex-1 rounded-md border-0 bg-white px-3 py-2 font-mono text-xs text-slate-900 ring-1 ring-inset ring-slate-300"
        />
        <CopyButton text={link} label="Copy link" />
        <Button tone="ghost" onClick={onDismiss}>
          Done
        </Button>
      </div>
    </div>
  );
}

function invitationStatus(invitation: Invitation): { label: string; tone: "green" | "amber" | "slate" } {
  if (invitation.accepted_at) return { label: `Accepted ${formatDate(invitation.accepted_at)}`, tone: "green" };
  if (new Date(invitation.expires_at).getTime() <= Date.now()) return { label: "Expired", tone: "amber" };
  return { label: `Open until ${formatDate(invitation.expires_at)}`, tone: "slate" };
}

function InvitationRow({ invitation }: { invitation: Invitation }) {
  const queryClient = useQueryClient();
  const status = invitationStatus(invitation);
  const revoke = useMutation({
    mutationFn: () =>
      unwrap(
        api.DELETE("/api/v1/invitations/{invitation_id}", { params: { path: { invitation_id: invitation.id } } }),
      ),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ["invitations"] }),
  });
  return (
    <tr>
      <td className="px-3 py-2 align-top font-medium text-slate-900">{invitation.email}</td>
      <td className="px-3 py-2 align-top text-slate-700">{ROLE_LABELS[invitation.role]}</td>
      <td className="px-3 py-2 align-top">
        <Badge tone={status.tone}>{status.label}</Badge>
      </td>
      <td className="whitespace-nowrap px-3 py-2 align-top text-slate-700">{formatDate(invitation.created_at)}</td>
      <td className="px-3 py-2 align-top">
        {invitation.accepted_at ? (
          <span className="text-xs text-slate-500">—</span>
        ) : (
          <ConfirmButton
            label={status.tone === "amber" ? "Delete" : "Revoke"}
            accessibleLabel={`${status.tone === "amber" ? "Delete" : "Revoke"} the invitation for ${invitation.email}`}
            question={`Withdraw the invitation for ${invitation.email}? Its code stops working.`}
            confirmLabel="Withdraw invitation"
            busy={revoke.isPending}
            onConfirm={() => revoke.mutate()}
          />
        )}
        <ActionError error={revoke.error} />
      </td>
    </tr>
  );
}
