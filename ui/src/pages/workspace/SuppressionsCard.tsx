/** The workspace's suppression list: addresses never emailed again (unsubscribed, bounced,
 * complained, or added by hand). Everyone reads it; editors and above add and lift. */
import { useState } from "react";
import { useForm } from "react-hook-form";
import { zodResolver } from "@hookform/resolvers/zod";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { z } from "zod";
import { api, unwrap } from "@/api/client";
import type { components } from "@/api/schema";
import { useSession } from "@/auth/session";
import { Button } from "@/components/buttons";
import { ConfirmButton } from "@/components/confirm";
import { ActionError, FormError, SelectField, TextField } from "@/components/forms";
import { Badge, Card, Table } from "@/components/page";
import { PagedList } from "@/components/paged";
import { Empty } from "@/components/states";
import { formatDate } from "@/lib/format";
import { usePagedList } from "@/lib/paging";
import { useApiSubmit } from "@/lib/forms";
import { emailAddress } from "@/lib/rules";
import { useDebounced } from "@/lib/useDebounced";

type Suppression = components["schemas"]["SuppressionRead"];
type Reason = components["schemas"]["SuppressionReason"];

const PAGE_SIZE = 50;
const REASONS: Record<Reason, { label: string; tone: "slate" | "amber" | "red" | "indigo" }> = {
  unsubscribed: { label: "Unsubscribed", tone: "slate" },
  bounced: { label: "Bounced", tone: "amber" },
  complained: { label: "Complained", tone: "red" },
  manual: { label: "Added by hand", tone: "indigo" },
};
const REASON_VALUES = Object.keys(REASONS) as Reason[];

const schema = z.object({
  email: emailAddress(),
  reason: z.enum(["unsubscribed", "bounced", "complained", "manual"]),
});
type Values = z.infer<typeof schema>;

export function SuppressionsCard() {
  const { canEdit } = useSession();
  const [search, setSearch] = useState("");
  // Searched once typing pauses, not at every key.
  const q = useDebounced(search.trim(), 300);
  const [reason, setReason] = useState<Reason | "">("");

  const filters = { q: q || undefined, reason: reason || undefined };
  const suppressions = usePagedList(["suppressions", filters], (cursor) =>
    unwrap(api.GET("/api/v1/suppressions", { params: { query: { ...filters, limit: PAGE_SIZE, cursor } } })),
  );
  const filtered = Boolean(filters.q || filters.reason);

  return (
    <Card title="Suppression list">
      <p className="mb-4 text-sm text-slate-600">
        Addresses this workspace never emails again. Outreach skips them whatever list they are on.
      </p>
      <div className="space-y-6">
        {canEdit && <SuppressForm />}
        <section aria-labelledby="suppressed-addresses" className="space-y-3">
          <h3 id="suppressed-addresses" className="text-sm font-semibold text-slate-900">
            Suppressed addresses
          </h3>
          <div role="search" className="grid gap-3 sm:grid-cols-2">
            <TextField
              label="Search addresses"
              type="search"
              value={search}
              onChange={(event) => setSearch(event.target.value)}
            />
            <SelectField
              label="Reason"
              value={reason}
              onChange={(event) => setReason(event.target.value as Reason | "")}
              options={[
                { value: "", label: "Any reason" },
                ...REASON_VALUES.map((value) => ({ value, label: REASONS[value].label })),
              ]}
            />
          </div>
          <PagedList
            list={suppressions}
            loading="Loading the suppression list"
            more="Load more addresses"
            empty={
              <Empty title={filtered ? "No suppressed address matches" : "No suppressed addresses"}>
                {filtered
                  ? "Change the search or the reason."
                  : "Unsubscribes, bounces and complaints are added here on their own."}
              </Empty>
            }
          >
            {(rows) => (
              <Table
                caption="Suppressed addresses"
                head={canEdit ? ["Address", "Reason", "Added", "Actions"] : ["Address", "Reason", "Added"]}
              >
                {rows.map((row) => (
                  <SuppressionRow key={row.id} suppression={row} canEdit={canEdit} />
                ))}
              </Table>
            )}
          </PagedList>
        </section>
      </div>
    </Card>
  );
}

