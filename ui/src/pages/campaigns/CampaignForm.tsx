/** The campaign form, for creating one and for editing one: checked here first (zod), and the
 * server's 422 shown next to the field it names. */
import { useForm } from "react-hook-form";
import { zodResolver } from "@hookform/resolvers/zod";
import { z } from "zod";
import type { components } from "@/api/schema";
import { FormActions, FormError, MoneyFields, SelectField, TextAreaField, TextField } from "@/components/forms";
import { useApiSubmit } from "@/lib/forms";
import { CAMPAIGN_TYPES, TYPE_LABEL, type Campaign } from "./labels";
import { currencyDecimals, toMajor, toMinor } from "@/lib/money";

export type CampaignBody = components["schemas"]["CampaignCreate"];

// Field names are the API's, so a 422's ``errors[].field`` lands on its field; the budget is
// typed in major units and sent as ``budget_minor``.
const FIELDS = [
  "name",
  "type",
  "description",
  "start_date",
  "end_date",
  "budget_minor",
  "currency",
] as const;

const schema = z
  .object({
    name: z.string().trim().min(1, "Give the campaign a name.").max(200, "At most 200 characters."),
    type: z.enum(["release", "playlist_pitch", "premiere", "tour", "outreach", "other"]),
    description: z.string().max(10_000, "At most 10,000 characters."),
    start_date: z.string(),
    end_date: z.string(),
    budget_minor: z.string(),
    currency: z
      .string()
      .trim()
      .refine((code) => currencyDecimals(code) !== null, "Enter a currency code, like EUR or USD."),
  })
  .superRefine((values, context) => {
    if (values.start_date && values.end_date && values.end_date < values.start_date) {
      context.addIssue({
        code: "custom",
        path: ["end_date"],
        message: "The end date must not be before the start date.",
      });
    }
    if (currencyDecimals(values.currency) !== null) {
      const budget = toMinor(values.budget_minor, values.currency);
      if ("error" in budget) {
        context.addIssue({ code: "custom", path: ["budget_minor"], message: budget.error });
      }
    }
  });

type Values = z.infer<typeof schema>;

function initialValues(campaign: Campaign | undefined): Values {
  if (!campaign) {
    return {
      name: "",
      type: "release",
      description: "",
      start_date: "",
      end_date: "",
      budget_minor: "",
      currency: "EUR",
    };
  }
  return {
    name: campaign.name,
    type: campaign.type,
    description: campaign.description,
    start_date: campaign.start_date ?? "",
    end_date: campaign.end_date ?? "",
    budget_minor: campaign.budget_minor > 0 ? toMajor(campaign.budget_minor, campaign.currency) : "",
    currency: campaign.currency,
  };
}

export function CampaignForm({
  campaign,
  label,
  submitLabel,
  onSubmit,
  onSaved,
  onCancel,
}: {
  /** The campaign being edited; none to create one. */
  campaign?: Campaign;
  /** The form's accessible name ("New campaign", "Edit campaign"). */
  label: string;
  submitLabel: string;
  onSubmit: (body: CampaignBody) => Promise<Campaign>;
  onSaved: (campaign: Campaign) => void;
  onCancel?: () => void;
}) {
  const form = useForm<Values>({ resolver: zodResolver(schema), defaultValues: initialValues(campaign) });
  const { register } = form;
  const { errors, isSubmitting } = form.formState;
  const { formError, submit } = useApiSubmit(form, FIELDS);

  const save = submit(async (values) => {
    const currency = values.currency.toUpperCase();
    const budget = toMinor(values.budget_minor, currency);
    const body: CampaignBody = {
      name: values.name,
      type: values.type,
      description: values.description,
      start_date: values.start_date || null,
      end_date: values.end_date || null,
      budget_minor: "minor" in budget ? budget.minor : 0,
      currency,
    };
    onSaved(await onSubmit(body));
  });

  return (
    <form aria-label={label} noValidate onSubmit={save} className="space-y-4">
      <FormError message={formError} />
      <TextField label="Name" autoComplete="off" error={errors.name?.message} {...register("name")} />
      <div className="grid gap-4 sm:grid-cols-2">
        <SelectField
          label="Type"
          options={CAMPAIGN_TYPES.map((value) => ({ value, label: TYPE_LABEL[value] }))}
          error={errors.type?.message}
          {...register("type")}
        />
        <MoneyFields
          amount={{
            label: "Budget",
            hint: "Leave empty for no budget.",
            error: errors.budget_minor?.message,
            ...register("budget_minor"),
          }}
          currency={{ label: "Currency", error: errors.currency?.message, ...register("currency") }}
        />
        <TextField label="Start date" type="date" error={errors.start_date?.message} {...register("start_date")} />
        <TextField label="End date" type="date" error={errors.end_date?.message} {...register("end_date")} />
      </div>
      <TextAreaField
        label="Description"
        rows={4}
        error={errors.description?.message}
        {...register("description")}
      />
      <FormActions submitLabel={submitLabel} busy={isSubmitting} onCancel={onCancel} />
    </form>
  );
}
