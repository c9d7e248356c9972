import type { GroundTruthRow, GroundTruthTable } from './ground-truth.js';
import { unwrapJsonString, valueAtPath } from './json-path.js';
import { exactListScores, fuzzyListScores, icd10Scores, scalarAccuracy } from './metrics.js';
import type { EvaluationSpec, FieldSpec } from './spec.js';

/** What the poller knows of a trace, whatever Langfuse endpoint it came from. */
export interface TraceRecord {
  id: string;
  name?: string | null;
  timestamp: string;
  metadata?: unknown;
  output?: unknown;
  /** The trace's GENERATION observations, in any order (they are sorted by start time here). */
  generations?: ReadonlyArray<{ startTime: string; output?: unknown }>;
  /** Existing scores on the trace (judge mode reads those with source EVAL). */
  scores?: ReadonlyArray<{ name: string; value: number | null; source: string }>;
}

export const skipReasons = [
  'no_output',
  'bad_output',
  'bad_shape',
  'no_match_key',
  'no_ground_truth',
  'no_judge_scores',
] as const;
export type SkipReason = (typeof skipReasons)[number];

export interface FieldResult {
  field: string;
  kind: FieldSpec['kind'] | 'judge';
  /** metric name -> value in [0, 1]: precision/recall/f1 for lists and codes, accuracy for scalars, judge for judge mode. */
  metrics: Record<string, number>;
  /** The metric that enters the overall score. */
  primary: number;
  weight: number;
  /** Inputs that could not take part (invalid ICD-10 codes). */
  invalid?: { predicted: string[]; expected: string[] };
}

export interface Evaluation {
  fields: FieldResult[];
  /** Weighted mean of the fields' primary metrics. */
  overall: number;
}

export type TraceOutcome =
  | { status: 'scored'; traceId: string; groundTruthKey?: string; evaluation: Evaluation }
  | { status: 'skipped'; traceId: string; reason: SkipReason; detail: string };

/** A value of the wrong shape for its field (an object where a list was expected, ...). */
export class ShapeError extends Error {
  override readonly name = 'ShapeError';
}

/** The extraction the model produced, as the spec locates it; undefined when the trace has none. */
export function extractionOf(spec: EvaluationSpec, trace: TraceRecord): unknown {
  let source: unknown;
  if (spec.output.from === 'trace_output') source = trace.output;
  else {
    const generations = [...(trace.generations ?? [])].sort((a, b) => a.startTime.localeCompare(b.startTime));
    const chosen = spec.output.from === 'first_generation' ? generations[0] : generations.at(-1);
    source = chosen?.output;
  }
  if (source === undefined || source === null || source === '') return undefined;
  return valueAtPath(source, spec.output.path);
}

/** The first match key whose trace value names a ground-truth row. */
export function findGroundTruthRow(
  spec: EvaluationSpec,
  trace: TraceRecord,
  table: GroundTruthTable,
): { key: string; row: GroundTruthRow } | { missing: 'no_match_key' | 'no_ground_truth'; tried: string[] } {
  const tried: string[] = [];
  for (const key of spec.match_keys) {
    const value = traceValue(trace, key.trace);
    if (value === undefined) continue;
    tried.push(`${key.trace}=${value}`);
    const row = table.find(key.column, value);
    if (row) return { key: `${key.column}=${value}`, row };
  }
  return tried.length === 0 ? { missing: 'no_match_key', tried } : { missing: 'no_ground_truth', tried };
}

