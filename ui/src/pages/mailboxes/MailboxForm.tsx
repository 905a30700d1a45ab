/** Add or change a mailbox: its SMTP server and login (the password is write-only), the sender
 * it shows, its sending limits and its window in the recipient's local time. Bounds follow
 * serve/schemas/mailboxes.py; the server's 422 lands on the field it names. */
import { useForm } from "react-hook-form";
import { zodResolver } from "@hookform/resolvers/zod";
import { z } from "zod";
import { api, unwrap } from "@/api/client";
import type { components } from "@/api/schema";
import { CheckboxField, Fieldset, FormActions, FormError, SelectField, TextField } from "@/components/forms";
import { Card } from "@/components/page";
import { useApiSubmit } from "@/lib/forms";
import { formatNumber } from "@/lib/format";

export type Mailbox = components["schemas"]["MailboxRead"];
type TlsMode = components["schemas"]["SmtpTlsMode"];

export const DEFAULT_PORTS: Record<TlsMode, number> = { starttls: 587, tls: 465, none: 25 };
export const TLS_MODES: { value: TlsMode; label: string }[] = [
  { value: "starttls", label: "STARTTLS (usually port 587)" },
  { value: "tls", label: "TLS from the start (usually port 465)" },
  { value: "none", label: "None: a relay on a trusted network (port 25)" },
];
export const WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"] as const;
const WEEKDAY_NAMES = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

// core/mailbox_rules.py
const PER_MINUTE_MAX = 60_000;
const DAILY_CAP_MAX = 1_000_000;
const GAP_SECONDS_MAX = 3_600;

function whole(min: number, max: number) {
  return z
    .string()
    .trim()
    .regex(/^\d+$/, "Enter a whole number")
    .refine((value) => Number(value) >= min && Number(value) <= max, `Must be from ${formatNumber(min)} to ${formatNumber(max)}`);
}

const schema = z
  .object({
    name: z.string().trim().min(1, "Give the mailbox a name").max(200, "At most 200 characters"),
    host: z.string().trim().min(1, "Enter the SMTP server's host name or IP address").max(253, "At most 253 characters"),
    port: z
      .string()
      .trim()
      .refine((value) => value === "" || (/^\d+$/.test(value) && Number(value) >= 1 && Number(value) <= 65535), "Must be from 1 to 65,535"),
    tls_mode: z.enum(["starttls", "tls", "none"]),
    username: z.string().trim().max(320, "At most 320 characters"),
    password: z.string().max(1000, "At most 1,000 characters"),
    remove_password: z.boolean(),
    from_name: z.string().trim().max(200, "At most 200 characters"),
    from_email: z.string().trim().min(1, "Enter the address mail is sent from").regex(/^[^\s@]+@[^\s@]+$/, "Enter an email address"),
    per_minute: whole(1, PER_MINUTE_MAX),
    daily_cap: whole(1, DAILY_CAP_MAX),
    ramp_start: whole(1, DAILY_CAP_MAX),
    ramp_increment: whole(0, DAILY_CAP_MAX),
    gap_min_seconds: whole(0, GAP_SECONDS_MAX),
    gap_max_seconds: whole(0, GAP_SECONDS_MAX),
    window_start_hour: whole(0, 23),
    window_end_hour: whole(1, 24),
    window_weekdays: z.array(z.number()).min(1, "Pick at least one weekday"),
  })
  .refine((v) => Number(v.gap_max_seconds) >= Number(v.gap_min_seconds), {
    message: "Must not be less than the shortest gap",
    path: ["gap_max_seconds"],
  })
  .refine((v) => v.window_start_hour === "" || Number(v.window_start_hour) !== Number(v.window_end_hour), {
    message: "Must differ from the opening hour (the window would be empty)",
    path: ["window_end_hour"],
  });
type Values = z.infer<typeof schema>;

const FIELDS = [
  "name",
  "host",
  "port",
  "tls_mode",
  "username",
  "password",
  "from_name",
  "from_email",
  "per_minute",
  "daily_cap",
  "ramp_start",
  "ramp_increment",
  "gap_min_seconds",
  "gap_max_seconds",
  "window_start_hour",
  "window_end_hour",
  "window_weekdays",
] as const;

const NEW_MAILBOX: Values = {
  name: "",
  host: "",
  port: "",
  tls_mode: "starttls",
  username: "",
  password: "",
  remove_password: false,
  from_name: "",
  from_email: "",
  // core/mailbox_rules.py: what cold-outreach tools advise for a new mailbox.
  per_minute: "10",
  daily_cap: "100",
  ramp_start: "40",
  ramp_increment: "2",
  gap_min_seconds: "60",
  gap_max_seconds: "180",
  window_start_hour: "9",
  window_end_hour: "17",
  window_weekdays: [1, 2, 3, 4, 5],
};

