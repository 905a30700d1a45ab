/** The account rules the server applies (serve/schemas/accounts.py, core/passwords.py), checked
 * here first so a typo is caught before a round trip. */
import { z } from "zod";
import { emailAddress } from "@/lib/rules";

export const MIN_PASSWORD = 8;
export const MAX_PASSWORD = 256;

/** The account's own address. */
export const email = emailAddress("Enter your email address.");

export const newPassword = z
  .string()
  .min(MIN_PASSWORD, `Use at least ${MIN_PASSWORD} characters.`)
  .max(MAX_PASSWORD, `Use at most ${MAX_PASSWORD} characters.`);
