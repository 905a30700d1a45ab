/** Lists typed into one field ("techno, house"): split, tidied, repeats left out. */

/** The entries of ``value``: split on commas and new lines (and on spaces too when
 * ``onSpaces``), inner runs of spaces made one, blanks and repeats left out. */
export function splitList(value: string, { onSpaces = false } = {}): string[] {
  const parts = value.split(onSpaces ? /[\s,]+/ : /[,\n]/);
  const seen = new Set<string>();
  for (const part of parts) {
    const word = part.split(/\s+/).filter(Boolean).join(" ");
    if (word) seen.add(word);
  }
  return [...seen];
}