function valuesOf(mailbox: Mailbox): Values {
  return {
    name: mailbox.name,
    host: mailbox.host,
    port: String(mailbox.port),
    tls_mode: mailbox.tls_mode,
    username: mailbox.username ?? "",
    password: "",
    remove_password: false,
    from_name: mailbox.from_name,
    from_email: mailbox.from_email,
    per_minute: String(mailbox.per_minute),
    daily_cap: String(mailbox.daily_cap),
    ramp_start: String(mailbox.ramp_start),
    ramp_increment: String(mailbox.ramp_increment),
    gap_min_seconds: String(mailbox.gap_min_seconds),
    gap_max_seconds: String(mailbox.gap_max_seconds),
    window_start_hour: String(mailbox.window_start_hour),
    window_end_hour: String(mailbox.window_end_hour),
    window_weekdays: [...mailbox.window_weekdays],
  };
}

/** The body fields as the API takes them (everything but the password). */
function settingsOf(values: Values) {
  return {
    name: values.name,
    host: values.host,
    port: values.port === "" ? DEFAULT_PORTS[values.tls_mode] : Number(values.port),
    tls_mode: values.tls_mode,
    username: values.username === "" ? null : values.username,
    from_name: values.from_name,
    from_email: values.from_email,
    per_minute: Number(values.per_minute),
    daily_cap: Number(values.daily_cap),
    ramp_start: Number(values.ramp_start),
    ramp_increment: Number(values.ramp_increment),
    gap_min_seconds: Number(values.gap_min_seconds),
    gap_max_seconds: Number(values.gap_max_seconds),
    window_start_hour: Number(values.window_start_hour),
    window_end_hour: Number(values.window_end_hour),
    window_weekdays: [...values.window_weekdays].sort((a, b) => a - b),
  };
}

