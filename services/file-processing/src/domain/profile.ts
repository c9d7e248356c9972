import type { DqdlDataType, Rule, Ruleset, ValueCondition } from './dqdl.js';

/** How the CSV was written, as sniffed. */
export interface CsvDialect {
  delimiter: string;
  quote: string;
  escape: string;
  /** `\n`, `\r\n` or `\r`. */
  newline: string;
  hasHeader: boolean;
  /** True when the file starts with a UTF-8 byte-order mark. */
  byteOrderMark: boolean;
}

export interface ColumnProfile {
  name: string;
  /** The type the sniffer inferred from a sample (a DuckDB type name such as BIGINT or DATE). */
  inferredType: string;
  /**
   * The DQDL type every non-empty value of the whole column conforms to: the inferred type, or
   * STRING when some value outside the sample does not fit it (see `typeMismatchCount`).
   */
  dataType: DqdlDataType;
  /** Unquoted empty fields (a missing value). */
  nullCount: number;
  /** Quoted empty fields (`""`). */
  emptyCount: number;
  nullRate: number;
  emptyRate: number;
  /** Non-empty values that do not parse as `inferredType`. */
  typeMismatchCount: number;
  /** HyperLogLog estimate of distinct non-empty values. */
  approxDistinctCount: number;
  /** Smallest and largest non-empty value, compared as `dataType` (as text). */
  min: string | null;
  max: string | null;
}

/** A row the CSV reader could not take, with the 1-based line it starts on and why. */
export interface RejectedRow {
  line: number;
  /** The reader's error type: TOO_MANY_COLUMNS, MISSING_COLUMNS, UNQUOTED_VALUE, INVALID_UNICODE, ... */
  errorType: string;
  reason: string;
  column?: string;
}

/** What a ColumnValues rule needs measured: how many rows satisfy the condition. */
export interface ValueMeasurementRequest {
  id: string;
  kind: 'values';
  column: string;
  condition: ValueCondition;
}

/** What Uniqueness/IsUnique need measured: how many values of the column occur exactly once. */
export interface UniquenessMeasurementRequest {
  id: string;
  kind: 'uniqueness';
  column: string;
}

export type MeasurementRequest = ValueMeasurementRequest | UniquenessMeasurementRequest;

export type Measurement =
  | { kind: 'values'; satisfied: number; total: number }
  | { kind: 'uniqueness'; uniqueValueCount: number; distinctCount: number; total: number };

export interface CsvProfile {
  bytes: number;
  /** Null when the file is empty (nothing to sniff). */
  dialect: CsvDialect | null;
  rowCount: number;
  columnCount: number;
  columns: ColumnProfile[];
  /** Rows beyond the first that repeat an earlier row exactly. */
  duplicateRowCount: number;
  /** Rows the reader rejected (bad shape or bad bytes); not counted in `rowCount`. */
  malformedRowCount: number;
  /** The first rejected rows (at most the profiler's limit), in line order. */
  malformedRows: RejectedRow[];
  malformedRowsTruncated: boolean;
  /** Rows rejected for bytes that are not valid UTF-8 (a subset of the malformed rows). */
  encodingProblemCount: number;
  /** Results for the measurements the ruleset asked for, by request id. */
  measurements: Record<string, Measurement>;
}

/**
 * What the profiler must measure beyond the standard profile so the ruleset can be evaluated.
 * Rules on a column that the file does not have are kept: the profiler skips them and the rule fails.
 */
export function measurementRequestsFor(ruleset: Ruleset): MeasurementRequest[] {
  const requests = new Map<string, MeasurementRequest>();
  for (const rule of ruleset.rules) {
    const request = measurementRequestOf(rule);
    if (request) requests.set(request.id, request);
  }
  return [...requests.values()];
}

export function measurementRequestOf(rule: Rule): MeasurementRequest | undefined {
  switch (rule.type) {
    case 'ColumnValues':
      return {
        id: `values:${JSON.stringify([rule.column, rule.condition])}`,
        kind: 'values',
        column: rule.column,
        condition: rule.condition,
      };
    case 'IsUnique':
    case 'Uniqueness':
      return { id: `uniqueness:${JSON.stringify(rule.column)}`, kind: 'uniqueness', column: rule.column };
    default:
      return undefined;
  }
}

/**
 * The DQDL type a DuckDB column type belongs to. Integers of every width are INTEGER (DQDL's LONG),
 * every fractional number is DOUBLE, and anything else that is not a date, time or boolean is STRING.
 */
export function dqdlTypeOf(duckdbType: string): DqdlDataType {
  const type = duckdbType.toUpperCase();
  if (type === 'BOOLEAN') return 'BOOLEAN';
  if (/^(U?(TINY|SMALL|BIG|HUGE)?INT(EGER)?|UHUGEINT)$/.test(type)) return 'INTEGER';
  if (/^(DOUBLE|FLOAT|REAL|DECIMAL.*)$/.test(type)) return 'DOUBLE';
  if (type === 'DATE') return 'DATE';
  if (type.startsWith('TIMESTAMP')) return 'TIMESTAMP';
  return 'STRING';
}
