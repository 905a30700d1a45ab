/** The caller's own settings in this workspace (every member, viewers included, has their
 * own and sees no one else's): each a key with a JSON object as its value. */
import { useState } from "react";
import { useForm } from "react-hook-form";
import { zodResolver } from "@hookform/resolvers/zod";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { z } from "zod";
import { api, unwrap } from "@/api/client";
import { Button } from "@/components/buttons";
import { ConfirmButton } from "@/components/confirm";
import { ActionError, FormActions, FormError, TextAreaField, TextField } from "@/components/forms";
import { Card } from "@/components/page";
import { Empty, QueryState } from "@/components/states";
import { useApiSubmit } from "@/lib/forms";

// serve/schemas/settings.py
const KEY = /^[a-z0-9_.-]{1,100}$/;
const MAX_VALUE_BYTES = 16 * 1024;

/** The length the server measures: Python's compact ``json.dumps``, which writes every
 * character beyond ASCII as a six-character ``\uXXXX`` escape. */
function serverLength(value: unknown): number {
  return JSON.stringify(value).replace(/[^\u0000-\u007f]/g, "\\uXXXX").length;
}

const jsonObject = z.string().superRefine((text, context) => {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    context.addIssue({ code: "custom", message: `Not valid JSON: ${(error as Error).message}` });
    return;
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    context.addIssue({ code: "custom", message: 'The value must be a JSON object, like {"mode": "dark"}.' });
  } else if (serverLength(value) > MAX_VALUE_BYTES) {
    context.addIssue({ code: "custom", message: `The value must be at most ${MAX_VALUE_BYTES} bytes of JSON.` });
  }
});

const newSchema = z.object({
  key: z
    .string()
    .trim()
    .regex(KEY, "Use 1 to 100 lower-case letters, digits, dots, dashes and underscores."),
  value: jsonObject,
});
type NewValues = z.infer<typeof newSchema>;

const editSchema = z.object({ value: jsonObject });
type EditValues = z.infer<typeof editSchema>;

type Setting = { key: string; value: Record<string, unknown> };

function pretty(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

function usePutSetting() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ key, value }: { key: string; value: Record<string, unknown> }) =>
      unwrap(api.PUT("/api/v1/settings/{key}", { params: { path: { key } }, body: { value } })),
    onSettled: () => void queryClient.invalidateQueries({ queryKey: ["settings"] }),
  });
}

export function PreferencesCard() {
  const settings = useQuery({
    queryKey: ["settings"],
    queryFn: () => unwrap(api.GET("/api/v1/settings")),
  });
  return (
    <Card title="Your preferences">
      <p className="mb-4 text-sm text-slate-600">
        Settings that are yours alone in this workspace; other members have their own. Each is a key with a
        JSON object as its value, read by the app and by your API clients.
      </p>
      <QueryState query={settings} label="Loading your preferences">
        {(rows) => (
          <div className="space-y-6">
            {rows.length === 0 ? (
              <Empty title="No preferences saved yet">Add one below.</Empty>
            ) : (
              <ul className="divide-y divide-slate-100 rounded-lg ring-1 ring-slate-200">
                {rows.map((setting) => (
                  <SettingItem key={setting.key} setting={setting} />
                ))}
              </ul>
            )}
            <AddSettingForm existing={rows.map((row) => row.key)} />
          </div>
        )}
      </QueryState>
    </Card>
  );
}

