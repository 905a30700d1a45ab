/** Follow-up steps: a follow-up template sent some days after the previous message to a
 * recipient who has not replied. They change only while the outreach is a draft. */
import { Link } from "react-router";
import { useForm } from "react-hook-form";
import { zodResolver } from "@hookform/resolvers/zod";
import { z } from "zod";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "@/api/client";
import { errorMessage } from "@/api/problem";
import { Button } from "@/components/buttons";
import { FormError, SelectField, TextField } from "@/components/forms";
import { Card } from "@/components/page";
import { QueryState } from "@/components/states";
import { useApiSubmit } from "@/lib/forms";
import type { Template } from "./lookups";

// core/outreach_rules: DELAY_DAYS_MIN, DELAY_DAYS_MAX, MAX_STEPS
const DELAY_MIN = 1;
const DELAY_MAX = 365;
const MAX_STEPS = 10;

const stepSchema = z.object({
  template_id: z.string().min(1, "Choose a follow-up template."),
  delay_days: z
    .number({ error: `Enter a whole number of days from ${DELAY_MIN} to ${DELAY_MAX}.` })
    .int(`Enter a whole number of days from ${DELAY_MIN} to ${DELAY_MAX}.`)
    .min(DELAY_MIN, `Wait at least ${DELAY_MIN} day.`)
    .max(DELAY_MAX, `Wait at most ${DELAY_MAX} days.`),
});
type StepValues = z.infer<typeof stepSchema>;

function days(count: number): string {
  return `${count} ${count === 1 ? "day" : "days"}`;
}

export function StepsCard({
  outreachId,
  editable,
  templates,
}: {
  outreachId: string;
  /** A draft, and the user may edit. */
  editable: boolean;
  templates: Template[] | undefined;
}) {
  const queryClient = useQueryClient();
  const steps = useQuery({
    queryKey: ["outreach-campaigns", outreachId, "steps"],
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/outreach-campaigns/{outreach_campaign_id}/steps", {
          params: { path: { outreach_campaign_id: outreachId } },
        }),
      ),
  });
  const remove = useMutation({
    mutationFn: (stepId: string) =>
      unwrap(
        api.DELETE("/api/v1/outreach-campaigns/{outreach_campaign_id}/steps/{step_id}", {
          params: { path: { outreach_campaign_id: outreachId, step_id: stepId } },
        }),
      ),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["outreach-campaigns", outreachId] }),
  });
  const templateName = (id: string) => templates?.find((t) => t.id === id)?.name ?? "A template";

  return (
    <Card title="Follow-up steps">
      <QueryState query={steps} label="Loading follow-up steps">
        {(list) => (
          <div className="space-y-4">
            {list.length === 0 ? (
              <p className="text-sm text-slate-600">
                No follow-ups: each recipient gets the first message only.
              </p>
            ) : (
              <ol className="divide-y divide-slate-100 rounded-md ring-1 ring-slate-200">
                {list.map((step, index) => (
                  <li key={step.id} className="flex flex-wrap items-center justify-between gap-2 px-3 py-2 text-sm">
                    <span>
                      <span className="font-medium">Follow-up {index + 1}</span>: {templateName(step.template_id)},{" "}
                      {days(step.delay_days)} after the previous message, unless they replied.
                    </span>
                    {editable && (
                      <Button
                        tone="ghost"
                        aria-label={`Remove follow-up ${index + 1}`}
                        busy={remove.isPending && remove.variables === step.id}
                        disabled={remove.isPending}
                        onClick={() => remove.mutate(step.id)}
                      >
                        Remove
                      </Button>
                    )}
                  </li>
                ))}
              </ol>
            )}
            {remove.isError && <FormError message={`Could not remove the step: ${errorMessage(remove.error)}`} />}
            {editable ? (
              list.length >= MAX_STEPS ? (
                <p className="text-sm text-slate-600">An outreach has at most {MAX_STEPS} follow-ups.</p>
              ) : (
                <AddStep outreachId={outreachId} templates={templates} />
              )
            ) : (
              <p className="text-sm text-slate-600">Follow-ups can change only while the outreach is a draft.</p>
            )}
          </div>
        )}
      </QueryState>
    </Card>
  );
}

function AddStep({ outreachId, templates }: { outreachId: string; templates: Template[] | undefined }) {
  const queryClient = useQueryClient();
  const followUps = (templates ?? []).filter((t) => t.type === "follow_up");
  const form = useForm<StepValues>({ resolver: zodResolver(stepSchema), defaultValues: { template_id: "", delay_days: 3 } });
  const { register } = form;
  const { errors, isSubmitting } = form.formState;
  const { formError, submit } = useApiSubmit(form, ["template_id", "delay_days"]);

  if (templates && followUps.length === 0) {
    return (
      <p className="text-sm text-slate-600">
        To add a follow-up, first <Link className="text-indigo-700 underline" to="/templates">write a follow-up template</Link>.
      </p>
    );
  }

  const add = submit(async (values) => {
    await unwrap(
      api.POST("/api/v1/outreach-campaigns/{outreach_campaign_id}/steps", {
        params: { path: { outreach_campaign_id: outreachId } },
        body: values,
      }),
    );
    form.reset({ template_id: "", delay_days: values.delay_days });
    await queryClient.invalidateQueries({ queryKey: ["outreach-campaigns", outreachId] });
  });

  return (
    <form aria-label="Add a follow-up" noValidate onSubmit={add} className="space-y-3">
      <FormError message={formError} />
      <div className="grid gap-4 sm:grid-cols-2">
        <SelectField
          label="Follow-up template"
          disabled={!templates}
          options={[{ value: "", label: "Choose a template" }, ...followUps.map((t) => ({ value: t.id, label: t.name }))]}
          error={errors.template_id?.message}
          {...register("template_id")}
        />
        <TextField
          label="Days after the previous message"
          type="number"
          inputMode="numeric"
          min={DELAY_MIN}
          max={DELAY_MAX}
          step={1}
          error={errors.delay_days?.message}
          {...register("delay_days", { valueAsNumber: true })}
        />
      </div>
      <Button type="submit" busy={isSubmitting}>
        Add follow-up
      </Button>
    </form>
  );
}
