import { describe, expect, it } from 'vitest';
import { bestAssignment } from '../../src/domain/assignment.js';
import {
  exactListScores,
  fuzzyListScores,
  icd10HierarchicalCredit,
  icd10Scores,
  isValidIcd10,
  normaliseIcd10,
  scalarAccuracy,
} from '../../src/domain/metrics.js';
import { normaliseText, similarity } from '../../src/domain/normalise.js';

describe('normaliseText', () => {
  it('folds case, accents, punctuation and whitespace', () => {
    expect(normaliseText('  Insuficiencia   CARDÍACA, congestiva. ')).toBe(
      'insuficiencia cardiaca congestiva',
    );
    expect(normaliseText('Neumonía (adquirida en la comunidad)')).toBe('neumonia adquirida en la comunidad');
    expect(normaliseText('Ñandú')).toBe('nandu');
    expect(normaliseText('—')).toBe('');
  });
});

describe('similarity', () => {
  it('is 1 for equal strings and drops with edits', () => {
    expect(similarity('neumonia', 'neumonia')).toBe(1);
    expect(similarity('neumonia', 'neumonai')).toBeCloseTo(0.75);
    expect(similarity('', '')).toBe(1);
    expect(similarity('abc', '')).toBe(0);
  });
});

describe('exactListScores', () => {
  it('matches after normalisation', () => {
    const scores = exactListScores(['Neumonía', 'HTA'], ['neumonia', 'diabetes mellitus']);
    expect(scores).toMatchObject({ precision: 0.5, recall: 0.5, f1: 0.5, matched: 1 });
  });

  it('matches one to one: a repeated prediction is a false positive, so F1 stays <= 1', () => {
    const scores = exactListScores(['hta', 'hta', 'HTA'], ['hta']);
    expect(scores.matched).toBe(1);
    expect(scores.precision).toBeCloseTo(1 / 3);
    expect(scores.recall).toBe(1);
    expect(scores.f1).toBeCloseTo(0.5);
  });

  it('scores empty against empty as 1 and one empty side as 0', () => {
    expect(exactListScores([], [])).toMatchObject({ precision: 1, recall: 1, f1: 1 });
    expect(exactListScores(['  ', '.'], [])).toMatchObject({ precision: 1, recall: 1, f1: 1 });
    expect(exactListScores([], ['hta'])).toMatchObject({ precision: 0, recall: 0, f1: 0 });
    expect(exactListScores(['hta'], [])).toMatchObject({ precision: 0, recall: 0, f1: 0 });
  });
});

describe('fuzzyListScores', () => {
  it('matches near spellings above the threshold', () => {
    const scores = fuzzyListScores(
      ['insuficiencia cardiaca congestva'],
      ['Insuficiencia cardíaca congestiva'],
      0.9,
    );
    expect(scores.f1).toBe(1);
    expect(fuzzyListScores(['neumonia'], ['diabetes'], 0.9).f1).toBe(0);
  });

  it('finds the best one-to-one assignment rather than the greedy one', () => {
    // "abcdef" is closest to "abcdeg", which greedy pairing would take, leaving "zbcdeg" (which only
    // matches "abcdeg") unmatched. The best assignment pairs "abcdef" with "abcdxy" instead.
    const scores = fuzzyListScores(['abcdef', 'zbcdeg'], ['abcdeg', 'abcdxy'], 0.65);
    expect(scores.matched).toBe(2);
    expect(scores.f1).toBe(1);
  });

  it('never matches one expected item twice', () => {
    const scores = fuzzyListScores(['neumonia', 'neumonia bilateral', 'neumonía'], ['neumonia'], 0.5);
    expect(scores.matched).toBe(1);
    expect(scores.f1).toBeLessThanOrEqual(1);
  });
});

describe('bestAssignment', () => {
  it('maximises the total weight over rectangular inputs', () => {
    const weights = [
      [4, 1, 3],
      [2, 0, 5],
    ];
    const pairs = bestAssignment(2, 3, (i, j) => weights[i]![j]!);
    const total = pairs.reduce((sum, [i, j]) => sum + weights[i]![j]!, 0);
    expect(total).toBe(9);
    expect(pairs).toHaveLength(2);
  });

  it('leaves out pairs of weight 0', () => {
    expect(bestAssignment(2, 2, () => 0)).toEqual([]);
    expect(bestAssignment(2, 2, (i, j) => (i === 0 && j === 1 ? 1 : 0))).toEqual([[0, 1]]);
  });
});

describe('ICD-10', () => {
  it('normalises and validates codes', () => {
    expect(normaliseIcd10(' j18.9 ')).toBe('J189');
    expect(normaliseIcd10('S72.001-A')).toBe('S72001A');
    expect(isValidIcd10('J189')).toBe(true);
    expect(isValidIcd10('I10')).toBe(true);
    expect(isValidIcd10('J1')).toBe(false);
    expect(isValidIcd10('189')).toBe(false);
    expect(isValidIcd10('JJ18')).toBe(false);
    expect(isValidIcd10('J18999999')).toBe(false);
  });

  it('gives hierarchical credit by the longest shared prefix within the category', () => {
    expect(icd10HierarchicalCredit('J189', 'J189')).toBe(1);
    expect(icd10HierarchicalCredit('J189', 'J180')).toBe(0.75);
    expect(icd10HierarchicalCredit('J18', 'J189')).toBe(0.75);
    expect(icd10HierarchicalCredit('E1165', 'E119')).toBe(0.6);
    expect(icd10HierarchicalCredit('J189', 'J440')).toBe(0);
    expect(icd10HierarchicalCredit('J189', 'J199')).toBe(0);
  });

  it('scores exact and hierarchical credit', () => {
    expect(icd10Scores(['J18.9', 'I10'], ['j189', 'E11.9'], 'exact')).toMatchObject({
      precision: 0.5,
      recall: 0.5,
    });
    const hierarchical = icd10Scores(['J18.0', 'I10'], ['J18.9', 'I10'], 'hierarchical');
    expect(hierarchical.matched).toBeCloseTo(1.75);
    expect(hierarchical.precision).toBeCloseTo(0.875);
    expect(hierarchical.recall).toBeCloseTo(0.875);
  });

  it('counts invalid predicted codes as misses and leaves invalid ground-truth codes out', () => {
    const scores = icd10Scores(['J18.9', 'neumonia'], ['J18.9', '??'], 'exact');
    expect(scores.precision).toBe(0.5);
    expect(scores.recall).toBe(1);
    expect(scores.invalidPredicted).toEqual(['neumonia']);
    expect(scores.invalidExpected).toEqual(['??']);
  });

  it('treats empty against empty as right', () => {
    expect(icd10Scores([], [' '], 'hierarchical').f1).toBe(1);
  });
});

describe('scalarAccuracy', () => {
  it('compares after normalisation, with empty vs empty right', () => {
    expect(scalarAccuracy('Domicilio', 'domicilio.')).toBe(1);
    expect(scalarAccuracy('Domicilio', 'Residencia')).toBe(0);
    expect(scalarAccuracy(undefined, '')).toBe(1);
    expect(scalarAccuracy('domicilio', undefined)).toBe(0);
  });
});
