/** Exact conversions between what people type ("1500.50") and integer minor units, using each
 * currency's own number of decimals (EUR 2, JPY 0, KWD 3). No floating point. */

/** Decimals of ``currency`` (ISO 4217), or null when the code is not a currency. */
export function currencyDecimals(currency: string): number | null {
  if (!/^[A-Za-z]{3}$/.test(currency)) return null;
  try {
    const digits = new Intl.NumberFormat("en", {
      style: "currency",
      currency: currency.toUpperCase(),
    }).resolvedOptions().maximumFractionDigits;
    return digits ?? 2;
  } catch {
    return null;
  }
}

/** The largest amount the API stores, in minor units. */
export const MAX_AMOUNT_MINOR = 10 ** 15;

/** A plain decimal as the API reads one: digits, optionally a point and up to 4 decimals. */
export const DECIMAL_PATTERN = /^[0-9]{1,16}(\.[0-9]{1,4})?$/;

export type MinorResult = { minor: number } | { error: string };

/** ``"12.5", "EUR"`` -> 1250; an error sentence when the text is not an amount in that
 * currency. An empty text is 0. */
export function toMinor(amount: string, currency: string): MinorResult {
  const text = amount.trim();
  if (text === "") return { minor: 0 };
  if (!DECIMAL_PATTERN.test(text)) {
    return { error: "Enter a plain number, like 1500 or 1500.50 (no sign, spaces or commas)." };
  }
  const decimals = currencyDecimals(currency);
  if (decimals === null) return { error: "Choose a valid currency first." };
  const [whole = "0", fraction = ""] = text.split(".");
  if (fraction.length > decimals) {
    return {
      error:
        decimals === 0
          ? `${currency.toUpperCase()} has no decimals.`
          : `${currency.toUpperCase()} has at most ${decimals} decimals.`,
    };
  }
  const minor = Number(whole + fraction.padEnd(decimals, "0"));
  if (minor > MAX_AMOUNT_MINOR) return { error: "That amount is too large." };
  return { minor };
}

/** 1250, "EUR" -> "12.50"; 1250, "JPY" -> "1250": the text ``toMinor`` reads back. */
export function toMajor(minor: number, currency: string): string {
  const decimals = currencyDecimals(currency) ?? 2;
  if (decimals === 0) return String(minor);
  const digits = String(Math.abs(minor)).padStart(decimals + 1, "0");
  const sign = minor < 0 ? "-" : "";
  return `${sign}${digits.slice(0, -decimals)}.${digits.slice(-decimals)}`;
}