export function MailboxForm({
  mailbox,
  onDone,
  onCancel,
}: {
  /** The mailbox to change; none to add one. */
  mailbox?: Mailbox | undefined;
  onDone: (saved: Mailbox) => void;
  onCancel: () => void;
}) {
  const form = useForm<Values>({
    resolver: zodResolver(schema),
    defaultValues: mailbox ? valuesOf(mailbox) : NEW_MAILBOX,
  });
  const { register, setValue, getValues, watch } = form;
  const { errors, isSubmitting, isSubmitted } = form.formState;
  const { formError, submit } = useApiSubmit(form, FIELDS);
  const tlsMode = watch("tls_mode");
  const weekdays = watch("window_weekdays");
  const removePassword = watch("remove_password");

  const onSubmit = submit(async (values) => {
    const settings = settingsOf(values);
    if (!mailbox) {
      onDone(
        await unwrap(
          api.POST("/api/v1/mailboxes", {
            body: { ...settings, ...(values.password ? { password: values.password } : {}) },
          }),
        ),
      );
      return;
    }
    // Only what changed, so the audit log names what was changed.
    const current = settingsOf(valuesOf(mailbox));
    const changes: Record<string, unknown> = Object.fromEntries(
      Object.entries(settings).filter(
        ([field, value]) => JSON.stringify(value) !== JSON.stringify(current[field as keyof typeof current]),
      ),
    );
    if (values.remove_password) changes.password = null;
    else if (values.password) changes.password = values.password;
    onDone(
      await unwrap(
        api.PATCH("/api/v1/mailboxes/{mailbox_id}", {
          params: { path: { mailbox_id: mailbox.id } },
          body: changes,
        }),
      ),
    );
  });

  const range = (min: number, max: number, unit = "") => `${formatNumber(min)} to ${formatNumber(max)}${unit}`;

  return (
    <Card title={mailbox ? `Edit ${mailbox.name}` : "Add a mailbox"}>
      <form onSubmit={onSubmit} noValidate className="space-y-6" aria-label={mailbox ? `Edit mailbox ${mailbox.name}` : "Add a mailbox"}>
        <FormError message={formError} />
        <Fieldset legend="Server">
          <div className="grid gap-4 sm:grid-cols-2">
            <TextField label="Name" autoFocus autoComplete="off" hint="For you, e.g. “Label outreach”." error={errors.name?.message} {...register("name")} />
            <TextField
              label="SMTP host"
              autoComplete="off"
              spellCheck={false}
              placeholder="smtp.example.com"
              error={errors.host?.message}
              {...register("host")}
            />
            <SelectField
              label="Security"
              options={TLS_MODES}
              error={errors.tls_mode?.message}
              {...register("tls_mode", {
                onChange: (event: { target: { value: TlsMode } }) => {
                  // A port that was some mode's default follows the new mode.
                  const port = getValues("port");
                  if (Object.values(DEFAULT_PORTS).map(String).includes(port)) {
                    setValue("port", String(DEFAULT_PORTS[event.target.value]), { shouldDirty: true });
                  }
                },
              })}
            />
            <TextField
              label="Port"
              inputMode="numeric"
              placeholder={String(DEFAULT_PORTS[tlsMode])}
              hint={`Empty: ${DEFAULT_PORTS[tlsMode]}, the usual port for this security.`}
              error={errors.port?.message}
              {...register("port")}
            />
          </div>
        </Fieldset>

        <Fieldset legend="Login">
          <div className="grid gap-4 sm:grid-cols-2">
            <TextField
              label="Username"
              autoComplete="off"
              spellCheck={false}
              hint="Empty: the server is used without logging in."
              error={errors.username?.message}
              {...register("username")}
            />
            <TextField
              label="Password"
              type="password"
              autoComplete="new-password"
              disabled={removePassword}
              hint={
                !mailbox
                  ? "Stored encrypted and never shown again."
                  : mailbox.has_password
                    ? "A password is stored. Leave empty to keep it; type one to replace it."
                    : "No password is stored."
              }
              error={errors.password?.message}
              {...register("password")}
            />
          </div>
          {mailbox?.has_password && (
            <CheckboxField label="Remove the stored password" {...register("remove_password")} />
          )}
        </Fieldset>

        <Fieldset legend="Sender">
          <div className="grid gap-4 sm:grid-cols-2">
            <TextField label="From name" autoComplete="off" hint="Shown to recipients; may be empty." error={errors.from_name?.message} {...register("from_name")} />
            <TextField label="From address" type="email" autoComplete="off" error={errors.from_email?.message} {...register("from_email")} />
          </div>
        </Fieldset>

        <Fieldset legend="Limits">
          <div className="grid gap-4 sm:grid-cols-2 lg:grid-cols-3">
            <TextField label="Messages per minute" inputMode="numeric" hint={range(1, PER_MINUTE_MAX)} error={errors.per_minute?.message} {...register("per_minute")} />
            <TextField label="Daily cap" inputMode="numeric" hint={`Messages a day once ramped up; ${range(1, DAILY_CAP_MAX)}.`} error={errors.daily_cap?.message} {...register("daily_cap")} />
            <TextField label="Ramp start" inputMode="numeric" hint={`The cap on the first day; ${range(1, DAILY_CAP_MAX)}.`} error={errors.ramp_start?.message} {...register("ramp_start")} />
            <TextField label="Ramp increment" inputMode="numeric" hint={`Added to the cap each day; ${range(0, DAILY_CAP_MAX)}.`} error={errors.ramp_increment?.message} {...register("ramp_increment")} />
            <TextField label="Shortest gap (seconds)" inputMode="numeric" hint={range(0, GAP_SECONDS_MAX, " s")} error={errors.gap_min_seconds?.message} {...register("gap_min_seconds")} />
            <TextField label="Longest gap (seconds)" inputMode="numeric" hint={`Each gap is drawn between the two; ${range(0, GAP_SECONDS_MAX, " s")}.`} error={errors.gap_max_seconds?.message} {...register("gap_max_seconds")} />
          </div>
        </Fieldset>

        <Fieldset legend="Sending window (recipient's local time)" error={errors.window_weekdays?.message}>
          <div className="grid gap-4 sm:grid-cols-2">
            <TextField label="Opens at hour" inputMode="numeric" hint="0 to 23." error={errors.window_start_hour?.message} {...register("window_start_hour")} />
            <TextField
              label="Closes at hour"
              inputMode="numeric"
              hint="1 to 24 (24 is midnight); earlier than the opening hour runs into the next day."
              error={errors.window_end_hour?.message}
              {...register("window_end_hour")}
            />
          </div>
          <div role="group" aria-label="Weekdays" className="flex flex-wrap gap-3">
            {WEEKDAYS.map((day, index) => {
              const iso = index + 1;
              return (
                <label key={day} className="flex items-center gap-1.5 text-sm text-slate-800">
                  <input
                    type="checkbox"
                    className="h-4 w-4 rounded border-slate-300"
                    aria-label={WEEKDAY_NAMES[index]}
                    checked={weekdays.includes(iso)}
                    onChange={(event) =>
                      setValue(
                        "window_weekdays",
                        event.target.checked ? [...weekdays, iso] : weekdays.filter((d) => d !== iso),
                        { shouldDirty: true, shouldValidate: isSubmitted },
                      )
                    }
                  />
                  <span aria-hidden="true">{day}</span>
                </label>
              );
            })}
          </div>
        </Fieldset>

        <FormActions submitLabel={mailbox ? "Save mailbox" : "Add mailbox"} busy={isSubmitting} onCancel={onCancel} />
      </form>
    </Card>
  );
}
