import { describe, expect, it } from 'vitest';
import { DqdlSyntaxError, parseDqdl } from '../../src/domain/dqdl.js';

describe('parseDqdl', () => {
  it('parses every supported rule type with its condition', () => {
    const { rules } = parseDqdl(`
      # officer detail checks
      Rules = [
        RowCount > 0,
        ColumnCount between 3 and 10,
        ColumnExists "id",
        IsComplete "id",
        Completeness "name" >= 0.95,
        IsUnique "id",
        Uniqueness "email" > 0.99,
        ColumnValues "state" in ["NM", "TX", NULL],
        ColumnValues "state" not in ["XX"],
        ColumnValues "age" between 0 and 120 with threshold > 0.9,
        ColumnValues "email" matches "[^@]+@[^@]+\\.[a-z]+",
        ColumnValues "score" <= 100,
        ColumnDataType "age" = "INTEGER",
        ColumnDataType "born" in ["DATE", "timestamp"],
        ColumnDataType "id" = "LONG",
      ]`);
    expect(rules.map((rule) => rule.type)).toEqual([
      'RowCount',
      'ColumnCount',
      'ColumnExists',
      'IsComplete',
      'Completeness',
      'IsUnique',
      'Uniqueness',
      'ColumnValues',
      'ColumnValues',
      'ColumnValues',
      'ColumnValues',
      'ColumnValues',
      'ColumnDataType',
      'ColumnDataType',
      'ColumnDataType',
    ]);
    expect(rules[0]).toMatchObject({ condition: { kind: 'compare', operator: '>', value: 0 }, line: 4 });
    expect(rules[1]).toMatchObject({ condition: { kind: 'between', low: 3, high: 10, negated: false } });
    expect(rules[4]).toMatchObject({ column: 'name', condition: { operator: '>=', value: 0.95 } });
    expect(rules[7]).toMatchObject({ condition: { kind: 'in', values: ['NM', 'TX', null], negated: false } });
    expect(rules[8]).toMatchObject({ condition: { kind: 'in', values: ['XX'], negated: true } });
    expect(rules[9]).toMatchObject({
      condition: { kind: 'between', low: 0, high: 120 },
      threshold: { kind: 'compare', operator: '>', value: 0.9 },
    });
    expect(rules[10]).toMatchObject({ condition: { kind: 'matches', pattern: '[^@]+@[^@]+\\.[a-z]+' } });
    expect(rules[13]).toMatchObject({ types: ['DATE', 'TIMESTAMP'], negated: false });
    expect(rules[14]).toMatchObject({ types: ['INTEGER'] });
    expect(rules[9]?.text).toBe('ColumnValues "age" between 0 and 120 with threshold > 0.9');
  });

  it('accepts an empty ruleset and negative numbers', () => {
    expect(parseDqdl('Rules = []').rules).toEqual([]);
    expect(parseDqdl('Rules = [ ColumnValues "t" between -10.5 and -1 ]').rules[0]).toMatchObject({
      condition: { low: -10.5, high: -1 },
    });
  });

  const bad: [string, string, RegExp][] = [
    [
      'unknown rule',
      'Rules = [\n  RowCount > 1,\n  CustomSql "select 1"\n]',
      /line 3, column 3 \(rule 2\): unknown rule "CustomSql"/,
    ],
    [
      'missing column quotes',
      'Rules = [ IsComplete id ]',
      /line 1, column 22 \(rule 1\): IsComplete needs a column name in double quotes/,
    ],
    ['missing condition', 'Rules = [ RowCount ]', /RowCount needs a condition/],
    ['missing comma', 'Rules = [ RowCount > 1 IsComplete "a" ]', /expected "," between rules/],
    ['unterminated string', 'Rules = [ IsComplete "a ]', /line 1, column 22: unterminated string/],
    ['bad regex', 'Rules = [ ColumnValues "a" matches "(" ]', /invalid pattern/],
    ['unknown type', 'Rules = [ ColumnDataType "a" = "UUID" ]', /unknown data type "UUID"/],
    ['inverted between', 'Rules = [ RowCount between 5 and 1 ]', /low bound is above the high bound/],
    ['no header', '[ RowCount > 1 ]', /expected "Rules = \["/],
    ['trailing text', 'Rules = [ ] extra', /unexpected "extra" after the closing/],
    ['unclosed', 'Rules = [ RowCount > 1', /found the end of the ruleset/],
    ['bad character', 'Rules = [ RowCount > 1; ]', /unexpected character ";"/],
  ];
  it.each(bad)('rejects %s with the line and rule', (_name, source, message) => {
    let caught: unknown;
    try {
      parseDqdl(source);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(DqdlSyntaxError);
    expect((caught as Error).message).toMatch(message);
  });
});
