import { bestAssignment } from './assignment.js';
import { normaliseItems, normaliseText, similarity } from './normalise.js';

/**
 * Precision, recall and F1 of a predicted list against an expected list, each in [0, 1].
 *
 * The one meaning of "empty" used everywhere (docs/eval-metrics.md): when both sides are empty the
 * prediction is right (every metric is 1); when exactly one side is empty every metric is 0.
 */
export interface ListScores {
  precision: number;
  recall: number;
  f1: number;
  /** Credit of the matched pairs: their count for exact and fuzzy matching, the sum of partial credits for ICD-10 hierarchical. */
  matched: number;
  predicted: number;
  expected: number;
}

export function listScoresFromCredit(credit: number, predicted: number, expected: number): ListScores {
  if (predicted === 0 && expected === 0)
    return { precision: 1, recall: 1, f1: 1, matched: 0, predicted, expected };
  // Each item takes part in at most one pair worth at most 1, so credit <= min(predicted, expected);
  // the min() only guards against floating-point sums landing a hair above 1.
  const precision = predicted === 0 ? 0 : Math.min(1, credit / predicted);
  const recall = expected === 0 ? 0 : Math.min(1, credit / expected);
  const f1 = precision + recall === 0 ? 0 : Math.min(1, (2 * precision * recall) / (precision + recall));
  return { precision, recall, f1, matched: credit, predicted, expected };
}

/** Exact matching after normalisation, as multisets: a duplicate prediction matches at most one expected item. */
export function exactListScores(predicted: readonly string[], expected: readonly string[]): ListScores {
  const p = normaliseItems(predicted);
  const e = normaliseItems(expected);
  const remaining = new Map<string, number>();
  for (const item of e) remaining.set(item, (remaining.get(item) ?? 0) + 1);
  let matched = 0;
  for (const item of p) {
    const left = remaining.get(item) ?? 0;
    if (left > 0) {
      matched++;
      remaining.set(item, left - 1);
    }
  }
  return listScoresFromCredit(matched, p.length, e.length);
}

/**
 * Fuzzy matching: a predicted and an expected item match when their similarity (normalised
 * Levenshtein) is at least `threshold`. The pairing is the best one-to-one assignment: as many
 * matches as possible, and among those the largest total similarity. Each match counts 1.
 */
export function fuzzyListScores(
  predicted: readonly string[],
  expected: readonly string[],
  threshold: number,
): ListScores {
  const p = normaliseItems(predicted);
  const e = normaliseItems(expected);
  // Weight = (k + 1) + similarity, so one more match always outweighs any gain in similarity.
  const bonus = Math.min(p.length, e.length) + 1;
  const pairs = bestAssignment(p.length, e.length, (i, j) => {
    const s = similarity(p[i]!, e[j]!);
    return s >= threshold ? bonus + s : 0;
  });
  return listScoresFromCredit(pairs.length, p.length, e.length);
}

/** ICD-10 / CIE-10 code: a letter, two digits, then up to four letters or digits (the subcodes). */
export const ICD10_FORMAT = /^[A-Z][0-9]{2}[0-9A-Z]{0,4}$/;
/** The category is the first three characters (letter and two digits), e.g. J18 in J18.9. */
export const ICD10_CATEGORY_LENGTH = 3;

/** Upper case, with dots, spaces and dashes removed: " j18.9 " -> "J189". */
export function normaliseIcd10(code: string): string {
  return code.toUpperCase().replace(/[\s.-]+/g, '');
}

export function isValidIcd10(normalisedCode: string): boolean {
  return ICD10_FORMAT.test(normalisedCode);
}

/**
 * Partial credit between two valid codes: the length of their longest shared prefix over the
 * length of the longer code, and 0 when they do not share the category (3 characters).
 * J18.9 vs J18.0 -> 3/4; J18 vs J18.9 -> 3/4; J18.9 vs J18.9 -> 1; J18.9 vs J44.0 -> 0.
 */
export function icd10HierarchicalCredit(a: string, b: string): number {
  if (a === b) return 1;
  let shared = 0;
  const shorter = Math.min(a.length, b.length);
  while (shared < shorter && a[shared] === b[shared]) shared++;
  if (shared < ICD10_CATEGORY_LENGTH) return 0;
  return shared / Math.max(a.length, b.length);
}

export interface Icd10Scores extends ListScores {
  /** Predicted codes that are not ICD-10 codes: they count as predictions that match nothing. */
  invalidPredicted: string[];
  /** Ground-truth codes that are not ICD-10 codes: left out, since nothing can be expected to match them. */
  invalidExpected: string[];
}

/**
 * ICD-10 codes as multisets after normalisation. `exact` credits identical codes only;
 * `hierarchical` credits pairs by {@link icd10HierarchicalCredit} under the best one-to-one assignment.
 */
export function icd10Scores(
  predicted: readonly string[],
  expected: readonly string[],
  credit: 'exact' | 'hierarchical',
): Icd10Scores {
  const invalidPredicted: string[] = [];
  const invalidExpected: string[] = [];
  const p: string[] = [];
  const e: string[] = [];
  let predictedCount = 0;
  for (const raw of predicted) {
    const code = normaliseIcd10(raw);
    if (code === '') continue;
    predictedCount++;
    if (isValidIcd10(code)) p.push(code);
    else invalidPredicted.push(raw);
  }
  for (const raw of expected) {
    const code = normaliseIcd10(raw);
    if (code === '') continue;
    if (isValidIcd10(code)) e.push(code);
    else invalidExpected.push(raw);
  }
  let matched: number;
  if (credit === 'exact') {
    matched = exactListScores(p, e).matched;
  } else {
    const pairs = bestAssignment(p.length, e.length, (i, j) => icd10HierarchicalCredit(p[i]!, e[j]!));
    matched = pairs.reduce((sum, [i, j]) => sum + icd10HierarchicalCredit(p[i]!, e[j]!), 0);
  }
  return { ...listScoresFromCredit(matched, predictedCount, e.length), invalidPredicted, invalidExpected };
}

/** A scalar (e.g. discharge destination): 1 when equal after normalisation, else 0; both empty is 1. */
export function scalarAccuracy(predicted: string | undefined, expected: string | undefined): number {
  const p = normaliseText(predicted ?? '');
  const e = normaliseText(expected ?? '');
  return p === e ? 1 : 0;
}
