/** An outreach's settings, as one form for creating (POST) and editing (PATCH of the fields
 * changed): every field of ``OutreachCampaignCreate``, checked here first and then by the server,
 * whose 422 lands on the field it names. */
import { useEffect, useMemo, useRef } from "react";
import { useForm } from "react-hook-form";
import { zodResolver } from "@hookform/resolvers/zod";
import { z } from "zod";
import { Link } from "react-router";
import { FormActions, FormError, SelectField, TextField } from "@/components/forms";
import { Loading, ErrorState } from "@/components/states";
import { useApiSubmit } from "@/lib/forms";
import { formatNumber } from "@/lib/format";
import type { components } from "@/api/schema";
import { useCampaignOptions, useMailboxes, useTemplates, type Mailbox, type Template } from "./lookups";
import { describeWindow, type Outreach } from "./status";

export type OutreachCreate = components["schemas"]["OutreachCampaignCreate"];
export type OutreachUpdate = components["schemas"]["OutreachCampaignUpdate"];

const DAILY_LIMIT_MAX = 10_000;

export const settingsSchema = z.object({
  name: z
    .string()
    .trim()
    .min(1, "Give the outreach a name.")
    .max(200, "Keep the name to 200 characters."),
  campaign_id: z.string(),
  template_id: z.string().min(1, "Choose the template of the first message."),
  mailbox_id: z.string(),
  sender_email: z
    .string()
    .trim()
    .min(1, "Enter the address the messages come from.")
    .email("Enter a valid email address, like you@example.com."),
  sender_name: z.string().trim().max(200, "Keep the sender name to 200 characters."),
  daily_limit: z
    .number({ error: `Enter a whole number from 1 to ${formatNumber(DAILY_LIMIT_MAX)}.` })
    .int(`Enter a whole number from 1 to ${formatNumber(DAILY_LIMIT_MAX)}.`)
    .min(1, "Send at least 1 message a day.")
    .max(DAILY_LIMIT_MAX, `At most ${formatNumber(DAILY_LIMIT_MAX)} messages a day.`),
  scheduled_at: z
    .string()
    .refine((value) => value === "" || !Number.isNaN(new Date(value).getTime()), "Enter a date and a time."),
});

export type SettingsValues = z.infer<typeof settingsSchema>;
type Field = keyof SettingsValues;
const FIELDS: readonly Field[] = [
  "name",
  "campaign_id",
  "template_id",
  "mailbox_id",
  "sender_email",
  "sender_name",
  "daily_limit",
  "scheduled_at",
];

