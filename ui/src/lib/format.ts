/** Numbers, money and dates as people read them. */
const NUMBER = new Intl.NumberFormat(undefined);
const COMPACT = new Intl.NumberFormat(undefined, { notation: "compact", maximumFractionDigits: 1 });

export function formatNumber(value: number | null | undefined): string {
  return value === null || value === undefined ? "—" : NUMBER.format(value);
}

export function formatCompact(value: number | null | undefined): string {
  return value === null || value === undefined ? "—" : COMPACT.format(value);
}

/** ``minor`` units of ``currency`` (ISO 4217): cents of EUR, yen of JPY, fils of KWD. */
export function formatMoney(minor: number | null | undefined, currency = "EUR"): string {
  if (minor === null || minor === undefined) return "—";
  try {
    const format = new Intl.NumberFormat(undefined, { style: "currency", currency });
    const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
    return format.format(minor / 10 ** digits);
  } catch {
    return `${(minor / 100).toFixed(2)} ${currency}`;
  }
}

export function formatDate(value: string | null | undefined): string {
  if (!value) return "—";
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? value : date.toLocaleDateString();
}

export function formatDateTime(value: string | null | undefined): string {
  if (!value) return "—";
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? value : date.toLocaleString();
}

export function formatPercent(ratio: number | null | undefined): string {
  return ratio === null || ratio === undefined ? "—" : `${(ratio * 100).toFixed(1)}%`;
}

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
