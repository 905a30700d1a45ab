/** The account rules the server applies (serve/schemas/accounts.py, core/passwords.py,
 * core/emails.py), checked here first so a typo is caught before a round trip. */
import { z } from "zod";

// core/emails.py: one @, a dot in the domain, no spaces.
const EMAIL = /^[^@\s]{1,64}@[^@\s]+\.[^@\s.]{2,}$/;

export const MIN_PASSWORD = 8;
export const MAX_PASSWORD = 256;

export const email = z
  .string()
  .trim()
  .min(1, "Enter your email address.")
  .max(320, "An email address has at most 320 characters.")
  .regex(EMAIL, "Enter an email address like name@example.com.");

export const newPassword = z
  .string()
  .min(MIN_PASSWORD, `Use at least ${MIN_PASSWORD} characters.`)
  .max(MAX_PASSWORD, `Use at most ${MAX_PASSWORD} characters.`);

/** A sentence from a server detail ("invitation expired" -> "Invitation expired."). */
export function sentence(text: string): string {
  const trimmed = text.trim();
  if (!trimmed) return trimmed;
  const capital = trimmed[0]!.toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}

export function sentenceOrNull(text: string | null): string | null {
  return text === null ? null : sentence(text);
}
