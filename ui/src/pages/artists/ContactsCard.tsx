/** The workspace's email contacts for an artist: list, add, edit, delete. */
import { useState } from "react";
import { useForm } from "react-hook-form";
import { zodResolver } from "@hookform/resolvers/zod";
import { z } from "zod";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "@/api/client";
import type { components } from "@/api/schema";
import { useSession } from "@/auth/session";
import { Button } from "@/components/buttons";
import { ConfirmButton } from "@/components/confirm";
import { FormActions, FormError, SelectField, TextField } from "@/components/forms";
import { Badge, Card } from "@/components/page";
import { PagedList } from "@/components/paged";
import { Empty } from "@/components/states";
import { formatDate } from "@/lib/format";
import { conflictOn, useApiSubmit } from "@/lib/forms";
import { usePagedList } from "@/lib/paging";
import { emailAddress } from "@/lib/rules";

type ContactRead = components["schemas"]["ContactRead"];
type ConsentState = components["schemas"]["ConsentState"];
type ContactSource = components["schemas"]["ContactSource"];

const CONSENT: Record<ConsentState, { label: string; tone: "slate" | "green" | "indigo" | "red" }> = {
  unknown: { label: "Consent unknown", tone: "slate" },
  public_business: { label: "Public business address", tone: "indigo" },
  granted: { label: "Consent granted", tone: "green" },
  withdrawn: { label: "Consent withdrawn", tone: "red" },
};
const SOURCE: Record<ContactSource, string> = {
  description: "Profile description",
  web_profile: "Web profile",
  link_in_bio: "Link in bio",
  manual: "Added by hand",
  import: "CSV import",
};
const CONSENT_OPTIONS = (Object.keys(CONSENT) as ConsentState[]).map((value) => ({
  value,
  label: CONSENT[value].label,
}));
const SOURCE_OPTIONS = (Object.keys(SOURCE) as ContactSource[]).map((value) => ({ value, label: SOURCE[value] }));

const schema = z.object({
  email: emailAddress(),
  consent_state: z.enum(["unknown", "public_business", "granted", "withdrawn"]),
  source: z.enum(["description", "web_profile", "link_in_bio", "manual", "import"]),
});
type Values = z.infer<typeof schema>;
const FIELDS = ["email", "consent_state", "source"] as const;

/** The add form and the edit form alike; ``initial`` makes it an edit. */
function ContactForm({
  artistId,
  initial,
  onDone,
}: {
  artistId: string;
  initial?: ContactRead;
  onDone: () => void;
}) {
  const queryClient = useQueryClient();
  const form = useForm<Values>({
    resolver: zodResolver(schema),
    defaultValues: {
      email: initial?.email ?? "",
      consent_state: initial?.consent_state ?? "unknown",
      source: initial?.source ?? "manual",
    },
  });
  const save = useMutation({
    mutationFn: (values: Values) => {
      if (!initial) {
        return unwrap(
          api.POST("/api/v1/artists/{artist_id}/contacts", {
            params: { path: { artist_id: artistId } },
            body: values,
          }),
        );
      }
      // Only what changed: a PATCH leaves the rest as it is.
      const changes: components["schemas"]["ContactUpdate"] = {};
      if (values.email !== initial.email) changes.email = values.email;
      if (values.consent_state !== initial.consent_state) changes.consent_state = values.consent_state;
      if (values.source !== initial.source) changes.source = values.source;
      return unwrap(
        api.PATCH("/api/v1/artists/{artist_id}/contacts/{contact_id}", {
          params: { path: { artist_id: artistId, contact_id: initial.id } },
          body: changes,
        }),
      );
    },
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ["artists", artistId] });
      if (!initial) form.reset({ email: "", consent_state: "unknown", source: "manual" });
      onDone();
    },
  });
  const { register } = form;
  const { errors } = form.formState;
  const { formError, submit } = useApiSubmit(form, FIELDS, conflictOn(form.setError, "email"));
  const name = initial ? `Edit contact ${initial.email}` : "Add contact";
  return (
    <form aria-label={name} noValidate onSubmit={submit((values) => save.mutateAsync(values))} className="space-y-3">
      <FormError message={formError} />
      <div className="grid gap-3 sm:grid-cols-3">
        <TextField label="Email" type="email" autoComplete="off" error={errors.email?.message} {...register("email")} />
        <SelectField
          label="Consent"
          options={CONSENT_OPTIONS}
          error={errors.consent_state?.message}
          {...register("consent_state")}
        />
        <SelectField label="Source" options={SOURCE_OPTIONS} error={errors.source?.message} {...register("source")} />
      </div>
      <FormActions
        submitLabel={initial ? "Save contact" : "Add contact"}
        busy={save.isPending}
        onCancel={initial ? onDone : undefined}
      />
    </form>
  );
}

