import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

/**
 * The evaluation spec: where the model's extraction is in a trace, which fields to compare with
 * which ground-truth columns, how, and with what weight. Written as YAML or JSON, validated once
 * at start-up (see docs/eval-metrics.md for a full example).
 */

const fieldName = z
  .string()
  .regex(/^[a-z][a-z0-9_]{0,40}$/, 'must be snake_case: lower-case letters, digits and underscores');

/** A dot path into JSON: `result.diagnoses`, `items.0.code`. Empty means the value itself. */
const jsonPath = z.string().regex(/^$|^[^.]+(\.[^.]+)*$/, 'must be a dot path such as result.diagnoses');

const matchKey = z.object({
  /** `trace_id`, `trace_name`, or `metadata.<key>` of the trace. */
  trace: z.string().regex(/^(trace_id|trace_name|metadata\.[^.]+(\.[^.]+)*)$/, {
    message: 'must be trace_id, trace_name or metadata.<key>',
  }),
  /** The ground-truth column that holds the same value. */
  column: z.string().min(1),
});

const fieldBase = {
  name: fieldName,
  /** Path inside the extracted output. */
  output_path: jsonPath,
  /** Ground-truth column (CSV header or JSONL key). */
  column: z.string().min(1),
  weight: z.number().min(0).default(1),
};

/** For list-like fields: how a list item that is an object is turned into text, and how a CSV cell is split. */
const listShape = {
  /** When items are objects, the path to the text inside each item (e.g. `description`). */
  item_path: jsonPath.default(''),
  /** Separator of items in a CSV cell that is not a JSON array. */
  separator: z.string().min(1).default('|'),
};

const listField = z.object({
  ...fieldBase,
  ...listShape,
  kind: z.literal('list'),
  match: z.enum(['exact', 'fuzzy']).default('exact'),
  /** Fuzzy matching: the least similarity (0..1) at which two items match. */
  threshold: z.number().min(0).max(1).default(0.85),
});

const codeField = z.object({
  ...fieldBase,
  ...listShape,
  kind: z.literal('icd10'),
  credit: z.enum(['exact', 'hierarchical']).default('exact'),
});

const scalarField = z.object({ ...fieldBase, kind: z.literal('scalar') });

export const fieldSpec = z.discriminatedUnion('kind', [listField, codeField, scalarField]);

const judgeMapping = z.object({
  /** Name of the judge's score on the trace (source EVAL). */
  score: z.string().min(1),
  /** The field it stands for. */
  field: fieldName,
  /** The judge's scale; values are mapped linearly onto 0..1 and clamped. */
  min: z.number().default(0),
  max: z.number().default(1),
});

export const evaluationSpec = z
  .object({
    /** Part of every score id: a new version writes new scores instead of overwriting old ones. */
    version: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1-64 letters, digits, dots, dashes'),
    /** `ground_truth` compares with the annotations; `judge` remaps existing LLM-judge scores. */
    mode: z.enum(['ground_truth', 'judge']).default('ground_truth'),
    /** Prepended to every score name, e.g. `gt_` -> `gt_diagnoses_f1`. */
    score_prefix: z
      .string()
      .regex(/^[a-z0-9_]{0,20}$/)
      .default(''),
    output: z
      .object({
        from: z.enum(['trace_output', 'first_generation', 'last_generation']).default('trace_output'),
        path: jsonPath.default(''),
      })
      .default({ from: 'trace_output', path: '' }),
    /** Tried in order; the first trace value that names a ground-truth row wins. */
    match_keys: z
      .array(matchKey)
      .min(1)
      .default([
        { trace: 'metadata.document_id', column: 'document_id' },
        { trace: 'metadata.filename', column: 'filename' },
        { trace: 'trace_id', column: 'trace_id' },
      ]),
    fields: z.array(fieldSpec).min(1),
    judge: z.array(judgeMapping).default([]),
  })
  .superRefine((spec, context) => {
    const names = new Set<string>();
    for (const [index, field] of spec.fields.entries()) {
      if (names.has(field.name))
        context.addIssue({
          code: 'custom',
          path: ['fields', index, 'name'],
          message: 'duplicate field name',
        });
      names.add(field.name);
    }
    if (spec.fields.every((field) => field.weight === 0))
      context.addIssue({
        code: 'custom',
        path: ['fields'],
        message: 'at least one field needs a weight > 0',
      });
    for (const [index, mapping] of spec.judge.entries()) {
      if (!names.has(mapping.field))
        context.addIssue({ code: 'custom', path: ['judge', index, 'field'], message: 'no such field' });
      if (mapping.max <= mapping.min)
        context.addIssue({ code: 'custom', path: ['judge', index, 'max'], message: 'must be above min' });
    }
    if (spec.mode === 'judge' && spec.judge.length === 0)
      context.addIssue({ code: 'custom', path: ['judge'], message: 'judge mode needs at least one mapping' });
  });

export type EvaluationSpec = z.output<typeof evaluationSpec>;
export type FieldSpec = z.output<typeof fieldSpec>;

export class SpecError extends Error {
  override readonly name = 'SpecError';
}

/** Parses a spec from YAML or JSON text (JSON is YAML); every problem is listed with its path. */
export function parseEvaluationSpec(text: string, source = 'spec'): EvaluationSpec {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    throw new SpecError(`${source}: not YAML or JSON: ${(error as Error).message}`);
  }
  const result = evaluationSpec.safeParse(raw);
  if (!result.success) {
    const lines = result.error.issues.map(
      (issue) => `  - ${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issue.message}`,
    );
    throw new SpecError(`${source}: invalid evaluation spec:\n${lines.join('\n')}`);
  }
  return result.data;
}