function SuppressForm() {
  const queryClient = useQueryClient();
  const [done, setDone] = useState<string | null>(null);
  const form = useForm<Values>({ resolver: zodResolver(schema), defaultValues: { email: "", reason: "manual" } });
  const { formError, submit } = useApiSubmit(form, ["email", "reason"]);
  const suppress = useMutation({
    mutationFn: async (values: Values) => {
      const result = await api.POST("/api/v1/suppressions", { body: values });
      const suppression = await unwrap(Promise.resolve(result));
      return { suppression, added: result.response.status === 201 };
    },
    onSuccess: ({ suppression, added }) => {
      setDone(
        added
          ? `${suppression.email} will not be emailed again.`
          : `${suppression.email} was already suppressed (${REASONS[suppression.reason].label.toLowerCase()}); nothing changed.`,
      );
      form.reset({ email: "", reason: form.getValues("reason") });
      void queryClient.invalidateQueries({ queryKey: ["suppressions"] });
    },
  });
  return (
    <section aria-labelledby="suppress-address">
      <h3 id="suppress-address" className="mb-3 text-sm font-semibold text-slate-900">
        Suppress an address
      </h3>
      <form
        noValidate
        aria-label="Suppress an address"
        className="grid gap-3 sm:grid-cols-[1fr_12rem_auto] sm:items-start"
        onSubmit={submit((values) => {
          setDone(null);
          return suppress.mutateAsync(values);
        })}
      >
        <div className="sm:col-span-3">
          <FormError message={formError} />
        </div>
        <TextField
          label="Address to suppress"
          type="email"
          autoComplete="off"
          error={form.formState.errors.email?.message}
          {...form.register("email")}
        />
        <SelectField
          label="Why"
          options={REASON_VALUES.map((value) => ({ value, label: REASONS[value].label }))}
          error={form.formState.errors.reason?.message}
          {...form.register("reason")}
        />
        <Button type="submit" className="sm:mt-6" busy={suppress.isPending}>
          Suppress
        </Button>
      </form>
      <p role="status" className="mt-2 text-sm text-green-800">
        {done}
      </p>
    </section>
  );
}

function liftQuestion({ email: address, reason }: Suppression): string {
  switch (reason) {
    case "unsubscribed":
      return `${address} unsubscribed. Lift the suppression only if they asked to hear from you again.`;
    case "bounced":
      return `Mail to ${address} bounced. Lift the suppression only if the address works again.`;
    case "complained":
      return `${address} reported your mail as spam. Lift the suppression only if they asked you to.`;
    case "manual":
      return `Allow emailing ${address} again?`;
  }
}

function SuppressionRow({ suppression, canEdit }: { suppression: Suppression; canEdit: boolean }) {
  const queryClient = useQueryClient();
  const lift = useMutation({
    mutationFn: () =>
      unwrap(api.DELETE("/api/v1/suppressions/{email}", { params: { path: { email: suppression.email } } })),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ["suppressions"] }),
  });
  const reason = REASONS[suppression.reason];
  return (
    <tr>
      <td className="break-all px-3 py-2 align-top font-medium text-slate-900">{suppression.email}</td>
      <td className="px-3 py-2 align-top">
        <Badge tone={reason.tone}>{reason.label}</Badge>
      </td>
      <td className="whitespace-nowrap px-3 py-2 align-top text-slate-700">{formatDate(suppression.created_at)}</td>
      {canEdit && (
        <td className="px-3 py-2 align-top">
          <ConfirmButton
            label="Lift"
            accessibleLabel={`Lift the suppression of ${suppression.email}`}
            question={liftQuestion(suppression)}
            confirmLabel="Lift suppression"
            busy={lift.isPending}
            onConfirm={() => lift.mutate()}
          />
          <ActionError error={lift.error} />
        </td>
      )}
    </tr>
  );
}
