/** Forms sent to the API: the server's field errors go next to the fields they name, and the
 * rest above the form. */
import { useState } from "react";
import type { FieldValues, Path, UseFormHandleSubmit, UseFormSetError } from "react-hook-form";
import { ApiError, errorMessage } from "@/api/problem";
import { sentenceOrNull } from "./format";

/** Shows ``error`` on the form: each field error on its field when the form has it; returns
 * the message for the form as a whole (null when every problem found its field). */
export function showApiError<T extends FieldValues>(
  error: unknown,
  setError: UseFormSetError<T>,
  fields: readonly string[],
): string | null {
  if (!(error instanceof ApiError)) return errorMessage(error);
  const unplaced: string[] = [];
  for (const problem of error.fieldErrors) {
    const name = fields.find((field) => problem.field === field || problem.field.startsWith(`${field}.`));
    if (name) setError(name as Path<T>, { type: "server", message: problem.message });
    else unplaced.push(`${problem.field}: ${problem.message}`);
  }
  if (error.fieldErrors.length > 0 && unplaced.length === 0) return null;
  return unplaced.length > 0 ? unplaced.join("; ") : error.message;
}

/** How a form reads one refusal of the API before the rule of ``showApiError``: the message to
 * show above the form, null once it has dealt with it (put it on a field), or undefined to
 * leave it to the rule. */
export type Explain = (error: ApiError) => string | null | undefined;

/** An ``Explain`` for forms that create something unique: a 409 (it exists already) goes on
 * ``field``, in the server's words. */
export function conflictOn<T extends FieldValues>(setError: UseFormSetError<T>, field: Path<T>): Explain {
  return (error) => {
    if (error.status !== 409) return undefined;
    setError(field, { type: "server", message: error.message });
    return null;
  };
}

/** Sends a react-hook-form form to the API. ``submit(send)`` is the form's onSubmit: it checks
 * the fields, forgets the last refusal, awaits ``send(values)``, and when that fails puts the
 * server's field errors on their fields and the rest in ``formError`` (a sentence, for
 * ``<FormError>``); ``explain`` reads a refusal first. */
export function useApiSubmit<T extends FieldValues>(
  form: { handleSubmit: UseFormHandleSubmit<T>; setError: UseFormSetError<T> },
  fields: readonly string[],
  explain?: Explain,
) {
  const [formError, setFormError] = useState<string | null>(null);
  const submit = (send: (values: T) => Promise<unknown>) =>
    form.handleSubmit(async (values) => {
      setFormError(null);
      try {
        await send(values);
      } catch (error) {
        const explained = error instanceof ApiError ? explain?.(error) : undefined;
        setFormError(explained !== undefined ? explained : sentenceOrNull(showApiError(error, form.setError, fields)));
      }
    });
  return { formError, submit };
}
