import { describe, expect, it } from 'vitest';
import {
  evaluateExtraction,
  evaluateTrace,
  judgeEvaluation,
  type TraceRecord,
} from '../../src/domain/evaluate.js';
import { groundTruthTable, parseGroundTruth } from '../../src/domain/ground-truth.js';
import { valueAtPath } from '../../src/domain/json-path.js';
import { scoreId, scoresOf } from '../../src/domain/scores.js';
import { parseEvaluationSpec, SpecError } from '../../src/domain/spec.js';

const specYaml = `
version: v1
output: { from: trace_output, path: result }
fields:
  - { name: diagnoses, kind: list, output_path: diagnoses, column: diagnoses, match: fuzzy, threshold: 0.8, weight: 2, item_path: text }
  - { name: icd10, kind: icd10, output_path: codes, column: codes, credit: hierarchical }
  - { name: destination, kind: scalar, output_path: destination, column: destination }
judge:
  - { score: correctness, field: diagnoses, min: 0, max: 5 }
`;
const spec = parseEvaluationSpec(specYaml);

const csv = [
  'document_id,filename,diagnoses,codes,destination',
  'doc-1,a.pdf,"Neumonía|Hipertensión arterial",J18.9|I10,Domicilio',
  'doc-2,b.pdf,[],,',
].join('\n');
const table = groundTruthTable('gt/v1.csv', parseGroundTruth(csv, 'csv'));

const output = {
  result: JSON.stringify({
    diagnoses: [{ text: 'neumonia' }, { text: 'hipertension arterial' }],
    codes: ['J18.0', 'I10'],
    destination: 'domicilio',
  }),
};

function trace(overrides: Partial<TraceRecord> = {}): TraceRecord {
  return {
    id: 't-1',
    timestamp: '2026-11-25T10:00:00Z',
    metadata: { document_id: 'doc-1' },
    output,
    ...overrides,
  };
}

describe('parseEvaluationSpec', () => {
  it('fills in defaults', () => {
    expect(spec.mode).toBe('ground_truth');
    expect(spec.match_keys.map((key) => key.trace)).toEqual([
      'metadata.document_id',
      'metadata.filename',
      'trace_id',
    ]);
    expect(spec.fields[2]!.weight).toBe(1);
  });

  it('reads JSON as well as YAML', () => {
    const json = JSON.stringify({
      version: '2',
      fields: [{ name: 'x', kind: 'scalar', output_path: 'x', column: 'x' }],
    });
    expect(parseEvaluationSpec(json).version).toBe('2');
  });

  it('names every problem with its path', () => {
    const bad = `
version: "bad version!"
fields:
  - { name: Diagnoses, kind: list, output_path: d, column: d }
  - { name: x, kind: colour, output_path: d, column: d }
judge:
  - { score: s, field: nope }
`;
    expect(() => parseEvaluationSpec(bad, 'spec.yaml')).toThrow(SpecError);
    try {
      parseEvaluationSpec(bad, 'spec.yaml');
    } catch (error) {
      const message = (error as Error).message;
      expect(message).toContain('spec.yaml');
      expect(message).toContain('version');
      expect(message).toContain('fields.0.name');
      expect(message).toContain('fields.1.kind');
    }
  });

  it('rejects text that is not YAML, duplicate fields and all-zero weights', () => {
    expect(() => parseEvaluationSpec('{ version: [')).toThrow(/not YAML or JSON/);
    expect(() =>
      parseEvaluationSpec(
        `version: v\nfields:\n  - { name: a, kind: scalar, output_path: a, column: a, weight: 0 }\n`,
      ),
    ).toThrow(/weight > 0/);
    expect(() =>
      parseEvaluationSpec(
        `version: v\nfields:\n  - { name: a, kind: scalar, output_path: a, column: a }\n  - { name: a, kind: scalar, output_path: b, column: b }\n`,
      ),
    ).toThrow(/duplicate field name/);
  });
});

describe('valueAtPath', () => {
  it('unwraps nested and fenced JSON strings on the way', () => {
    const nested = { a: JSON.stringify({ b: JSON.stringify(JSON.stringify([{ c: 1 }])) }) };
    expect(valueAtPath(nested, 'a.b.0.c')).toBe(1);
    expect(valueAtPath('```json\n{"x": {"y": "z"}}\n```', 'x.y')).toBe('z');
    expect(valueAtPath({ a: 1 }, 'a.b')).toBeUndefined();
    expect(valueAtPath({ a: '{not json' }, 'a')).toBe('{not json');
  });
});

