/** Record a transaction: on the transactions page (any campaign or none) and on a campaign's
 * page (that campaign). The amount is typed in major units and sent as ``amount`` (the API
 * converts it exactly); the server's 422 lands on its field. */
import { useState } from "react";
import { useForm } from "react-hook-form";
import { zodResolver } from "@hookform/resolvers/zod";
import { useQueryClient } from "@tanstack/react-query";
import { z } from "zod";
import { api, unwrap } from "@/api/client";
import { ApiError } from "@/api/problem";
import type { components } from "@/api/schema";
import { Button } from "@/components/buttons";
import { FormError, MoneyFields, SelectField, TextAreaField, TextField } from "@/components/forms";
import { useApiSubmit } from "@/lib/forms";
import { currencyDecimals, DECIMAL_PATTERN, toMinor } from "@/lib/money";

export type Transaction = components["schemas"]["TransactionRead"];
type TransactionBody = components["schemas"]["TransactionCreate"];

const FIELDS = [
  "type",
  "amount",
  "currency",
  "category",
  "occurred_on",
  "description",
  "campaign_id",
] as const;

/** Query-key roots a new, changed or deleted transaction shows up in. */
export const TRANSACTION_ROOTS = ["transactions", "campaigns", "dashboard", "analytics"] as const;

const schema = z
  .object({
    type: z.enum(["expense", "income"]),
    amount: z
      .string()
      .trim()
      .min(1, "Enter the amount.")
      .regex(DECIMAL_PATTERN, "Enter a plain number, like 250 or 250.50 (no sign, spaces or commas)."),
    currency: z
      .string()
      .trim()
      .refine((code) => currencyDecimals(code) !== null, "Enter a currency code, like EUR or USD."),
    category: z.string().trim().min(1, "Give it a category, like ads or fees.").max(100, "At most 100 characters."),
    occurred_on: z.string().min(1, "Enter the day it happened."),
    description: z.string().max(10_000, "At most 10,000 characters."),
    campaign_id: z.string(),
  })
  .superRefine((values, context) => {
    if (currencyDecimals(values.currency) === null || !DECIMAL_PATTERN.test(values.amount)) return;
    const amount = toMinor(values.amount, values.currency);
    if ("error" in amount) {
      context.addIssue({ code: "custom", path: ["amount"], message: amount.error });
    } else if (amount.minor <= 0) {
      context.addIssue({ code: "custom", path: ["amount"], message: "The amount must be more than 0." });
    }
  });

type Values = z.infer<typeof schema>;

/** The API names the converted amount ``amount_minor``; the form has one amount field. */
function onFormFields(error: unknown): unknown {
  if (!(error instanceof ApiError)) return error;
  const errors = error.fieldErrors.map((problem) =>
    problem.field === "amount_minor" ? { ...problem, field: "amount" } : problem,
  );
  return new ApiError(error.status, { ...error.problem, errors });
}

function today(): string {
  const now = new Date();
  const month = String(now.getMonth() + 1).padStart(2, "0");
  const day = String(now.getDate()).padStart(2, "0");
  return `${now.getFullYear()}-${month}-${day}`;
}

export function TransactionForm({
  campaignId,
  campaigns,
  defaultCurrency = "EUR",
  defaultType = "expense",
  label = "New transaction",
  onCreated,
}: {
  /** Records every transaction for this campaign (no campaign field). */
  campaignId?: string;
  /** Campaigns to choose from when ``campaignId`` is not given. */
  campaigns?: { id: string; name: string }[];
  defaultCurrency?: string;
  defaultType?: "expense" | "income";
  /** The form's accessible name. */
  label?: string;
  onCreated?: (transaction: Transaction) => void;
}) {
  const queryClient = useQueryClient();
  const [saved, setSaved] = useState<string | null>(null);
  const form = useForm<Values>({
    resolver: zodResolver(schema),
    defaultValues: {
      type: defaultType,
      amount: "",
      currency: defaultCurrency,
      category: "",
      occurred_on: today(),
      description: "",
      campaign_id: campaignId ?? "",
    },
  });

  const { register } = form;
  const { errors, isSubmitting } = form.formState;
  const { formError, submit } = useApiSubmit(form, FIELDS);

  const save = submit(async (values) => {
    setSaved(null);
    const body: TransactionBody = {
      type: values.type,
      amount: values.amount,
      currency: values.currency.toUpperCase(),
      category: values.category,
      occurred_on: values.occurred_on,
      description: values.description,
      campaign_id: (campaignId ?? values.campaign_id) || null,
    };
    const transaction = await unwrap(api.POST("/api/v1/transactions", { body })).catch((error: unknown) => {
      throw onFormFields(error);
    });
    await Promise.all(TRANSACTION_ROOTS.map((root) => queryClient.invalidateQueries({ queryKey: [root] })));
    // The next one is often like this one: keep its type, currency, category and day.
    form.reset({ ...form.getValues(), amount: "", description: "" });
    setSaved(`Recorded ${transaction.amount} ${transaction.currency}.`);
    onCreated?.(transaction);
  });

  return (
    <form aria-label={label} noValidate onSubmit={save} className="space-y-4">
      <FormError message={formError} />
      <div className="grid gap-4 sm:grid-cols-2 lg:grid-cols-4">
        <SelectField
          label="Type"
          options={[
            { value: "expense", label: "Expense" },
            { value: "income", label: "Income" },
          ]}
          error={errors.type?.message}
          {...register("type")}
        />
        <MoneyFields
          amount={{ label: "Amount", error: errors.amount?.message, ...register("amount") }}
          currency={{ label: "Currency", error: errors.currency?.message, ...register("currency") }}
        />
        <TextField
          label="Category"
          placeholder="ads, fees, royalties…"
          error={errors.category?.message}
          {...register("category")}
        />
        <TextField label="Date" type="date" error={errors.occurred_on?.message} {...register("occurred_on")} />
        {campaignId === undefined && (
          <SelectField
            label="Campaign"
            options={[
              { value: "", label: "No campaign" },
              ...(campaigns ?? []).map((campaign) => ({ value: campaign.id, label: campaign.name })),
            ]}
            error={errors.campaign_id?.message}
            {...register("campaign_id")}
          />
        )}
      </div>
      <TextAreaField label="Description" rows={2} error={errors.description?.message} {...register("description")} />
      <div className="flex flex-wrap items-center gap-3">
        <Button type="submit" busy={isSubmitting}>
          Add transaction
        </Button>
        {saved && (
          <p role="status" className="text-sm text-green-800">
            {saved}
          </p>
        )}
      </div>
    </form>
  );
}
