/** The form that starts a discovery job: where the walk starts, which artists it keeps, how
 * far and how long it goes. */
import { useForm } from "react-hook-form";
import { zodResolver } from "@hookform/resolvers/zod";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "@/api/client";
import { Button } from "@/components/buttons";
import { CheckboxField, CountryField, Fieldset, FormError, SelectField, TextAreaField, TextField } from "@/components/forms";
import { useApiSubmit } from "@/lib/forms";
import {
  DEFAULT_VALUES,
  MAX_ARTISTS_PER_JOB,
  QUERY_FIELDS,
  querySchema,
  toQuery,
  type DiscoveryJobRead,
  type QueryValues,
} from "./query";

const DEPTHS = [
  { value: "0", label: "0 — only what the query finds" },
  { value: "1", label: "1 — and their related artists" },
  { value: "2", label: "2" },
  { value: "3", label: "3" },
  { value: "4", label: "4" },
  { value: "5", label: "5 — widest" },
];

export function DiscoveryForm({ onStarted }: { onStarted: (job: DiscoveryJobRead) => void }) {
  const queryClient = useQueryClient();
  const form = useForm<QueryValues>({ resolver: zodResolver(querySchema), defaultValues: DEFAULT_VALUES });
  const { register } = form;
  const { errors } = form.formState;
  const { formError, submit } = useApiSubmit(form, QUERY_FIELDS, (error) =>
    error.status === 429 ? `${error.message} Wait for a running job to finish, or cancel one.` : undefined,
  );
  const start = useMutation({
    mutationFn: (values: QueryValues) => unwrap(api.POST("/api/v1/discovery-jobs", { body: toQuery(values) })),
    onSuccess: (job) => {
      void queryClient.invalidateQueries({ queryKey: ["discovery-jobs"] });
      onStarted(job);
    },
  });

  return (
    <form
      aria-label="New discovery job"
      noValidate
      onSubmit={submit((values) => start.mutateAsync(values))}
      className="space-y-6"
    >
      <FormError message={formError} />
      <Fieldset legend="Start from">
        <p className="text-xs text-slate-600">
          At least one of these. They are where the walk starts, not filters: related artists may
          play other genres.
        </p>
        <div className="grid gap-4 sm:grid-cols-2">
          <TextField
            label="Search terms"
            hint="Separate with commas."
            error={errors.terms?.message}
            {...register("terms")}
          />
          <TextField label="Genres" hint="Separate with commas." error={errors.genres?.message} {...register("genres")} />
          <TextField label="Tags" hint="Separate with commas." error={errors.tags?.message} {...register("tags")} />
          <TextAreaField
            label="Seed artists"
            rows={3}
            hint="SoundCloud profile URLs or permalinks, one a line."
            error={errors.seed_artists?.message}
            {...register("seed_artists")}
          />
        </div>
      </Fieldset>

      <Fieldset legend="Keep only artists">
        <div className="grid gap-4 sm:grid-cols-2 lg:grid-cols-3">
          <TextField label="City" hint="On its own, also searched by name." error={errors.city?.message} {...register("city")} />
          <CountryField error={errors.country?.message} {...register("country")} />
          <TextField
            label="Active within days"
            inputMode="numeric"
            hint="With a track this recent (1–3650)."
            error={errors.active_within_days?.message}
            {...register("active_within_days")}
          />
          <TextField
            label="Minimum followers"
            inputMode="numeric"
            error={errors.min_followers?.message}
            {...register("min_followers")}
          />
          <TextField
            label="Maximum followers"
            inputMode="numeric"
            error={errors.max_followers?.message}
            {...register("max_followers")}
          />
        </div>
      </Fieldset>

      <Fieldset legend="How far">
        <div className="grid gap-4 sm:grid-cols-2 lg:grid-cols-3">
          <TextField
            label="Maximum artists"
            inputMode="numeric"
            hint={`The job stops after keeping this many (up to ${MAX_ARTISTS_PER_JOB.toLocaleString("en")}).`}
            error={errors.max_artists?.message}
            {...register("max_artists")}
          />
          <SelectField label="Maximum depth" options={DEPTHS} error={errors.max_depth?.message} {...register("max_depth")} />
          <fieldset className="space-y-1">
            <legend className="block text-sm font-medium text-slate-800">Follow</legend>
            <CheckboxField label="Related artists" {...register("expand_related")} />
            <CheckboxField label="Who they follow" {...register("expand_followings")} />
          </fieldset>
        </div>
      </Fieldset>

      <Button type="submit" busy={start.isPending}>
        Start discovery
      </Button>
    </form>
  );
}
