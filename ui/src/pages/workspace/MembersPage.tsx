/** The workspace's members and their roles, its invitations, and the workspace itself
 * (rename, create another, leave). What each person sees follows their role. */
import { useId, useState } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "@/api/client";
import type { components } from "@/api/schema";
import { useSession, type Me, type Role } from "@/auth/session";
import { Button } from "@/components/buttons";
import { ActionError } from "@/components/forms";
import { ConfirmButton } from "@/components/confirm";
import { Badge, Card, PageHeader, Table } from "@/components/page";
import { PagedList } from "@/components/paged";
import { Empty } from "@/components/states";
import { formatDate } from "@/lib/format";
import { usePagedList } from "@/lib/paging";
import { InvitationsCard } from "./InvitationsCard";
import { WorkspaceCard } from "./WorkspaceCard";
import { ROLE_LABELS, ROLE_SUMMARY, ROLE_TONES, grantableRoles, personLabel, shortId } from "./people";

type Member = components["schemas"]["MemberRead"];

const PAGE_SIZE = 50;

export default function MembersPage() {
  const { me, canAdmin } = useSession();
  const workspace = me?.workspaces.find((w) => w.id === me.workspace_id);
  return (
    <>
      <PageHeader
        title="Members"
        description={workspace ? `Who works in ${workspace.name}, and what each may do.` : undefined}
      />
      <div className="space-y-6">
        <MembersCard />
        {canAdmin && <InvitationsCard />}
        <WorkspaceCard />
      </div>
    </>
  );
}

function MembersCard() {
  const { me, canAdmin } = useSession();
  const members = usePagedList(["members"], (cursor) =>
    unwrap(api.GET("/api/v1/members", { params: { query: { limit: PAGE_SIZE, cursor } } })),
  );

  return (
    <Card title="Members">
      <p className="mb-4 text-sm text-slate-600">{ROLE_SUMMARY}</p>
      <PagedList
        list={members}
        loading="Loading members"
        more="Load more members"
        empty={<Empty title="No members to show" />}
      >
        {(rows) => (
          <Table
            caption="Members of this workspace"
            head={canAdmin ? ["Member", "Role", "Joined", "Actions"] : ["Member", "Role", "Joined"]}
          >
            {rows.map((member) => (
              <MemberRow key={member.id} member={member} me={me} manage={canAdmin} />
            ))}
          </Table>
        )}
      </PagedList>
    </Card>
  );
}

function MemberRow({ member, me, manage }: { member: Member; me: Me | undefined; manage: boolean }) {
  const queryClient = useQueryClient();
  const { role: callerRole } = useSession();
  const isSelf = me !== undefined && member.user_id === me.user.id;
  const name = personLabel(member.user_id, me);

  const grantable = grantableRoles(callerRole);
  // An admin may neither touch an owner nor make one; an owner may do both.
  const canChangeRole = grantable.length > 0 && grantable.includes(member.role);
  const canRemove = canChangeRole && !isSelf;

  const changeRole = useMutation({
    mutationFn: (role: Role) =>
      unwrap(api.PATCH("/api/v1/members/{member_id}", { params: { path: { member_id: member.id } }, body: { role } })),
    onSettled: () => {
      void queryClient.invalidateQueries({ queryKey: ["members"] });
      if (isSelf) void queryClient.invalidateQueries({ queryKey: ["me"] });
    },
  });

  const remove = useMutation({
    mutationFn: () =>
      unwrap(api.DELETE("/api/v1/members/{member_id}", { params: { path: { member_id: member.id } } })),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ["members"] }),
  });

  return (
    <tr>
      <td className="px-3 py-2 align-top">
        <span className="font-medium text-slate-900">{name}</span>
        <span className="block font-mono text-xs text-slate-500" title={member.user_id}>
          user id {shortId(member.user_id)}
        </span>
      </td>
      <td className="px-3 py-2 align-top">
        {canChangeRole ? (
          <RolePicker
            name={name}
            isSelf={isSelf}
            current={member.role}
            roles={grantable}
            busy={changeRole.isPending}
            onChange={(role) => changeRole.mutateAsync(role)}
          />
        ) : (
          <Badge tone={ROLE_TONES[member.role]}>{ROLE_LABELS[member.role]}</Badge>
        )}
      </td>
      <td className="whitespace-nowrap px-3 py-2 align-top text-slate-700">{formatDate(member.created_at)}</td>
      {manage && (
        <td className="px-3 py-2 align-top">
          {canRemove ? (
            <ConfirmButton
              label="Remove"
              accessibleLabel={`Remove ${name}`}
              question={`Remove ${name} from the workspace? They lose access at once.`}
              confirmLabel="Remove member"
              busy={remove.isPending}
              onConfirm={() => remove.mutate()}
            />
          ) : (
            <span className="text-xs text-slate-500">{isSelf ? "You: see Leave this workspace" : "—"}</span>
          )}
          <ActionError error={remove.error ?? changeRole.error} />
        </td>
      )}
    </tr>
  );
}

/** A role select whose change is confirmed first (so arrowing through the options, which
 * fires a change in some browsers, changes nothing by itself). */
function RolePicker({
  name,
  isSelf,
  current,
  roles,
  busy,
  onChange,
}: {
  name: string;
  isSelf: boolean;
  current: Role;
  roles: Role[];
  busy: boolean;
  onChange: (role: Role) => Promise<unknown>;
}) {
  // Null until a different role is picked; the member's role (which may change live) shows.
  const [picked, setPicked] = useState<Role | null>(null);
  const selectId = useId();
  const chosen = picked ?? current;
  const pending = chosen !== current;
  const warning = isSelf && (chosen === "editor" || chosen === "viewer") ? " You can no longer manage members then." : "";
  return (
    <div className="space-y-2">
      <label htmlFor={selectId} className="sr-only">
        Role of {name}
      </label>
      <select
        id={selectId}
        value={chosen}
        disabled={busy}
        onChange={(event) => setPicked(event.target.value as Role)}
        className="block rounded-md border-0 py-1.5 pl-2 pr-8 text-sm text-slate-900 ring-1 ring-inset ring-slate-300 focus:ring-2 focus:ring-indigo-600"
      >
        {roles.map((role) => (
          <option key={role} value={role}>
            {ROLE_LABELS[role]}
          </option>
        ))}
      </select>
      {pending && (
        <div role="group" aria-label={`Confirm role of ${name}`} className="flex flex-wrap items-center gap-2 text-xs text-slate-700">
          <span>
            Make {isSelf ? "yourself" : name} {ROLE_LABELS[chosen].toLowerCase()}?{warning}
          </span>
          <Button
            busy={busy}
            onClick={() =>
              // A refusal is shown by the row; the pick stays for another try or Cancel.
              onChange(chosen).then(() => setPicked(null), () => undefined)
            }
          >
            Change role
          </Button>
          <Button tone="ghost" onClick={() => setPicked(null)}>
            Cancel
          </Button>
        </div>
      )}
    </div>
  );
}
