/** One email template's editor: name, type, subject and both bodies, the variables to insert,
 * save (the server's refusal shown on the part and line it names), and the server's live
 * preview of what is typed, for a catalogue artist. */
import { useEffect, useRef, useState, type ReactNode } from "react";
import { Link, useBlocker, useParams } from "react-router";
import { useForm, useWatch, type Control } from "react-hook-form";
import { zodResolver } from "@hookform/resolvers/zod";
import { z } from "zod";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "@/api/client";
import { ApiError } from "@/api/problem";
import { useSession } from "@/auth/session";
import { Button } from "@/components/buttons";
import { Confirmation } from "@/components/confirm";
import { FormError, SelectField, TextAreaField, TextField } from "@/components/forms";
import { Badge, Card, PageHeader } from "@/components/page";
import { Empty, ErrorState, Loading } from "@/components/states";
import { useApiSubmit } from "@/lib/forms";
import { formatDateTime } from "@/lib/format";
import { TemplatePreview, type PreviewProblems } from "./TemplatePreview";
import {
  PART_LABELS,
  PART_LIMITS,
  TEMPLATE_TYPES,
  templateTypeLabel,
  type Draft,
  type Part,
  type Template,
} from "./templateTypes";
import { VariablesPanel } from "./VariablesPanel";

const editSchema = z
  .object({
    name: z.string().trim().min(1, "Give the template a name").max(200, "At most 200 characters"),
    type: z.enum(["initial", "follow_up"]),
    subject: z.string().min(1, "Write a subject").max(PART_LIMITS.subject, "At most 500 characters"),
    body_text: z.string().max(PART_LIMITS.body_text, "At most 100,000 characters"),
    body_html: z.string().max(PART_LIMITS.body_html, "At most 100,000 characters"),
  })
  .refine((values) => values.body_text.trim() !== "" || values.body_html.trim() !== "", {
    message: "Write a text body, an HTML body or both",
    path: ["body_text"],
  });
type EditValues = z.infer<typeof editSchema>;
const EDIT_FIELDS = ["name", "type", "subject", "body_text", "body_html"] as const;

function valuesOf(template: Template): EditValues {
  return {
    name: template.name,
    type: template.type,
    subject: template.subject,
    body_text: template.body_text,
    body_html: template.body_html,
  };
}

type Editable = HTMLInputElement | HTMLTextAreaElement;

const PARTS = Object.keys(PART_LABELS) as Part[];

/** The preview of what is typed: the parts that differ from the version the form was loaded
 * from go along as the draft, as saving would send them. Watching here keeps the editor itself
 * from rendering again on every keystroke. */
function LivePreview({
  control,
  base,
  template,
  onProblems,
}: {
  control: Control<EditValues>;
  base: Template;
  template: Template;
  onProblems: (problems: PreviewProblems) => void;
}) {
  const typed = useWatch({ control, name: PARTS });
  const draft: Draft = {};
  PARTS.forEach((part, index) => {
    const value = typed[index];
    if (value !== undefined && value !== base[part]) draft[part] = value;
  });
  return <TemplatePreview template={template} draft={draft} onProblems={onProblems} />;
}

/** A part's own hint, or what the preview found wrong with it (a hint: saving decides). */
function partHint(problem: string | undefined, hint?: string): ReactNode {
  if (!problem) return hint;
  return <span className="font-medium text-amber-800">Preview: {problem}</span>;
}

