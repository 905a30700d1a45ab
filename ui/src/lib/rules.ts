/** Field rules the server applies too (core/emails.py, serve/schemas/), checked in the forms
 * first so a typo is caught before a round trip; the server still has the last word. */
import { z } from "zod";

// core/emails.py: one @, a dot in the domain, no spaces.
const EMAIL = /^[^@\s]{1,64}@[^@\s]+\.[^@\s.]{2,}$/;

/** An email address, trimmed; ``missing`` is what an empty field says. */
export function emailAddress(missing = "Enter an email address.") {
  return z
    .string()
    .trim()
    .min(1, missing)
    .max(320, "An email address has at most 320 characters.")
    .regex(EMAIL, "Enter an email address like name@example.com.");
}

/** Blank, or a two-letter country code in either case. */
export const countryCode = z
  .string()
  .trim()
  .refine((value) => value === "" || /^[A-Za-z]{2}$/.test(value), "Use a two-letter country code, e.g. DE.");

/** A whole number typed as text, from ``min`` to ``max``; blank passes unless ``required``. */
export function wholeNumber({ min, max, required = false }: { min: number; max?: number; required?: boolean }) {
  const range =
    max === undefined ? `a whole number of at least ${min}` : `a whole number from ${min} to ${max.toLocaleString("en")}`;
  return z
    .string()
    .trim()
    .refine(
      (value) =>
        (!required && value === "") ||
        (/^\d{1,15}$/.test(value) && Number(value) >= min && (max === undefined || Number(value) <= max)),
      `Enter ${range}.`,
    );
}

/** Flags ``highField`` when both ends of a range are given and the high one is below the low. */
export function checkRange(
  context: z.RefinementCtx,
  low: string,
  high: string,
  highField: string,
): void {
  if (low.trim() !== "" && high.trim() !== "" && Number(low) > Number(high)) {
    context.addIssue({ code: "custom", path: [highField], message: "Must not be less than the minimum." });
  }
}
