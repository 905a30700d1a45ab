/** Email templates: the list (searchable, a page at a time), a form to start a new one (then
 * its editor), and delete with confirmation. */
import { useState } from "react";
import { Link, useNavigate } from "react-router";
import { useForm } from "react-hook-form";
import { zodResolver } from "@hookform/resolvers/zod";
import { z } from "zod";
import { useInfiniteQuery, useMutation, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "@/api/client";
import { useSession } from "@/auth/session";
import { Button } from "@/components/buttons";
import { FormError, SelectField, TextAreaField, TextField } from "@/components/forms";
import { Badge, Card, PageHeader, Table } from "@/components/page";
import { Empty, ErrorState, Loading } from "@/components/states";
import { showApiError } from "@/lib/forms";
import { formatDateTime } from "@/lib/format";
import { ConfirmDelete } from "./ConfirmDelete";
import { TEMPLATE_TYPES, templateTypeLabel, type TemplateType } from "./templateTypes";
import { useDebounced } from "./useDebounced";

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
  const [formError, setFormError] = useState<string | null>(null);
  const {
    register,
    handleSubmit,
    setError,
    formState: { errors, isSubmitting },
  } = useForm<CreateValues>({
    resolver: zodResolver(createSchema),
    defaultValues: { name: "", type: "initial", subject: "", body_text: "" },
  });

  const onSubmit = handleSubmit(async (values) => {
    setFormError(null);
    try {
      const created = await unwrap(api.POST("/api/v1/email-templates", { body: { ...values, body_html: "" } }));
      await queryClient.invalidateQueries({ queryKey: ["email-templates"] });
      navigate(`/templates/${created.id}`);
    } catch (error) {
      setFormError(showApiError(error, setError, CREATE_FIELDS));
    }
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
        <div className="flex flex-wrap gap-2">
          <Button type="submit" busy={isSubmitting}>
            Create template
          </Button>
          <Button tone="secondary" onClick={onCancel}>
            Cancel
          </Button>
        </div>
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

  const templates = useInfiniteQuery({
    queryKey: ["email-templates", "list", { q, type }],
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET("/api/v1/email-templates", {
          params: {
            query: {
              limit: PAGE_SIZE,
              sort: "-updated_at",
              ...(q ? { q } : {}),
              ...(type ? { type } : {}),
              ...(pageParam ? { cursor: pageParam } : {}),
            },
          },
        }),
      ),
    initialPageParam: null as string | null,
    getNextPageParam: (page) => page.next_cursor,
  });

  const remove = useMutation({
    mutationFn: (templateId: string) =>
      unwrap(api.DELETE("/api/v1/email-templates/{template_id}", { params: { path: { template_id: templateId } } })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["email-templates"] }),
  });

  const rows = templates.data?.pages.flatMap((page) => page.items) ?? [];
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

      {templates.isPending ? (
        <Loading label="Loading templates" />
      ) : templates.data === undefined ? (
        <ErrorState error={templates.error} retry={() => void templates.refetch()} />
      ) : rows.length === 0 ? (
        filtered ? (
          <Empty title="No templates match">Try other words or another type.</Empty>
        ) : (
          <Empty title="No templates yet">
            {canEdit ? "Create one with “New template”." : "An editor of this workspace can create one."}
          </Empty>
        )
      ) : (
        <>
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
                    <ConfirmDelete
                      kind="template"
                      name={template.name}
                      onDelete={() => remove.mutateAsync(template.id)}
                    />
                  </td>
                )}
              </tr>
            ))}
          </Table>
          {templates.hasNextPage && (
            <Button
              tone="secondary"
              busy={templates.isFetchingNextPage}
              onClick={() => void templates.fetchNextPage()}
            >
              Load more
            </Button>
          )}
          {templates.isFetchNextPageError && (
            <ErrorState error={templates.error} retry={() => void templates.fetchNextPage()} />
          )}
        </>
      )}
    </div>
  );
}
