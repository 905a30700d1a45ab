/** The current workspace: rename it (owners and admins), create another, or leave it. */
import { useState } from "react";
import { useForm } from "react-hook-form";
import { zodResolver } from "@hookform/resolvers/zod";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useNavigate } from "react-router";
import { z } from "zod";
import { api, unwrap } from "@/api/client";
import { errorMessage } from "@/api/problem";
import { useSession } from "@/auth/session";
import { Button } from "@/components/buttons";
import { ConfirmButton } from "@/components/confirm";
import { ActionError, FormError, TextField } from "@/components/forms";
import { Card } from "@/components/page";
import { useApiSubmit } from "@/lib/forms";

const nameSchema = z.object({
  name: z
    .string()
    .trim()
    .min(1, "Enter a name for the workspace.")
    .max(200, "A workspace name has at most 200 characters."),
});
type NameValues = z.infer<typeof nameSchema>;

export function WorkspaceCard() {
  const { me, canAdmin } = useSession();
  const workspace = me?.workspaces.find((w) => w.id === me.workspace_id);
  return (
    <Card title="Workspace">
      <div className="space-y-8">
        {canAdmin && workspace && <RenameForm key={workspace.id} currentName={workspace.name} />}
        <CreateForm />
        <LeaveSection />
      </div>
    </Card>
  );
}

function RenameForm({ currentName }: { currentName: string }) {
  const queryClient = useQueryClient();
  const [saved, setSaved] = useState<string | null>(null);
  const form = useForm<NameValues>({ resolver: zodResolver(nameSchema), defaultValues: { name: currentName } });
  const { formError, submit } = useApiSubmit(form, ["name"]);
  const rename = useMutation({
    mutationFn: (values: NameValues) => unwrap(api.PATCH("/api/v1/workspace", { body: values })),
    onSuccess: (workspace) => {
      setSaved(`Renamed to ${workspace.name}.`);
      form.reset({ name: workspace.name });
      void queryClient.invalidateQueries({ queryKey: ["me"] });
      void queryClient.invalidateQueries({ queryKey: ["workspaces"] });
    },
  });
  return (
    <section aria-labelledby="rename-workspace">
      <h3 id="rename-workspace" className="mb-3 text-sm font-semibold text-slate-900">
        Rename this workspace
      </h3>
      <form
        noValidate
        aria-label="Rename this workspace"
        className="grid gap-3 sm:grid-cols-[1fr_auto] sm:items-start"
        onSubmit={submit((values) => {
          setSaved(null);
          return rename.mutateAsync(values);
        })}
      >
        <div className="sm:col-span-2">
          <FormError message={formError} />
        </div>
        <TextField label="Workspace name" error={form.formState.errors.name?.message} {...form.register("name")} />
        <Button type="submit" className="sm:mt-6" busy={rename.isPending} disabled={!form.formState.isDirty}>
          Rename
        </Button>
      </form>
      <p role="status" className="mt-2 text-sm text-green-800">
        {saved}
      </p>
    </section>
  );
}

function CreateForm() {
  const { switchWorkspace } = useSession();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const form = useForm<NameValues>({ resolver: zodResolver(nameSchema), defaultValues: { name: "" } });
  const { formError, submit } = useApiSubmit(form, ["name"]);
  const create = useMutation({
    mutationFn: async (values: NameValues) => {
      const workspace = await unwrap(api.POST("/api/v1/workspaces", { body: values }));
      void queryClient.invalidateQueries({ queryKey: ["workspaces"] });
      try {
        await switchWorkspace(workspace.id);
      } catch (reason) {
        throw new Error(
          `${workspace.name} was created, but switching to it failed (${errorMessage(reason)}). Choose it in the workspace menu.`,
        );
      }
      return workspace;
    },
    onSuccess: () => navigate("/"),
  });
  return (
    <section aria-labelledby="create-workspace">
      <h3 id="create-workspace" className="text-sm font-semibold text-slate-900">
        Create another workspace
      </h3>
      <p className="mb-3 mt-1 text-sm text-slate-600">
        A separate workspace of your own, with its own artists, campaigns and members. You are its owner,
        and you switch to it straight away.
      </p>
      <form
        noValidate
        aria-label="Create another workspace"
        className="grid gap-3 sm:grid-cols-[1fr_auto] sm:items-start"
        onSubmit={submit((values) => create.mutateAsync(values))}
      >
        <div className="sm:col-span-2">
          <FormError message={formError} />
        </div>
        <TextField
          label="New workspace name"
          error={form.formState.errors.name?.message}
          {...form.register("name")}
        />
        <Button type="submit" className="sm:mt-6" busy={create.isPending}>
          Create and switch
        </Button>
      </form>
    </section>
  );
}

function LeaveSection() {
  const { me, signIn, signOut } = useSession();
  const navigate = useNavigate();
  const others = me?.workspaces.filter((w) => w.id !== me.workspace_id) ?? [];
  const current = me?.workspaces.find((w) => w.id === me.workspace_id);
  const next = others[0];

  const leave = useMutation({
    mutationFn: async () => {
      // Tokens for another workspace first: once the membership is gone, these tokens are
      // refused, switching included.
      const pair = next
        ? await unwrap(api.POST("/api/v1/auth/switch", { body: { workspace_id: next.id } }))
        : null;
      try {
        await unwrap(api.DELETE("/api/v1/members/me"));
      } catch (failure) {
        if (pair) await api.POST("/api/v1/auth/logout", { body: { refresh_token: pair.refresh_token } });
        throw failure;
      }
      return pair;
    },
    onSuccess: async (pair) => {
      if (pair) {
        signIn(pair);
        navigate("/", { replace: true });
      } else {
        await signOut();
        navigate("/login", { replace: true });
      }
    },
  });

  if (!me) return null;
  const question = next
    ? `Leave ${current?.name ?? "this workspace"}? You lose access to it at once and move to ${next.name}.`
    : `Leave ${current?.name ?? "this workspace"}? It is your only workspace: you are signed out and cannot sign in again until someone invites you. Create another workspace first to keep your account usable.`;

  return (
    <section aria-labelledby="leave-workspace">
      <h3 id="leave-workspace" className="text-sm font-semibold text-slate-900">
        Leave this workspace
      </h3>
      <p className="mb-3 mt-1 text-sm text-slate-600">
        You stop being a member; someone has to invite you to come back. The last owner must first make
        another member owner.
      </p>
      <ConfirmButton
        label="Leave workspace"
        question={question}
        confirmLabel="Leave"
        busy={leave.isPending}
        onConfirm={() => leave.mutate()}
      />
      <ActionError error={leave.error} />
    </section>
  );
}
