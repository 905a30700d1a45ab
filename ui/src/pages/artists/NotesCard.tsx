/** The workspace's notes on an artist: list, write, edit, delete. */
import { useState } from "react";
import { useForm } from "react-hook-form";
import { zodResolver } from "@hookform/resolvers/zod";
import { z } from "zod";
import { useInfiniteQuery, useMutation, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "@/api/client";
import { errorMessage } from "@/api/problem";
import type { components } from "@/api/schema";
import { useSession } from "@/auth/session";
import { Button } from "@/components/buttons";
import { FormError, TextAreaField } from "@/components/forms";
import { Card } from "@/components/page";
import { Empty, ErrorState, Loading } from "@/components/states";
import { formatDateTime } from "@/lib/format";
import { showApiError } from "@/lib/forms";

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
  const [formError, setFormError] = useState<string | null>(null);
  const {
    register,
    handleSubmit,
    reset,
    setError,
    formState: { errors },
  } = useForm<Values>({ resolver: zodResolver(schema), defaultValues: { body: initial?.body ?? "" } });
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
      if (!initial) reset({ body: "" });
      onDone();
    },
    onError: (error) => setFormError(showApiError(error, setError, FIELDS)),
  });
  return (
    <form
      aria-label={initial ? "Edit note" : "Add note"}
      noValidate
      onSubmit={handleSubmit((values) => {
        setFormError(null);
        save.mutate(values);
      })}
      className="space-y-2"
    >
      <FormError message={formError} />
      <TextAreaField
        label={initial ? "Note text" : "New note"}
        rows={initial ? 4 : 3}
        error={errors.body?.message}
        {...register("body")}
      />
      <div className="flex flex-wrap gap-2">
        <Button type="submit" busy={save.isPending}>
          {initial ? "Save note" : "Add note"}
        </Button>
        {initial && (
          <Button tone="secondary" onClick={onDone}>
            Cancel
          </Button>
        )}
      </div>
    </form>
  );
}

function NoteItem({ artistId, note }: { artistId: string; note: NoteRead }) {
  const { canEdit, me } = useSession();
  const queryClient = useQueryClient();
  const [mode, setMode] = useState<"view" | "edit" | "confirm">("view");
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
        {mode === "edit" ? (
          <NoteForm artistId={artistId} initial={note} onDone={() => setMode("view")} />
        ) : (
          <p className="whitespace-pre-wrap break-words text-sm text-slate-900">{note.body}</p>
        )}
        <div className="flex flex-wrap items-center justify-between gap-2">
          <p className="text-xs text-slate-600">
            By {author}, {formatDateTime(note.created_at)}
            {edited && ` · edited ${formatDateTime(note.updated_at)}`}
          </p>
          {canEdit && mode === "view" && (
            <div className="flex gap-2">
              <Button tone="secondary" onClick={() => setMode("edit")}>
                Edit note
              </Button>
              <Button tone="ghost" onClick={() => setMode("confirm")}>
                Delete note
              </Button>
            </div>
          )}
          {canEdit && mode === "confirm" && (
            <div className="flex flex-wrap items-center gap-2">
              <span className="text-sm text-slate-800">Delete this note?</span>
              <Button tone="danger" busy={remove.isPending} onClick={() => remove.mutate()}>
                Yes, delete
              </Button>
              <Button tone="secondary" onClick={() => setMode("view")}>
                Keep
              </Button>
            </div>
          )}
        </div>
        {remove.isError && (
          <p role="alert" className="text-xs text-red-700">
            Could not delete: {errorMessage(remove.error)}
          </p>
        )}
      </article>
    </li>
  );
}

export function NotesCard({ artistId }: { artistId: string }) {
  const { canEdit } = useSession();
  const notes = useInfiniteQuery({
    queryKey: ["artists", artistId, "notes"],
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET("/api/v1/artists/{artist_id}/notes", {
          params: { path: { artist_id: artistId }, query: { limit: 50, cursor: pageParam ?? undefined } },
        }),
      ),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next_cursor,
  });
  const items = notes.data?.pages.flatMap((page) => page.items) ?? [];
  return (
    <Card title="Notes">
      <div className="space-y-4">
        {canEdit && <NoteForm artistId={artistId} onDone={() => undefined} />}
        {notes.isPending ? (
          <Loading label="Loading notes" />
        ) : notes.isError && items.length === 0 ? (
          <ErrorState error={notes.error} retry={() => void notes.refetch()} />
        ) : items.length === 0 ? (
          <Empty title="No notes yet">Notes are shared with everyone in this workspace.</Empty>
        ) : (
          <ul aria-label="Notes" className="divide-y divide-slate-100">
            {items.map((note) => (
              <NoteItem key={note.id} artistId={artistId} note={note} />
            ))}
          </ul>
        )}
        {notes.hasNextPage && (
          <Button tone="secondary" busy={notes.isFetchingNextPage} onClick={() => void notes.fetchNextPage()}>
            Load more notes
          </Button>
        )}
      </div>
    </Card>
  );
}