function ContactItem({ artistId, contact }: { artistId: string; contact: ContactRead }) {
  const { canEdit } = useSession();
  const queryClient = useQueryClient();
  const [editing, setEditing] = useState(false);
  const remove = useMutation({
    mutationFn: () =>
      unwrap(
        api.DELETE("/api/v1/artists/{artist_id}/contacts/{contact_id}", {
          params: { path: { artist_id: artistId, contact_id: contact.id } },
        }),
      ),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ["artists", artistId] }),
  });
  if (editing) {
    return (
      <li className="py-3">
        <ContactForm artistId={artistId} initial={contact} onDone={() => setEditing(false)} />
      </li>
    );
  }
  const consent = CONSENT[contact.consent_state];
  return (
    <li className="flex flex-wrap items-center justify-between gap-3 py-3">
      <div className="min-w-0 space-y-1">
        <a href={`mailto:${contact.email}`} className="break-all font-medium text-indigo-700 underline">
          {contact.email}
        </a>
        <div className="flex flex-wrap items-center gap-2 text-xs text-slate-600">
          <Badge tone={consent.tone}>{consent.label}</Badge>
          <span>{SOURCE[contact.source]}</span>
          <span>· added {formatDate(contact.created_at)}</span>
        </div>
      </div>
      {canEdit && (
        <div className="flex flex-wrap gap-2">
          <Button tone="secondary" aria-label={`Edit ${contact.email}`} onClick={() => setEditing(true)}>
            Edit
          </Button>
          <ConfirmButton
            label="Delete"
            accessibleLabel={`Delete ${contact.email}`}
            question={`Delete ${contact.email}?`}
            confirmLabel="Yes, delete"
            tone="ghost"
            onConfirm={() => remove.mutateAsync()}
          />
        </div>
      )}
    </li>
  );
}

export function ContactsCard({ artistId }: { artistId: string }) {
  const { canEdit } = useSession();
  const contacts = usePagedList(["artists", artistId, "contacts"], (cursor) =>
    unwrap(
      api.GET("/api/v1/artists/{artist_id}/contacts", {
        params: { path: { artist_id: artistId }, query: { limit: 50, cursor } },
      }),
    ),
  );
  return (
    <Card title="Contacts">
      <div className="space-y-4">
        <PagedList
          list={contacts}
          loading="Loading contacts"
          more="Load more contacts"
          empty={
            <Empty title="No email contacts yet">
              {canEdit ? "Add one below, or let discovery find them." : "Discovery adds them when it finds them."}
            </Empty>
          }
        >
          {(items) => (
            <ul aria-label="Email contacts" className="divide-y divide-slate-100">
              {items.map((contact) => (
                <ContactItem key={contact.id} artistId={artistId} contact={contact} />
              ))}
            </ul>
          )}
        </PagedList>
        {canEdit && (
          <div className="border-t border-slate-100 pt-4">
            <h3 className="mb-2 text-sm font-semibold text-slate-900">Add a contact</h3>
            <ContactForm artistId={artistId} onDone={() => undefined} />
          </div>
        )}
      </div>
    </Card>
  );
}