describe('evaluateTrace', () => {
  it('scores every field and the weighted overall', () => {
    const outcome = evaluateTrace(spec, trace(), table);
    expect(outcome.status).toBe('scored');
    if (outcome.status !== 'scored') return;
    const [diagnoses, icd10, destination] = outcome.evaluation.fields;
    expect(diagnoses!.metrics.f1).toBe(1);
    expect(icd10!.metrics.precision).toBeCloseTo(0.875);
    expect(destination!.metrics.accuracy).toBe(1);
    expect(outcome.evaluation.overall).toBeCloseTo((2 * 1 + icd10!.metrics.f1! + 1) / 4);
    expect(outcome.groundTruthKey).toBe('document_id=doc-1');
  });

  it('falls back through the match keys in order', () => {
    const byFilename = evaluateTrace(spec, trace({ metadata: { filename: 'b.pdf' } }), table);
    expect(byFilename).toMatchObject({ status: 'scored', groundTruthKey: 'filename=b.pdf' });
    const unknownThenFilename = evaluateTrace(
      spec,
      trace({ metadata: { document_id: 'nope', filename: 'a.pdf' } }),
      table,
    );
    expect(unknownThenFilename).toMatchObject({ status: 'scored', groundTruthKey: 'filename=a.pdf' });
  });

  it('scores an empty extraction against empty ground truth as right', () => {
    const empty = evaluateTrace(
      spec,
      trace({ metadata: { document_id: 'doc-2' }, output: { result: {} } }),
      table,
    );
    expect(empty.status === 'scored' && empty.evaluation.overall).toBe(1);
  });

  it('skips, with a reason, what it cannot score', () => {
    expect(evaluateTrace(spec, trace({ output: undefined }), table)).toMatchObject({ reason: 'no_output' });
    expect(evaluateTrace(spec, trace({ output: { result: 'plain text' } }), table)).toMatchObject({
      reason: 'bad_output',
    });
    expect(evaluateTrace(spec, trace({ metadata: { document_id: 'zzz' } }), table)).toMatchObject({
      reason: 'no_ground_truth',
    });
    expect(evaluateTrace(spec, trace(), undefined)).toMatchObject({ reason: 'no_ground_truth' });
    expect(evaluateTrace(spec, trace({ output: { result: { diagnoses: { a: 1 } } } }), table)).toMatchObject({
      reason: 'bad_shape',
    });
    const onlyTraceIdKey = parseEvaluationSpec(
      `${specYaml}\nmatch_keys: [{ trace: metadata.document_id, column: document_id }]\n`,
    );
    expect(evaluateTrace(onlyTraceIdKey, trace({ metadata: {} }), table)).toMatchObject({
      reason: 'no_match_key',
    });
  });

  it('reads the first or last generation when the spec says so', () => {
    const fromLast = parseEvaluationSpec(specYaml.replace('from: trace_output', 'from: last_generation'));
    const generations = [
      { startTime: '2026-11-25T10:00:02Z', output: { result: { destination: 'domicilio' } } },
      { startTime: '2026-11-25T10:00:01Z', output: { result: { destination: 'residencia' } } },
    ];
    const outcome = evaluateTrace(fromLast, trace({ output: undefined, generations }), table);
    expect(outcome.status === 'scored' && outcome.evaluation.fields[2]!.metrics.accuracy).toBe(1);
  });
});

describe('judge mode', () => {
  it('remaps EVAL scores onto fields and keeps zeros', () => {
    const evaluation = judgeEvaluation(spec, [
      { name: 'correctness', value: 0, source: 'EVAL' },
      { name: 'correctness', value: 5, source: 'API' },
    ]);
    expect(evaluation?.fields).toEqual([expect.objectContaining({ field: 'diagnoses', primary: 0 })]);
    expect(evaluation?.overall).toBe(0);
    expect(judgeEvaluation(spec, [{ name: 'correctness', value: 4, source: 'EVAL' }])?.overall).toBeCloseTo(
      0.8,
    );
    expect(judgeEvaluation(spec, [{ name: 'other', value: 4, source: 'EVAL' }])).toBeUndefined();
  });
});

describe('scores', () => {
  it('names scores per field and metric, with ids stable per trace, name and spec version', () => {
    const outcome = evaluateTrace(spec, trace(), table);
    if (outcome.status !== 'scored') throw new Error('expected a score');
    const scores = scoresOf(spec, 't-1', outcome.evaluation, { groundTruthVersion: table.version });
    expect(scores.map((score) => score.name)).toEqual([
      'diagnoses_precision',
      'diagnoses_recall',
      'diagnoses_f1',
      'icd10_precision',
      'icd10_recall',
      'icd10_f1',
      'destination_accuracy',
      'overall',
    ]);
    expect(scores[0]!.id).toBe(scoreId('t-1', 'diagnoses_precision', 'v1'));
    expect(scoreId('t-1', 'overall', 'v1')).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(scoreId('t-1', 'overall', 'v2')).not.toBe(scoreId('t-1', 'overall', 'v1'));
    expect(scoreId('t-2', 'overall', 'v1')).not.toBe(scoreId('t-1', 'overall', 'v1'));
    expect(new Set(scores.map((score) => score.id)).size).toBe(scores.length);
  });
});

describe('evaluateExtraction', () => {
  it('reads list cells as JSON arrays or separated text', () => {
    const row = { diagnoses: '["Neumonía"]', codes: 'J18.9 | I10', destination: 'x' };
    const evaluation = evaluateExtraction(
      spec,
      { diagnoses: ['neumonia'], codes: ['J189', 'I10'], destination: 'X' },
      row,
    );
    expect(evaluation.overall).toBe(1);
  });
});
