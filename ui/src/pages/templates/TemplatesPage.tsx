/** Email templates: the list (searchable, a page at a time), a form to start a new one (then
 * its editor), and delete with confirmation. */
import { useState } from "react";
import { Link, useNavigate } from "react-router";
import { useForm } from "react-hook-form";
import { zodResolver } from "@hookform/resolvers/zod";
import { z } from "zod";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "@/api/client";
import { useSession } from "@/auth/session";
import { Button } from "@/components/buttons";
import { ConfirmButton } from "@/components/confirm";
import { FormActions, FormError, SelectField, TextAreaField, TextField } from "@/components/forms";
import { Badge, Card, PageHeader, Table } from "@/components/page";
import { PagedList } from "@/components/paged";
import { Empty } from "@/components/states";
import { useApiSubmit } from "@/lib/forms";
import { formatDateTime } from "@/lib/format";
import { usePagedList } from "@/lib/paging";
import { useDebounced } from "@/lib/useDebounced";
import { TEMPLATE_TYPES, templateTypeLabel, type TemplateType } from "./templateTypes";

const PAGE_SIZE = 50;

const createSchema = z.object({
  name: z.string().trim().min(1, "Give the template a name").max(200, "At most 200 characters"),
  type: z.enum(["initial", "follow_up"]),
  subject: z.string().trim().min(1, "Write a subject").max(500, "At most 500 characters"),
  body_text: z
    .string()
    .max(100_000, "At most 100,000 characters")
    .refine((body) => body.trim().length > 0, "Write the message (you can add an HTML body in the editor)"),
});
type CreateValues = z.infer<typeof createSchema>;
const CREATE_FIELDS = ["name", "type", "subject", "body_text", "body_html"] as const;

function CreateTemplateForm({ onCancel }: { onCancel: () => void }) {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const form = useForm<CreateValues>({
    resolver: zodResolver(createSchema),
    defaultValues: { name: "", type: "initial", subject: "", body_text: "" },
  });
  const { register } = form;
  const { errors, isSubmitting } = form.formState;
  const { formError, submit } = useApiSubmit(form, CREATE_FIELDS);

  const onSubmit = submit(async (values) => {
    const created = await unwrap(api.POST("/api/v1/email-templates", { body: { ...values, body_html: "" } }));
    await queryClient.invalidateQueries({ queryKey: ["email-templates"] });
    navigate(`/templates/${created.id}`);
  });

  return (
    <Card title="New template">
      <form onSubmit={onSubmit} noValidate className="space-y-4">
        <FormError message={formError} />
        <div className="grid gap-4 sm:grid-cols-2">
          <TextField label="Name" autoComplete="off" error={errors.name?.message} {...register("name")} />
          <SelectField
            label="Type"
            options={TEMPLATE_TYPES}
            hint="Follow-ups go to recipients who have not replied."
            error={errors.type?.message}
            {...register("type")}
          />
        </div>
        <TextField
          label="Subject"
          autoComplete="off"
          hint="Variables such as {{ artist.name }} work here and in the body."
          error={errors.subject?.message}
          {...register("subject")}
        />
        <TextAreaField label="Body" rows={8} error={errors.body_text?.message} {...register("body_text")} />
        <FormActions submitLabel="Create template" busy={isSubmitting} onCancel={onCancel} />
      </form>
    </Card>
  );
}

export default function TemplatesPage() {
  const { canEdit } = useSession();
  const queryClient = useQueryClient();
  const [creating, setCreating] = useState(false);
  const [search, setSearch] = useState("");
  const [type, setType] = useState<TemplateType | "">("");
  const q = useDebounced(search.trim(), 400);

  const templates = usePagedList(["email-templates", "list", { q, type }], (cursor) =>
    unwrap(
      api.GET("/api/v1/email-templates", {
        params: { query: { limit: PAGE_SIZE, sort: "-updated_at", q: q || undefined, type: type || undefined, cursor } },
      }),
    ),
  );

  const remove = useMutation({
    mutationFn: (templateId: string) =>
      unwrap(api.DELETE("/api/v1/email-templates/{template_id}", { params: { path: { template_id: templateId } } })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["email-templates"] }),
  });

  const filtered = q !== "" || type !== "";

  return (
    <div className="space-y-6">
      <PageHeader
        title="Email templates"
        description="The messages outreach sends, personalised for each artist."
        actions={
          canEdit && !creating ? <Button onClick={() => setCreating(true)}>New template</Button> : null
        }
      />
      {creating && <CreateTemplateForm onCancel={() => setCreating(false)} />}

      <div className="grid gap-4 sm:grid-cols-[minmax(0,1fr)_14rem]">
        <TextField
          label="Search templates"
          type="search"
          value={search}
          onChange={(event) => setSearch(event.target.value)}
        />
        <SelectField
          label="Filter by type"
          value={type}
          onChange={(event) => setType(event.target.value as TemplateType | "")}
          options={[{ value: "", label: "All types" }, ...TEMPLATE_TYPES]}
        />
      </div>

      <PagedList
        list={templates}
        loading="Loading templates"
        more="Load more"
        empty={
          filtered ? (
            <Empty title="No templates match">Try other words or another type.</Empty>
          ) : (
            <Empty title="No templates yet">
              {canEdit ? "Create one with “New template”." : "An editor of this workspace can create one."}
            </Empty>
          )
        }
      >
        {(rows) => (
          <Table caption="Email templates" head={["Name", "Type", "Subject", "Updated", ...(canEdit ? ["Actions"] : [])]}>
            {rows.map((template) => (
              <tr key={template.id}>
                <td className="px-3 py-2 font-medium">
                  <Link to={`/templates/${template.id}`} className="text-indigo-700 hover:underline">
                    {template.name}
                  </Link>
                </td>
                <td className="px-3 py-2">
                  <Badge tone={template.type === "initial" ? "indigo" : "slate"}>{templateTypeLabel(template.type)}</Badge>
                </td>
                <td className="max-w-xs truncate px-3 py-2 font-mono text-xs text-slate-700" title={template.subject}>
                  {template.subject}
                </td>
                <td className="whitespace-nowrap px-3 py-2 text-slate-600">{formatDateTime(template.updated_at)}</td>
                {canEdit && (
                  <td className="px-3 py-2">
                    <ConfirmButton
                      label="Delete"
                      accessibleLabel={`Delete template ${template.name}`}
                      question={`Delete the template “${template.name}”?`}
                      confirmLabel="Yes, delete"
                      tone="ghost"
                      onConfirm={() => remove.mutateAsync(template.id)}
                    />
                  </td>
                )}
              </tr>
            ))}
          </Table>
        )}
      </PagedList>
    </div>
  );
}
