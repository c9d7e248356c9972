import { createHash } from 'node:crypto';
import type { Evaluation } from './evaluate.js';
import type { EvaluationSpec } from './spec.js';

/** A score to write to Langfuse (POST /api/public/scores). */
export interface ScoreToWrite {
  id: string;
  traceId: string;
  name: string;
  value: number;
  comment?: string;
  metadata: Record<string, unknown>;
}

/**
 * A score's id from what identifies it: the trace, the score's name and the spec version. The same
 * inputs always give the same id, so a replay or a second replica upserts the score instead of
 * adding a duplicate. Shaped as a UUID (version 8, RFC 9562) from SHA-256.
 */
export function scoreId(traceId: string, scoreName: string, specVersion: string): string {
  const hex = createHash('sha256').update(`${traceId}\u0000${scoreName}\u0000${specVersion}`).digest('hex');
  const variant = ((Number.parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/**
 * The scores of one evaluation. Names (with the spec's prefix): `<field>_precision`, `<field>_recall`,
 * `<field>_f1` for list and ICD-10 fields, `<field>_accuracy` for scalars, `<field>_judge` in judge
 * mode, and `overall` (`overall_judge` in judge mode).
 */
export function scoresOf(
  spec: EvaluationSpec,
  traceId: string,
  evaluation: Evaluation,
  context: { groundTruthVersion?: string; groundTruthKey?: string },
): ScoreToWrite[] {
  const metadata: Record<string, unknown> = { spec_version: spec.version, mode: spec.mode };
  if (context.groundTruthVersion) metadata.ground_truth_version = context.groundTruthVersion;
  if (context.groundTruthKey) metadata.ground_truth_key = context.groundTruthKey;
  const make = (name: string, value: number): ScoreToWrite => {
    const fullName = `${spec.score_prefix}${name}`;
    return { id: scoreId(traceId, fullName, spec.version), traceId, name: fullName, value, metadata };
  };
  const scores: ScoreToWrite[] = [];
  for (const field of evaluation.fields) {
    for (const [metric, value] of Object.entries(field.metrics))
      scores.push(make(`${field.field}_${metric}`, value));
  }
  scores.push(make(spec.mode === 'judge' ? 'overall_judge' : 'overall', evaluation.overall));
  return scores;
}
