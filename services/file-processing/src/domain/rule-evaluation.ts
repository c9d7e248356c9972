import type { NumericCondition, Rule, Ruleset, RuleType } from './dqdl.js';
import { type CsvProfile, type Measurement, measurementRequestOf } from './profile.js';

export type RuleOutcome = 'passed' | 'failed';

export interface RuleResult {
  /** The rule as written. */
  rule: string;
  type: RuleType;
  line: number;
  outcome: RuleOutcome;
  /** What was measured: a count, a ratio in [0, 1], a type name or a yes/no. Null when nothing could be. */
  observed: number | string | boolean | null;
  /** Why a rule failed, in words, when the observed value alone does not say it. */
  reason?: string;
}

/** Evaluates each rule against the profile. Pure: the profile carries every measurement a rule needs. */
export function evaluateRuleset(ruleset: Ruleset, profile: CsvProfile): RuleResult[] {
  return ruleset.rules.map((rule) => evaluateRule(rule, profile));
}

export function evaluateRule(rule: Rule, profile: CsvProfile): RuleResult {
  const result = (passed: boolean, observed: RuleResult['observed'], reason?: string): RuleResult => ({
    rule: rule.text,
    type: rule.type,
    line: rule.line,
    outcome: passed ? 'passed' : 'failed',
    observed,
    ...(!passed && reason ? { reason } : {}),
  });

  if (rule.type === 'RowCount') return numeric(rule.condition, profile.rowCount);
  if (rule.type === 'ColumnCount') return numeric(rule.condition, profile.columnCount);

  const column = profile.columns.find((candidate) => candidate.name === rule.column);
  if (rule.type === 'ColumnExists') return result(column !== undefined, column !== undefined);
  if (!column) return result(false, null, `column "${rule.column}" is not in the file`);

  switch (rule.type) {
    case 'ColumnDataType': {
      const matches = rule.types.includes(column.dataType);
      return result(
        matches !== rule.negated,
        column.dataType,
        column.typeMismatchCount > 0
          ? `${column.typeMismatchCount} value(s) do not parse as the inferred ${column.inferredType}`
          : undefined,
      );
    }
    case 'IsComplete':
    case 'Completeness': {
      if (profile.rowCount === 0) return result(false, null, 'the file has no rows to measure');
      const completeness = (profile.rowCount - column.nullCount - column.emptyCount) / profile.rowCount;
      return rule.type === 'IsComplete'
        ? result(completeness === 1, completeness)
        : numeric(rule.condition, completeness);
    }
    case 'IsUnique':
    case 'Uniqueness': {
      const measured = measurementFor(rule, profile, 'uniqueness');
      if (!measured) return result(false, null, 'uniqueness was not measured');
      if (measured.total === 0) return result(false, null, 'the file has no rows to measure');
      const uniqueness = measured.uniqueValueCount / measured.total;
      return rule.type === 'IsUnique'
        ? result(uniqueness === 1, uniqueness)
        : numeric(rule.condition, uniqueness);
    }
    case 'ColumnValues': {
      const measured = measurementFor(rule, profile, 'values');
      if (!measured) return result(false, null, 'the values were not measured');
      if (measured.total === 0) return result(false, null, 'the file has no rows to measure');
      const ratio = measured.satisfied / measured.total;
      if (rule.threshold) return numeric(rule.threshold, ratio);
      return result(
        ratio === 1,
        ratio,
        `${measured.total - measured.satisfied} of ${measured.total} row(s) do not satisfy the condition`,
      );
    }
  }

  function numeric(condition: NumericCondition, observed: number): RuleResult {
    return result(satisfies(condition, observed), observed);
  }
}

function measurementFor<K extends Measurement['kind']>(
  rule: Rule,
  profile: CsvProfile,
  kind: K,
): Extract<Measurement, { kind: K }> | undefined {
  const request = measurementRequestOf(rule);
  const measured = request ? profile.measurements[request.id] : undefined;
  return measured?.kind === kind ? (measured as Extract<Measurement, { kind: K }>) : undefined;
}

export function satisfies(condition: NumericCondition, value: number): boolean {
  if (condition.kind === 'between') {
    const inside = value >= condition.low && value <= condition.high;
    return inside !== condition.negated;
  }
  switch (condition.operator) {
    case '=':
      return value === condition.value;
    case '!=':
      return value !== condition.value;
    case '>':
      return value > condition.value;
    case '>=':
      return value >= condition.value;
    case '<':
      return value < condition.value;
    case '<=':
      return value <= condition.value;
  }
}
