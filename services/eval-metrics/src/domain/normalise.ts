/**
 * Text normalisation shared by every text comparison: Unicode NFKD, accents (combining marks)
 * removed, lower case, punctuation and symbols turned into spaces, runs of whitespace collapsed,
 * ends trimmed. "Insuficiencia  cardíaca." and "insuficiencia cardiaca" compare equal.
 */
export function normaliseText(value: string): string {
  return value
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/[\p{P}\p{S}]+/gu, ' ')
    .replace(/\s+/gu, ' ')
    .trim();
}

/** Normalises every item and drops the ones that normalise to nothing ("", " - "). */
export function normaliseItems(items: readonly string[]): string[] {
  const normalised: string[] = [];
  for (const item of items) {
    const text = normaliseText(item);
    if (text !== '') normalised.push(text);
  }
  return normalised;
}

/**
 * Similarity of two strings in [0, 1]: 1 - Levenshtein distance / length of the longer one.
 * Two empty strings are identical (1).
 */
export function similarity(a: string, b: string): number {
  if (a === b) return 1;
  const longer = Math.max(a.length, b.length);
  if (longer === 0) return 1;
  return 1 - levenshtein(a, b) / longer;
}

function levenshtein(a: string, b: string): number {
  if (a.length < b.length) [a, b] = [b, a];
  let previous = new Array<number>(b.length + 1);
  let current = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) previous[j] = j;
  for (let i = 1; i <= a.length; i++) {
    current[0] = i;
    const ca = a.charCodeAt(i - 1);
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (ca === b.charCodeAt(j - 1) ? 0 : 1);
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution);
    }
    [previous, current] = [current, previous];
  }
  return previous[b.length]!;
}