function TemplateEditor({ template }: { template: Template }) {
  const { canEdit } = useSession();
  const queryClient = useQueryClient();
  // The version the form was loaded from (or last saved as).
  const [base, setBase] = useState(template);
  const [savedAt, setSavedAt] = useState<string | null>(null);
  const [target, setTarget] = useState<Part>("body_text");
  const [previewProblems, setPreviewProblems] = useState<PreviewProblems>({});
  const elements = useRef<Partial<Record<Part, Editable | null>>>({});
  const focused = useRef(new Set<Part>());

  const form = useForm<EditValues>({ resolver: zodResolver(editSchema), defaultValues: valuesOf(template) });
  const { register, control, setValue, getValues, reset } = form;
  const { errors, isDirty, isSubmitting } = form.formState;
  const { formError, submit } = useApiSubmit(form, EDIT_FIELDS);

  // Saved elsewhere (another tab, a colleague): taken over when nothing is typed here;
  // otherwise the notice below says that saving replaces it.
  useEffect(() => {
    if (template.updated_at !== base.updated_at && !isDirty) {
      reset(valuesOf(template));
      setBase(template);
    }
  }, [template, base.updated_at, isDirty, reset]);

  useEffect(() => {
    if (!isDirty) return;
    const warn = (event: BeforeUnloadEvent) => event.preventDefault();
    window.addEventListener("beforeunload", warn);
    return () => window.removeEventListener("beforeunload", warn);
  }, [isDirty]);
  const blocker = useBlocker(
    ({ currentLocation, nextLocation }) => isDirty && currentLocation.pathname !== nextLocation.pathname,
  );

  const bind = (part: Part) => {
    const registration = register(part);
    return {
      ...registration,
      ref: (element: Editable | null) => {
        registration.ref(element);
        elements.current[part] = element;
      },
      onFocus: () => {
        focused.current.add(part);
        setTarget(part);
      },
    };
  };

  const insertVariable = (name: string) => {
    const token = `{{ ${name} }}`;
    const element = elements.current[target];
    const current = getValues(target);
    // A part never focused gets the variable at its end; otherwise at its caret (kept on blur).
    const caret = element && focused.current.has(target);
    const start = caret ? (element.selectionStart ?? current.length) : current.length;
    const end = caret ? (element.selectionEnd ?? start) : current.length;
    setValue(target, current.slice(0, start) + token + current.slice(end), { shouldDirty: true });
    if (element) {
      element.focus();
      element.setSelectionRange(start + token.length, start + token.length);
    }
  };

  const onSubmit = submit(async (values) => {
    setSavedAt(null);
    const changes = Object.fromEntries(
      EDIT_FIELDS.filter((field) => values[field] !== base[field]).map((field) => [field, values[field]]),
    );
    const updated = await unwrap(
      api.PATCH("/api/v1/email-templates/{template_id}", {
        params: { path: { template_id: template.id } },
        body: changes,
      }),
    );
    queryClient.setQueryData(["email-templates", "one", template.id], updated);
    void queryClient.invalidateQueries({ queryKey: ["email-templates", "list"] });
    setBase(updated);
    reset(valuesOf(updated));
    setSavedAt(updated.updated_at);
  });

  const changedElsewhere = isDirty && template.updated_at !== base.updated_at;

  return (
    <div className="space-y-6">
      <Link to="/templates" className="text-sm text-indigo-700 hover:underline">
        ← All templates
      </Link>
      <PageHeader
        title={base.name}
        description={
          <span className="inline-flex flex-wrap items-center gap-2">
            <Badge tone={base.type === "initial" ? "indigo" : "slate"}>{templateTypeLabel(base.type)}</Badge>
            <span>Updated {formatDateTime(base.updated_at)}</span>
          </span>
        }
      />

      {blocker.state === "blocked" && (
        <Confirmation
          question="Leave without saving? Your changes to this template will be lost."
          confirmLabel="Leave"
          dismissLabel="Stay"
          onConfirm={() => blocker.proceed()}
          onDismiss={() => blocker.reset()}
        />
      )}

      <div className="grid gap-6 xl:grid-cols-2">
        <div className="min-w-0 space-y-6">
          <Card title="Message">
            <form onSubmit={onSubmit} noValidate className="space-y-4" aria-label="Edit template">
              <FormError message={formError} />
              {changedElsewhere && (
                <p role="status" className="rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-900">
                  Someone saved this template at {formatDateTime(template.updated_at)} while you were editing.
                  Saving replaces the parts you changed with yours.
                </p>
              )}
              <div className="grid gap-4 sm:grid-cols-2">
                <TextField label="Name" autoComplete="off" readOnly={!canEdit} error={errors.name?.message} {...register("name")} />
                <SelectField
                  label="Type"
                  options={TEMPLATE_TYPES}
                  disabled={!canEdit}
                  error={errors.type?.message}
                  {...register("type")}
                />
              </div>
              <TextField
                label="Subject"
                autoComplete="off"
                spellCheck
                readOnly={!canEdit}
                hint={partHint(previewProblems.subject)}
                error={errors.subject?.message}
                {...bind("subject")}
              />
              <TextAreaField
                label="Text body"
                rows={12}
                spellCheck
                readOnly={!canEdit}
                hint={partHint(
                  previewProblems.body_text,
                  "The plain-text part. Left empty, sending derives it from the HTML body.",
                )}
                error={errors.body_text?.message}
                {...bind("body_text")}
              />
              <TextAreaField
                label="HTML body"
                rows={12}
                mono
                readOnly={!canEdit}
                hint={partHint(
                  previewProblems.body_html,
                  "Optional. Values are escaped, so an artist's name cannot add markup.",
                )}
                error={errors.body_html?.message}
                {...bind("body_html")}
              />
              {canEdit && (
                <div className="flex flex-wrap items-center gap-3">
                  <Button type="submit" busy={isSubmitting} disabled={!isDirty}>
                    Save template
                  </Button>
                  <span role="status" className="text-sm text-slate-600">
                    {isDirty ? "Unsaved changes" : savedAt ? `Saved at ${formatDateTime(savedAt)}` : ""}
                  </span>
                </div>
              )}
            </form>
          </Card>
          <VariablesPanel target={target} onInsert={insertVariable} canInsert={canEdit} />
        </div>
        <div className="min-w-0">
          <LivePreview control={control} base={base} template={template} onProblems={setPreviewProblems} />
        </div>
      </div>
    </div>
  );
}

export default function TemplatePage() {
  const { templateId = "" } = useParams();
  const template = useQuery({
    queryKey: ["email-templates", "one", templateId],
    queryFn: () =>
      unwrap(api.GET("/api/v1/email-templates/{template_id}", { params: { path: { template_id: templateId } } })),
  });

  if (template.isPending) return <Loading label="Loading the template" />;
  if (template.data === undefined) {
    if (template.error instanceof ApiError && (template.error.status === 404 || template.error.status === 422)) {
      return (
        <div>
          <PageHeader title="Template not found" />
          <Empty title="This template does not exist in this workspace">
            It may have been deleted.{" "}
            <Link to="/templates" className="text-indigo-700 underline">
              All templates
            </Link>
          </Empty>
        </div>
      );
    }
    return <ErrorState error={template.error} retry={() => void template.refetch()} />;
  }
  return <TemplateEditor key={templateId} template={template.data} />;
}
