/** Puts an API problem's field errors next to the fields they name, and the rest above the
 * form. */
import type { FieldValues, Path, UseFormSetError } from "react-hook-form";
import { ApiError, errorMessage } from "@/api/problem";

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