function SettingItem({ setting }: { setting: Setting }) {
  const queryClient = useQueryClient();
  const [editing, setEditing] = useState(false);
  const remove = useMutation({
    mutationFn: () => unwrap(api.DELETE("/api/v1/settings/{key}", { params: { path: { key: setting.key } } })),
    onSettled: () => void queryClient.invalidateQueries({ queryKey: ["settings"] }),
  });
  return (
    <li className="space-y-2 p-3">
      <div className="flex flex-wrap items-center justify-between gap-2">
        <code className="font-mono text-sm font-medium text-slate-900">{setting.key}</code>
        {!editing && (
          <div className="flex flex-wrap gap-2">
            <Button tone="secondary" aria-label={`Edit ${setting.key}`} onClick={() => setEditing(true)}>
              Edit
            </Button>
            <ConfirmButton
              label="Delete"
              accessibleLabel={`Delete ${setting.key}`}
              question={`Delete the setting ${setting.key}?`}
              confirmLabel="Delete setting"
              busy={remove.isPending}
              onConfirm={() => remove.mutate()}
            />
          </div>
        )}
      </div>
      {editing ? (
        <EditSettingForm setting={setting} onDone={() => setEditing(false)} />
      ) : (
        <pre className="max-h-48 overflow-auto rounded bg-slate-50 p-2 font-mono text-xs text-slate-800">
          {pretty(setting.value)}
        </pre>
      )}
      <ActionError error={remove.error} />
    </li>
  );
}

function EditSettingForm({ setting, onDone }: { setting: Setting; onDone: () => void }) {
  const put = usePutSetting();
  const form = useForm<EditValues>({
    resolver: zodResolver(editSchema),
    defaultValues: { value: pretty(setting.value) },
  });
  const { formError, submit } = useApiSubmit(form, ["value"]);
  return (
    <form
      noValidate
      aria-label={`Edit ${setting.key}`}
      className="space-y-2"
      onSubmit={submit(async (values) => {
        await put.mutateAsync({ key: setting.key, value: JSON.parse(values.value) as Record<string, unknown> });
        onDone();
      })}
    >
      <FormError message={formError} />
      <TextAreaField
        label={`Value of ${setting.key} (JSON object)`}
        rows={Math.min(12, pretty(setting.value).split("\n").length + 1)}
        spellCheck={false}
        autoFocus
        error={form.formState.errors.value?.message}
        {...form.register("value")}
      />
      <FormActions submitLabel="Save" busy={put.isPending} onCancel={onDone} />
    </form>
  );
}

function AddSettingForm({ existing }: { existing: string[] }) {
  const put = usePutSetting();
  const [saved, setSaved] = useState<string | null>(null);
  const form = useForm<NewValues>({ resolver: zodResolver(newSchema), defaultValues: { key: "", value: "{}" } });
  const { formError, submit } = useApiSubmit(form, ["key", "value"]);
  const key = form.watch("key").trim();
  const replaces = existing.includes(key);
  return (
    <section aria-labelledby="add-setting">
      <h3 id="add-setting" className="mb-3 text-sm font-semibold text-slate-900">
        Add a preference
      </h3>
      <form
        noValidate
        aria-label="Add a preference"
        className="space-y-3"
        onSubmit={submit(async (values) => {
          setSaved(null);
          const setting = await put.mutateAsync({
            key: values.key,
            value: JSON.parse(values.value) as Record<string, unknown>,
          });
          setSaved(`Saved ${setting.key}.`);
          form.reset({ key: "", value: "{}" });
        })}
      >
        <FormError message={formError} />
        <TextField
          label="Key"
          placeholder="ui.theme"
          spellCheck={false}
          autoComplete="off"
          hint={
            replaces
              ? "You already have this key: saving replaces its value."
              : "Lower-case letters, digits, dots, dashes and underscores, up to 100."
          }
          error={form.formState.errors.key?.message}
          {...form.register("key")}
        />
        <TextAreaField
          label="Value (JSON object)"
          rows={4}
          spellCheck={false}
          hint='For example {"mode": "dark"}. Up to 16 KiB.'
          error={form.formState.errors.value?.message}
          {...form.register("value")}
        />
        <Button type="submit" busy={put.isPending}>
          {replaces ? "Replace preference" : "Add preference"}
        </Button>
        <p role="status" className="text-sm text-green-800">
          {saved}
        </p>
      </form>
    </section>
  );
}
