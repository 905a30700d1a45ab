/** The workspace's notes on an artist: list, write, edit, delete. */
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
import { FormActions, FormError, TextAreaField } from "@/components/forms";
import { Card } from "@/components/page";
import { PagedList } from "@/components/paged";
import { Empty } from "@/components/states";
import { formatDateTime } from "@/lib/format";
import { useApiSubmit } from "@/lib/forms";
import { usePagedList } from "@/lib/paging";

type NoteRead = components["schemas"]["NoteRead"];

const schema = z.object({
  body: z
    .string()
    .refine((value) => value.trim().length > 0, "Write something first.")
    .refine((value) => value.length <= 10_000, "At most 10,000 characters."),
});
type Values = z.infer<typeof schema>;
const FIELDS = ["body"] as const;

function NoteForm({ artistId, initial, onDone }: { artistId: string; initial?: NoteRead; onDone: () => void }) {
  const queryClient = useQueryClient();
  const form = useForm<Values>({ resolver: zodResolver(schema), defaultValues: { body: initial?.body ?? "" } });
  const { register } = form;
  const { errors } = form.formState;
  const { formError, submit } = useApiSubmit(form, FIELDS);
  const save = useMutation({
    mutationFn: ({ body }: Values) =>
      initial
        ? unwrap(
            api.PATCH("/api/v1/artists/{artist_id}/notes/{note_id}", {
              params: { path: { artist_id: artistId, note_id: initial.id } },
              body: { body },
            }),
          )
        : unwrap(
            api.POST("/api/v1/artists/{artist_id}/notes", {
              params: { path: { artist_id: artistId } },
              body: { body },
            }),
          ),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ["artists", artistId] });
      if (!initial) form.reset({ body: "" });
      onDone();
    },
  });
  return (
    <form
      aria-label={initial ? "Edit note" : "Add note"}
      noValidate
      onSubmit={submit((values) => save.mutateAsync(values))}
      className="space-y-2"
    >
      <FormError message={formError} />
      <TextAreaField
        label={initial ? "Note text" : "New note"}
        rows={initial ? 4 : 3}
        error={errors.body?.message}
        {...register("body")}
      />
      <FormActions submitLabel={initial ? "Save note" : "Add note"} busy={save.isPending} onCancel={initial ? onDone : undefined} />
    </form>
  );
}

function NoteItem({ artistId, note }: { artistId: string; note: NoteRead }) {
  const { canEdit, me } = useSession();
  const queryClient = useQueryClient();
  const [editing, setEditing] = useState(false);
  const remove = useMutation({
    mutationFn: () =>
      unwrap(
        api.DELETE("/api/v1/artists/{artist_id}/notes/{note_id}", {
          params: { path: { artist_id: artistId, note_id: note.id } },
        }),
      ),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ["artists", artistId] }),
  });
  const author =
    note.author_id === null ? "a former member" : note.author_id === me?.user.id ? "you" : "a teammate";
  const edited = note.updated_at !== note.created_at;
  return (
    <li className="py-3">
      <article aria-label={`Note from ${formatDateTime(note.created_at)}`} className="space-y-2">
        {editing ? (
          <NoteForm artistId={artistId} initial={note} onDone={() => setEditing(false)} />
        ) : (
          <p className="whitespace-pre-wrap break-words text-sm text-slate-900">{note.body}</p>
        )}
        <div className="flex flex-wrap items-center justify-between gap-2">
          <p className="text-xs text-slate-600">
            By {author}, {formatDateTime(note.created_at)}
            {edited && ` · edited ${formatDateTime(note.updated_at)}`}
          </p>
          {canEdit && !editing && (
            <div className="flex flex-wrap gap-2">
              <Button tone="secondary" onClick={() => setEditing(true)}>
                Edit note
              </Button>
              <ConfirmButton
                label="Delete note"
                question="Delete this note?"
                confirmLabel="Yes, delete"
                tone="ghost"
                onConfirm={() => remove.mutateAsync()}
              />
            </div>
          )}
        </div>
      </article>
    </li>
  );
}

export function NotesCard({ artistId }: { artistId: string }) {
  const { canEdit } = useSession();
  const notes = usePagedList(["artists", artistId, "notes"], (cursor) =>
    unwrap(
      api.GET("/api/v1/artists/{artist_id}/notes", {
        params: { path: { artist_id: artistId }, query: { limit: 50, cursor } },
      }),
    ),
  );
  return (
    <Card title="Notes">
      <div className="space-y-4">
        {canEdit && <NoteForm artistId={artistId} onDone={() => undefined} />}
        <PagedList
          list={notes}
          loading="Loading notes"
          more="Load more notes"
          empty={<Empty title="No notes yet">Notes are shared with everyone in this workspace.</Empty>}
        >
          {(items) => (
            <ul aria-label="Notes" className="divide-y divide-slate-100">
              {items.map((note) => (
                <NoteItem key={note.id} artistId={artistId} note={note} />
              ))}
            </ul>
          )}
        </PagedList>
      </div>
    </Card>
  );
}
