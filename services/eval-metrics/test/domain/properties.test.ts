import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  exactListScores,
  fuzzyListScores,
  icd10Scores,
  type ListScores,
  scalarAccuracy,
} from '../../src/domain/metrics.js';
import { normaliseItems, normaliseText } from '../../src/domain/normalise.js';

const words = fc.array(
  fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('Neumonía', 'neumonia', 'HTA', 'hta.', 'EPOC')),
  {
    maxLength: 8,
  },
);
const codes = fc.array(
  fc.oneof(
    fc.constantFrom('J18.9', 'J18.0', 'J18', 'I10', 'E11.9', 'E11.65', 'bad', ''),
    fc.string({ maxLength: 7 }),
  ),
  { maxLength: 8 },
);
const threshold = fc.double({ min: 0, max: 1, noNaN: true });

type Metric = (predicted: string[], expected: string[], t: number) => ListScores;
const metrics: Record<string, Metric> = {
  exact: (p, e) => exactListScores(p, e),
  fuzzy: (p, e, t) => fuzzyListScores(p, e, t),
  icd10_exact: (p, e) => icd10Scores(p, e, 'exact'),
  icd10_hierarchical: (p, e) => icd10Scores(p, e, 'hierarchical'),
};

function inUnitInterval(scores: ListScores) {
  for (const value of [scores.precision, scores.recall, scores.f1]) {
    expect(Number.isFinite(value)).toBe(true);
    expect(value).toBeGreaterThanOrEqual(0);
    expect(value).toBeLessThanOrEqual(1);
  }
}

function shuffled<T>(items: T[], seed: number): T[] {
  const copy = [...items];
  let state = seed;
  for (let i = copy.length - 1; i > 0; i--) {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    const j = state % (i + 1);
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}

describe.each(Object.entries(metrics))('%s list metric', (name, metric) => {
  const inputs = name.startsWith('icd10') ? codes : words;

  it('stays in [0, 1]', () => {
    fc.assert(fc.property(inputs, inputs, threshold, (p, e, t) => inUnitInterval(metric(p, e, t))));
  });

  it('does not depend on the order of either list', () => {
    fc.assert(
      fc.property(inputs, inputs, threshold, fc.nat(), (p, e, t, seed) => {
        const a = metric(p, e, t);
        const b = metric(shuffled(p, seed), shuffled(e, seed + 1), t);
        expect(b.precision).toBeCloseTo(a.precision, 9);
        expect(b.recall).toBeCloseTo(a.recall, 9);
        expect(b.f1).toBeCloseTo(a.f1, 9);
      }),
    );
  });
});

describe('F1 = 1 exactly when the (normalised) multisets are equal', () => {
  const sorted = (items: string[]) => [...items].sort();

  it('holds for exact matching on non-empty lists', () => {
    fc.assert(
      fc.property(words, words, (p, e) => {
        fc.pre(normaliseItems(p).length > 0 || normaliseItems(e).length > 0);
        const equal = JSON.stringify(sorted(normaliseItems(p))) === JSON.stringify(sorted(normaliseItems(e)));
        expect(exactListScores(p, e).f1 === 1).toBe(equal);
      }),
    );
  });

  it('holds for a list and any permutation of it, and fuzzy matching agrees at threshold 1', () => {
    fc.assert(
      fc.property(words, fc.nat(), (items, seed) => {
        fc.pre(normaliseItems(items).length > 0);
        expect(exactListScores(items, shuffled(items, seed)).f1).toBe(1);
        expect(fuzzyListScores(items, shuffled(items, seed), 1).f1).toBe(1);
      }),
    );
  });

  it('holds for fuzzy matching at threshold 1 on any lists', () => {
    fc.assert(
      fc.property(words, words, (p, e) => {
        fc.pre(normaliseItems(p).length > 0 || normaliseItems(e).length > 0);
        const equal = JSON.stringify(sorted(normaliseItems(p))) === JSON.stringify(sorted(normaliseItems(e)));
        expect(fuzzyListScores(p, e, 1).f1 === 1).toBe(equal);
      }),
    );
  });
});

describe('scalar accuracy', () => {
  it('is 0 or 1 and symmetric', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (a, b) => {
        const value = scalarAccuracy(a, b);
        expect([0, 1]).toContain(value);
        expect(scalarAccuracy(b, a)).toBe(value);
        expect(value === 1).toBe(normaliseText(a) === normaliseText(b));
      }),
    );
  });
});