function traceValue(trace: TraceRecord, path: string): string | undefined {
  let value: unknown;
  if (path === 'trace_id') value = trace.id;
  else if (path === 'trace_name') value = trace.name;
  else value = valueAtPath(trace.metadata, path.slice('metadata.'.length));
  if (typeof value === 'number') return String(value);
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

/** Scores one extraction against one ground-truth row. Throws ShapeError on values of the wrong shape. */
export function evaluateExtraction(
  spec: EvaluationSpec,
  extraction: unknown,
  row: GroundTruthRow,
): Evaluation {
  const fields = spec.fields.map((field): FieldResult => {
    const predictedValue = valueAtPath(extraction, field.output_path);
    const expectedValue = row[field.column];
    if (field.kind === 'scalar') {
      const accuracy = scalarAccuracy(
        scalarOf(predictedValue, `output ${field.output_path}`),
        scalarOf(expectedValue, `ground truth ${field.column}`),
      );
      return {
        field: field.name,
        kind: field.kind,
        metrics: { accuracy },
        primary: accuracy,
        weight: field.weight,
      };
    }
    const predicted = listOf(predictedValue, field.item_path, undefined, `output ${field.output_path}`);
    const expected = listOf(expectedValue, field.item_path, field.separator, `ground truth ${field.column}`);
    if (field.kind === 'icd10') {
      const scores = icd10Scores(predicted, expected, field.credit);
      return {
        field: field.name,
        kind: field.kind,
        metrics: { precision: scores.precision, recall: scores.recall, f1: scores.f1 },
        primary: scores.f1,
        weight: field.weight,
        invalid: { predicted: scores.invalidPredicted, expected: scores.invalidExpected },
      };
    }
    const scores =
      field.match === 'fuzzy'
        ? fuzzyListScores(predicted, expected, field.threshold)
        : exactListScores(predicted, expected);
    return {
      field: field.name,
      kind: field.kind,
      metrics: { precision: scores.precision, recall: scores.recall, f1: scores.f1 },
      primary: scores.f1,
      weight: field.weight,
    };
  });
  return { fields, overall: weightedMean(fields) };
}

/** The whole ground-truth path for one trace: extraction, matching row, metrics; or why it was skipped. */
export function evaluateTrace(
  spec: EvaluationSpec,
  trace: TraceRecord,
  table: GroundTruthTable | undefined,
): TraceOutcome {
  const skip = (reason: SkipReason, detail: string): TraceOutcome => ({
    status: 'skipped',
    traceId: trace.id,
    reason,
    detail,
  });
  if (spec.mode === 'judge') {
    const evaluation = judgeEvaluation(spec, trace.scores ?? []);
    return evaluation
      ? { status: 'scored', traceId: trace.id, evaluation }
      : skip('no_judge_scores', 'no EVAL score named in the judge mapping');
  }
  const extraction = extractionOf(spec, trace);
  if (extraction === undefined)
    return skip('no_output', `no ${spec.output.from} at path "${spec.output.path}"`);
  if (extraction === null || typeof extraction !== 'object')
    return skip('bad_output', `extraction is ${describe(extraction)}, not a JSON object or array`);
  if (!table) return skip('no_ground_truth', 'no ground truth loaded');
  const match = findGroundTruthRow(spec, trace, table);
  if ('missing' in match)
    return skip(
      match.missing,
      match.missing === 'no_match_key'
        ? `trace has none of ${spec.match_keys.map((key) => key.trace).join(', ')}`
        : `no row in ground truth ${table.version} for ${match.tried.join(', ')}`,
    );
  try {
    return {
      status: 'scored',
      traceId: trace.id,
      groundTruthKey: match.key,
      evaluation: evaluateExtraction(spec, extraction, match.row),
    };
  } catch (error) {
    if (error instanceof ShapeError) return skip('bad_shape', error.message);
    throw error;
  }
}

/**
 * Judge mode: each mapped EVAL score becomes its field's score, mapped linearly from the judge's
 * [min, max] onto [0, 1] and clamped. A judge score of 0 is a real 0 and is kept. Fields without a
 * judge score are left out of the overall; undefined when no mapped score is present.
 */
export function judgeEvaluation(
  spec: EvaluationSpec,
  scores: ReadonlyArray<{ name: string; value: number | null; source: string }>,
): Evaluation | undefined {
  const fields: FieldResult[] = [];
  for (const mapping of spec.judge) {
    const score = scores.find(
      (candidate) =>
        candidate.source === 'EVAL' &&
        candidate.name === mapping.score &&
        typeof candidate.value === 'number' &&
        Number.isFinite(candidate.value),
    );
    if (!score || score.value === null) continue;
    const value = Math.min(1, Math.max(0, (score.value - mapping.min) / (mapping.max - mapping.min)));
    const weight = spec.fields.find((field) => field.name === mapping.field)?.weight ?? 0;
    fields.push({ field: mapping.field, kind: 'judge', metrics: { judge: value }, primary: value, weight });
  }
  if (fields.length === 0) return undefined;
  return { fields, overall: weightedMean(fields) };
}

/** Σ weight × primary / Σ weight; 0 when every weight is 0. */
export function weightedMean(fields: readonly FieldResult[]): number {
  let total = 0;
  let weights = 0;
  for (const field of fields) {
    total += field.weight * field.primary;
    weights += field.weight;
  }
  return weights === 0 ? 0 : Math.min(1, Math.max(0, total / weights));
}

function scalarOf(value: unknown, where: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
    return String(value);
  throw new ShapeError(`${where}: expected text, got ${describe(value)}`);
}

function listOf(value: unknown, itemPath: string, separator: string | undefined, where: string): string[] {
  const unwrapped = unwrapJsonString(value);
  if (unwrapped === undefined || unwrapped === null || unwrapped === '') return [];
  if (typeof unwrapped === 'string')
    return separator === undefined ? [unwrapped] : unwrapped.split(separator).map((item) => item.trim());
  if (typeof unwrapped === 'number') return [String(unwrapped)];
  if (!Array.isArray(unwrapped))
    throw new ShapeError(`${where}: expected a list, got ${describe(unwrapped)}`);
  const items: string[] = [];
  for (const [index, item] of unwrapped.entries()) {
    const text = itemPath === '' || typeof item !== 'object' ? item : valueAtPath(item, itemPath);
    if (text === undefined || text === null) continue;
    if (typeof text === 'string' || typeof text === 'number') items.push(String(text));
    else throw new ShapeError(`${where}[${index}]: expected text, got ${describe(text)}`);
  }
  return items;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
