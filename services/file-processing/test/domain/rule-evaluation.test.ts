import { describe, expect, it } from 'vitest';
import { parseDqdl } from '../../src/domain/dqdl.js';
import { type ColumnProfile, type CsvProfile, measurementRequestsFor } from '../../src/domain/profile.js';
import { buildReport, metricsOf, reportKeyFor } from '../../src/domain/report.js';
import { evaluateRuleset } from '../../src/domain/rule-evaluation.js';
import { RulesetCatalog } from '../../src/domain/ruleset-selection.js';

function column(name: string, overrides: Partial<ColumnProfile> = {}): ColumnProfile {
  return {
    name,
    inferredType: 'VARCHAR',
    dataType: 'STRING',
    nullCount: 0,
    emptyCount: 0,
    nullRate: 0,
    emptyRate: 0,
    typeMismatchCount: 0,
    approxDistinctCount: 10,
    min: null,
    max: null,
    ...overrides,
  };
}

const ruleset = parseDqdl(`Rules = [
  RowCount = 10,
  ColumnCount > 3,
  ColumnExists "id",
  ColumnExists "missing",
  IsComplete "id",
  Completeness "name" >= 0.8,
  IsUnique "id",
  Uniqueness "name" > 0.5,
  ColumnValues "state" in ["NM", "TX"],
  ColumnValues "state" in ["NM", "TX"] with threshold >= 0.9,
  ColumnDataType "age" = "INTEGER",
  ColumnDataType "name" = "INTEGER",
  IsComplete "missing"
]`);

function profileWith(measured: CsvProfile['measurements']): CsvProfile {
  return {
    bytes: 1234,
    dialect: {
      delimiter: ',',
      quote: '"',
      escape: '"',
      newline: '\n',
      hasHeader: true,
      byteOrderMark: false,
    },
    rowCount: 10,
    columnCount: 4,
    columns: [
      column('id', { inferredType: 'BIGINT', dataType: 'INTEGER' }),
      column('name', { nullCount: 1, emptyCount: 1 }),
      column('state'),
      column('age', { inferredType: 'BIGINT', dataType: 'STRING', typeMismatchCount: 2 }),
    ],
    duplicateRowCount: 0,
    malformedRowCount: 0,
    malformedRows: [],
    malformedRowsTruncated: false,
    encodingProblemCount: 0,
    measurements: measured,
  };
}

describe('evaluateRuleset', () => {
  const requests = measurementRequestsFor(ruleset);
  const byColumn = (kind: string, name: string) =>
    requests.find((request) => request.kind === kind && request.column === name)?.id as string;

  it('asks for one measurement per distinct column condition', () => {
    expect(requests.map((request) => [request.kind, request.column])).toEqual([
      ['uniqueness', 'id'],
      ['uniqueness', 'name'],
      ['values', 'state'],
    ]);
  });

  it('passes or fails each rule with the observed value', () => {
    const profile = profileWith({
      [byColumn('uniqueness', 'id')]: {
        kind: 'uniqueness',
        uniqueValueCount: 10,
        distinctCount: 10,
        total: 10,
      },
      [byColumn('uniqueness', 'name')]: {
        kind: 'uniqueness',
        uniqueValueCount: 4,
        distinctCount: 6,
        total: 10,
      },
      [byColumn('values', 'state')]: { kind: 'values', satisfied: 9, total: 10 },
    });
    const results = evaluateRuleset(ruleset, profile);
    expect(results.map((result) => [result.rule, result.outcome, result.observed])).toEqual([
      ['RowCount = 10', 'passed', 10],
      ['ColumnCount > 3', 'passed', 4],
      ['ColumnExists "id"', 'passed', true],
      ['ColumnExists "missing"', 'failed', false],
      ['IsComplete "id"', 'passed', 1],
      ['Completeness "name" >= 0.8', 'passed', 0.8],
      ['IsUnique "id"', 'passed', 1],
      ['Uniqueness "name" > 0.5', 'failed', 0.4],
      ['ColumnValues "state" in ["NM", "TX"]', 'failed', 0.9],
      ['ColumnValues "state" in ["NM", "TX"] with threshold >= 0.9', 'passed', 0.9],
      ['ColumnDataType "age" = "INTEGER"', 'failed', 'STRING'],
      ['ColumnDataType "name" = "INTEGER"', 'failed', 'STRING'],
      ['IsComplete "missing"', 'failed', null],
    ]);
    expect(results[8]?.reason).toBe('1 of 10 row(s) do not satisfy the condition');
    expect(results[10]?.reason).toMatch(/2 value\(s\) do not parse as the inferred BIGINT/);
    expect(results[12]?.reason).toBe('column "missing" is not in the file');
  });

  it('fails ratio rules on a file with no rows instead of passing them vacuously', () => {
    const empty = { ...profileWith({}), rowCount: 0 };
    const [result] = evaluateRuleset(parseDqdl('Rules = [ IsComplete "id" ]'), empty);
    expect(result).toMatchObject({
      outcome: 'failed',
      observed: null,
      reason: 'the file has no rows to measure',
    });
  });

  it('builds a report whose metrics count rules and rows', () => {
    const profile = profileWith({});
    const rules = evaluateRuleset(parseDqdl('Rules = [ RowCount > 1, RowCount > 100 ]'), profile);
    const report = buildReport({
      jobId: 'j1',
      source: { bucket: 'b', key: 'from_client/a.csv' },
      ruleset: { name: 'r', prefix: 'from_client/' },
      profile,
      rules,
      startedAt: new Date('2026-01-01T00:00:00Z'),
      finishedAt: new Date('2026-01-01T00:00:01.5Z'),
    });
    expect(report.summary).toEqual({ rulesPassed: 1, rulesFailed: 1, outcome: 'failed' });
    expect(metricsOf(report)).toEqual({
      rows: 10,
      bytes: 1234,
      columns: 4,
      rules_passed: 1,
      rules_failed: 1,
      malformed_rows: 0,
      duration_ms: 1500,
    });
    expect(reportKeyFor('dq-results', report.source, 'j1')).toBe('dq-results/from_client/a.csv/j1.json');
  });
});

describe('RulesetCatalog', () => {
  const catalog = new RulesetCatalog([
    { name: 'all-clients', prefix: 'from_client/', dqdl: 'Rules = [ RowCount > 0 ]' },
    { name: 'albuquerque', prefix: 'from_client/nm_albuquerque/', dqdl: 'Rules = [ ColumnExists "id" ]' },
    { name: 'albuquerque-prod', prefix: 'from_client/nm_albuquerque/', bucket: 'prod', dqdl: 'Rules = []' },
  ]);

  it('chooses the longest matching prefix, a bucket-specific entry first', () => {
    expect(catalog.select('dev', 'from_client/nm_albuquerque/Officer_Detail.csv')?.name).toBe('albuquerque');
    expect(catalog.select('prod', 'from_client/nm_albuquerque/Officer_Detail.csv')?.name).toBe(
      'albuquerque-prod',
    );
    expect(catalog.select('dev', 'from_client/tx_austin/x.csv')?.name).toBe('all-clients');
    expect(catalog.select('dev', 'elsewhere/x.csv')).toBeUndefined();
  });

  it('refuses a catalog with an invalid ruleset, naming it and the line', () => {
    expect(
      () => new RulesetCatalog([{ name: 'broken', prefix: '', dqdl: 'Rules = [\n RowCount >> 1 ]' }]),
    ).toThrow(/Ruleset "broken": Invalid DQDL at line 2/);
  });
});
