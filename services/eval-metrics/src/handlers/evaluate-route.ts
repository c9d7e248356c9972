import { type ServiceApp, ServiceError } from '@stratus/core';
import { z } from 'zod';
import type { GroundTruthCache } from '../adapters/ground-truth-cache.js';
import { type Evaluation, evaluateExtraction, judgeEvaluation, ShapeError } from '../domain/evaluate.js';
import type { GroundTruthRow } from '../domain/ground-truth.js';
import { scoresOf } from '../domain/scores.js';
import type { EvaluationSpec } from '../domain/spec.js';

const evaluateBody = z
  .object({
    /** The model's extraction, as the spec's output path finds it (an object, or a JSON string of one). */
    extraction: z.unknown().optional(),
    /** A ground-truth row given inline (column -> value), instead of the stored ground truth. */
    ground_truth: z.record(z.string(), z.unknown()).optional(),
    /** Picks a row of the stored ground truth: column -> value, e.g. { "document_id": "doc-1" }. */
    match: z.record(z.string(), z.string().min(1)).optional(),
    /** Judge mode: the judge's scores to remap. */
    judge_scores: z.array(z.object({ name: z.string().min(1), value: z.number().finite() })).optional(),
    /** The trace the scores would belong to; only changes the score ids in the answer. */
    trace_id: z.string().min(1).default('evaluate'),
  })
  .strict();

/**
 * POST /evaluate: scores one extraction against a given or stored ground-truth row (or remaps judge
 * scores in judge mode) and answers with the metrics and the scores the poller would write. Writes nothing.
 */
export function registerEvaluateRoute(
  app: ServiceApp,
  spec: EvaluationSpec,
  groundTruth: GroundTruthCache,
): void {
  app.post('/evaluate', { schema: { body: evaluateBody } }, async (request) => {
    const body = request.body;
    let evaluation: Evaluation | undefined;
    let groundTruthVersion: string | undefined;
    let groundTruthKey: string | undefined;
    if (spec.mode === 'judge') {
      if (!body.judge_scores)
        throw new ServiceError(400, 'invalid_request', 'judge mode: body.judge_scores is required');
      evaluation = judgeEvaluation(
        spec,
        body.judge_scores.map((score) => ({ ...score, source: 'EVAL' })),
      );
      if (!evaluation)
        throw new ServiceError(
          422,
          'no_judge_scores',
          'none of judge_scores is named in the spec judge mapping',
        );
    } else {
      if (body.extraction === undefined)
        throw new ServiceError(400, 'invalid_request', 'body.extraction is required');
      let row: GroundTruthRow | undefined = body.ground_truth;
      if (!row) {
        if (!body.match || Object.keys(body.match).length === 0)
          throw new ServiceError(
            400,
            'invalid_request',
            'give body.ground_truth, or body.match to pick a stored row',
          );
        const table = await groundTruth.current();
        if (!table)
          throw new ServiceError(503, 'ground_truth_unavailable', 'no ground-truth version is loaded', {
            retryAfterSeconds: 30,
          });
        for (const [column, value] of Object.entries(body.match)) {
          row = table.find(column, value);
          if (row) {
            groundTruthKey = `${column}=${value}`;
            break;
          }
        }
        if (!row)
          throw new ServiceError(
            404,
            'ground_truth_row_not_found',
            `no row of ground truth ${table.version} matches ${JSON.stringify(body.match)}`,
          );
        groundTruthVersion = table.version;
      }
      try {
        evaluation = evaluateExtraction(spec, body.extraction, row);
      } catch (error) {
        if (error instanceof ShapeError) throw new ServiceError(422, 'bad_shape', error.message);
        throw error;
      }
    }
    const scores = scoresOf(spec, body.trace_id, evaluation, { groundTruthVersion, groundTruthKey });
    return {
      spec_version: spec.version,
      mode: spec.mode,
      ground_truth: {
        version: groundTruthVersion ?? (body.ground_truth ? 'inline' : undefined),
        key: groundTruthKey,
      },
      overall: evaluation.overall,
      fields: evaluation.fields,
      scores: scores.map((score) => ({ id: score.id, name: score.name, value: score.value })),
    };
  });
}