/** ``2025-03-01T09:30`` in the browser's zone, as a ``datetime-local`` input shows it. */
export function toLocalInput(iso: string | null | undefined): string {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

function fromLocalInput(value: string): string | null {
  return value === "" ? null : new Date(value).toISOString();
}

/** The values as the API takes them: empty selects are ``null`` (no campaign, the outbox). */
export function toBody(values: SettingsValues): OutreachCreate {
  return {
    name: values.name,
    campaign_id: values.campaign_id || null,
    template_id: values.template_id,
    mailbox_id: values.mailbox_id || null,
    sender_email: values.sender_email,
    sender_name: values.sender_name,
    daily_limit: values.daily_limit,
    scheduled_at: fromLocalInput(values.scheduled_at),
  };
}

export function valuesOf(outreach: Outreach): SettingsValues {
  return {
    name: outreach.name,
    campaign_id: outreach.campaign_id ?? "",
    template_id: outreach.template_id,
    mailbox_id: outreach.mailbox_id ?? "",
    sender_email: outreach.sender_email,
    sender_name: outreach.sender_name,
    daily_limit: outreach.daily_limit,
    scheduled_at: toLocalInput(outreach.scheduled_at),
  };
}

export const EMPTY_SETTINGS: SettingsValues = {
  name: "",
  campaign_id: "",
  template_id: "",
  mailbox_id: "",
  sender_email: "",
  sender_name: "",
  daily_limit: 50,
  scheduled_at: "",
};

function mailboxHint(mailbox: Mailbox | undefined) {
  if (!mailbox) {
    return (
      <>
        No mailbox: messages are written to the <Link className="underline" to="/outbox">outbox folder</Link>{" "}
        instead of being sent.
      </>
    );
  }
  return (
    `Sends ${describeWindow(mailbox.window_start_hour, mailbox.window_end_hour, mailbox.window_weekdays)} ` +
    `in each recipient's local time; at most ${formatNumber(mailbox.per_minute)} a minute and ` +
    `${formatNumber(mailbox.daily_cap)} a day once warmed up.`
  );
}

function templateOptions(templates: Template[], current: string) {
  // The first message uses an initial template; the current one stays listed whatever it is.
  const usable = templates.filter((t) => t.type === "initial" || t.id === current);
  return usable.map((t) => ({ value: t.id, label: t.type === "initial" ? t.name : `${t.name} (follow-up)` }));
}

/** The form, once the selects' options are loaded (a select must hold its value's option
 * when it is first drawn). */
export function OutreachSettingsForm(props: {
  label: string;
  submitLabel: string;
  initial: SettingsValues;
  /** ``changed`` lists the fields that differ from ``initial``. */
  onSubmit: (values: SettingsValues, changed: Field[]) => Promise<void>;
  onDiscard?: () => void;
  discardLabel?: string;
}) {
  const campaigns = useCampaignOptions(props.initial.campaign_id || null);
  const templates = useTemplates();
  const mailboxes = useMailboxes();
  if (campaigns.isPending || templates.isPending || mailboxes.isPending) {
    return <Loading label="Loading campaigns, templates and mailboxes" />;
  }
  const error = campaigns.error ?? templates.error ?? mailboxes.error;
  if (error || !templates.data || !mailboxes.data) {
    return (
      <ErrorState
        error={error}
        retry={() => {
          campaigns.refetch();
          void templates.refetch();
          void mailboxes.refetch();
        }}
      />
    );
  }
  return (
    <SettingsFields
      {...props}
      campaignOptions={campaigns.campaigns.map((c) => ({ value: c.id, label: c.name }))}
      templates={templates.data.items}
      mailboxes={mailboxes.data.items}
    />
  );
}

function SettingsFields({
  label,
  submitLabel,
  initial,
  onSubmit,
  onDiscard,
  discardLabel = "Discard changes",
  campaignOptions,
  templates,
  mailboxes,
}: Parameters<typeof OutreachSettingsForm>[0] & {
  campaignOptions: { value: string; label: string }[];
  templates: Template[];
  mailboxes: Mailbox[];
}) {
  const form = useForm<SettingsValues>({ resolver: zodResolver(settingsSchema), defaultValues: initial });
  const { register, setValue, getValues, watch } = form;
  const { errors, isSubmitting, dirtyFields } = form.formState;
  const { formError, submit } = useApiSubmit(form, FIELDS);

  const mailboxById = useMemo(() => new Map(mailboxes.map((m) => [m.id, m])), [mailboxes]);
  const mailboxId = watch("mailbox_id");
  const mailbox = mailboxById.get(mailboxId);

  // Choosing another mailbox fills the sender from it, unless the user typed a sender of their
  // own (one that is neither empty nor what the previous mailbox, or the last fill, put there).
  const previous = useRef({ mailboxId: initial.mailbox_id, email: "", name: "" });
  useEffect(() => {
    const before = previous.current;
    if (mailboxId === before.mailboxId) return;
    const left = mailboxById.get(before.mailboxId);
    const current = getValues();
    previous.current = { mailboxId, email: before.email, name: before.name };
    if (!mailbox) return;
    const untouched = (value: string, filledBefore: string, fromLeft: string | undefined) =>
      value === "" || value === filledBefore || value === fromLeft;
    if (untouched(current.sender_email, before.email, left?.from_email)) {
      setValue("sender_email", mailbox.from_email, { shouldDirty: true, shouldValidate: false });
      previous.current.email = mailbox.from_email;
    }
    if (untouched(current.sender_name, before.name, left?.from_name)) {
      setValue("sender_name", mailbox.from_name, { shouldDirty: true });
      previous.current.name = mailbox.from_name;
    }
  }, [mailboxId, mailbox, mailboxById, getValues, setValue]);

  const initialTemplates = templateOptions(templates, initial.template_id);
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;

  const save = submit((values) => onSubmit(values, FIELDS.filter((field) => dirtyFields[field])));

  return (
    <form aria-label={label} noValidate onSubmit={save} className="space-y-4">
      <FormError message={formError} />
      <div className="grid gap-4 sm:grid-cols-2">
        <TextField label="Name" autoComplete="off" error={errors.name?.message} {...register("name")} />
        <SelectField
          label="Campaign"
          hint="Whose artists it writes to, and where its results are counted."
          options={[{ value: "", label: "No campaign" }, ...campaignOptions]}
          error={errors.campaign_id?.message}
          {...register("campaign_id")}
        />
        <SelectField
          label="Template"
          hint={
            initialTemplates.length === 0 ? (
              <>
                No initial template yet: <Link className="underline" to="/templates">write one</Link> first.
              </>
            ) : (
              "The first message; follow-ups are added as steps after creating."
            )
          }
          options={[{ value: "", label: "Choose a template" }, ...initialTemplates]}
          error={errors.template_id?.message}
          {...register("template_id")}
        />
        <SelectField
          label="Mailbox"
          hint={mailboxHint(mailbox)}
          options={[
            { value: "", label: "None: write to the outbox folder" },
            ...mailboxes.map((m) => ({ value: m.id, label: `${m.name} (${m.from_email})` })),
          ]}
          error={errors.mailbox_id?.message}
          {...register("mailbox_id")}
        />
        <TextField
          label="Sender email"
          type="email"
          autoComplete="off"
          error={errors.sender_email?.message}
          {...register("sender_email")}
        />
        <TextField
          label="Sender name"
          autoComplete="off"
          error={errors.sender_name?.message}
          {...register("sender_name")}
        />
        <TextField
          label="Daily limit"
          type="number"
          inputMode="numeric"
          min={1}
          max={DAILY_LIMIT_MAX}
          step={1}
          hint="Messages a day at most (a UTC day), on top of the mailbox's own limits."
          error={errors.daily_limit?.message}
          {...register("daily_limit", { valueAsNumber: true })}
        />
        <TextField
          label="Schedule"
          type="datetime-local"
          hint={`Your time (${zone}). Empty: it starts sending when launched. Each message still waits for its recipient's sending window.`}
          error={errors.scheduled_at?.message}
          {...register("scheduled_at")}
        />
      </div>
      <FormActions submitLabel={submitLabel} busy={isSubmitting} onCancel={onDiscard} cancelLabel={discardLabel} />
    </form>
  );
}
