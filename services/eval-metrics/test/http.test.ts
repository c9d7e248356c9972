import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalFolderObjectReader } from '@stratus/aws/local-objects';
import { createLogger, errorBody, loadSettings, readyBody, statsBody } from '@stratus/core';
import { openDatabase } from '@stratus/jobs/database';
import { LangfusePeer } from '@stratus/test-peers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bucketObjects, GroundTruthCache } from '../src/adapters/ground-truth-cache.js';
import { langfuseTraceSource } from '../src/adapters/langfuse.js';
import { PollStore } from '../src/adapters/poll-store.js';
import { createEvalMetricsService, type EvalMetricsService } from '../src/app/eval-metrics-service.js';
import { evalMetricsSettings } from '../src/config/settings.js';
import { parseEvaluationSpec } from '../src/domain/spec.js';
import { groundTruthCsv, traceOf } from './fixtures/discharge-data.js';

const specPath = new URL('./fixtures/discharge-spec.yaml', import.meta.url).pathname;
const spec = parseEvaluationSpec(readFileSync(specPath, 'utf8'));
const BUCKET = 'stratus-ground-truth';
const databaseUrl = process.env.TEST_DATABASE_URL;

let folder: string;
let peer: LangfusePeer;
let running: EvalMetricsService;
let url: string;
const emfLines: string[] = [];

const settingsOf = (env: Record<string, string>) =>
  loadSettings(evalMetricsSettings, {
    envFile: false,
    env: {
      ENVIRONMENT: 'test',
      LOG_LEVEL: 'silent',
      PORT: '0',
      EVAL_SPEC_PATH: specPath,
      LANGFUSE_PUBLIC_KEY: 'pk',
      LANGFUSE_SECRET_KEY: 'sk',
      GROUND_TRUTH_BUCKET: BUCKET,
      ...env,
    },
  });

async function call(path: string, init?: RequestInit) {
  const response = await fetch(`${url}${path}`, init);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}
const post = (body: unknown) =>
  call('/evaluate', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'eval-http-'));
  await mkdir(join(folder, BUCKET, 'ground-truth'), { recursive: true });
  peer = await LangfusePeer.start();
  peer.addTraces(
    ...Array.from({ length: 5 }, (_, i) => traceOf(i, new Date(Date.now() - 600_000 + i * 1000))),
  );
  const settings = settingsOf({
    LANGFUSE_BASE_URL: peer.url,
    LANGFUSE_PUBLIC_KEY: peer.publicKey,
    LANGFUSE_SECRET_KEY: peer.secretKey,
    POLL_INTERVAL: '50ms',
    INGESTION_DELAY: '0s',
    POLL_START_AT: new Date(Date.now() - 3_600_000).toISOString(),
  });
  const groundTruth = new GroundTruthCache({
    objects: bucketObjects(new LocalFolderObjectReader(folder), BUCKET),
    latestKey: 'ground-truth/LATEST',
    bucket: BUCKET,
    ttlMs: 0,
  });
  const storage = openDatabase(databaseUrl ? { databaseUrl } : {}).then(async (database) => ({
    database,
    store: await PollStore.open(database, `http-${Date.now()}:${spec.version}`),
  }));
  running = await createEvalMetricsService(settings, {
    spec,
    storage,
    groundTruth,
    source: langfuseTraceSource({
      baseUrl: peer.url,
      publicKey: peer.publicKey,
      secretKey: peer.secretKey,
      api: 'traces',
      timeoutMs: 5000,
      maxRetries: 1,
    }),
    logger: createLogger(settings),
    emfSink: { write: (line: string) => emfLines.push(line) },
  });
  running.service.onShutdown('database', async () => (await storage).database.close());
  url = await running.service.listen();
}, 120_000);

afterAll(async () => {
  await running.service.close();
  await peer.close();
  await rm(folder, { recursive: true, force: true });
});

describe('eval-metrics over HTTP', () => {
  it('is ready without ground truth and says it is empty', async () => {
    const { status, body } = await call('/ready');
    expect(status).toBe(200);
    const ready = readyBody.parse(body);
    expect(ready.checks.find((check) => check.name === 'ground-truth')?.detail).toMatch(/^empty/);
    const stats = statsBody.parse((await call('/stats')).body);
    expect(stats.sections?.ground_truth).toMatchObject({ state: 'empty', rows: 0 });
  });

  it('scores an extraction against an inline ground-truth row', async () => {
    const { status, body } = await post({
      extraction: JSON.stringify({
        diagnosticos: [{ descripcion: 'neumonia adquirida en la comunidad', cie10: 'J18.9' }],
        destino_alta: 'domicilio',
        consultas_seguimiento: [],
      }),
      ground_truth: {
        diagnosticos: 'Neumonía adquirida en la comunidad|Hipertensión arterial',
        cie10: 'J18.9|I10',
        destino_alta: 'Domicilio',
        consultas_seguimiento: '',
      },
      trace_id: 'trace-x',
    });
    expect(status).toBe(200);
    const fields = body.fields as Array<{ field: string; metrics: Record<string, number> }>;
    expect(fields.find((f) => f.field === 'diagnoses')?.metrics).toEqual({
      precision: 1,
      recall: 0.5,
      f1: 2 / 3,
    });
    expect(fields.find((f) => f.field === 'follow_ups')?.metrics.f1).toBe(1);
    expect(body.overall).toBeCloseTo((2 * (2 / 3) + 2 * (2 / 3) + 1 + 1) / 6);
    expect((body.scores as Array<{ name: string }>).map((s) => s.name)).toContain('overall');
  });

  it('answers bad requests with the error model', async () => {
    const cases: Array<[unknown, number, string]> = [
      [{ extraction: {} }, 400, 'invalid_request'],
      [{ ground_truth: {} }, 400, 'invalid_request'],
      [{ extraction: {}, ground_truth: {}, surprise: 1 }, 400, 'validation_failed'],
      [{ extraction: {}, match: { document_id: 'doc-1' } }, 503, 'ground_truth_unavailable'],
      [{ extraction: { diagnosticos: { a: 1 } }, ground_truth: {} }, 422, 'bad_shape'],
    ];
    for (const [body, status, code] of cases) {
      const response = await post(body);
      expect(response.status, JSON.stringify(body)).toBe(status);
      const error = errorBody.parse(response.body).error;
      if (code !== 'validation_failed') expect(error.code).toBe(code);
    }
  });

  it('once ground truth exists: scores against a stored row, polls traces, reports /stats and EMF', {
    timeout: 90_000,
  }, async () => {
    await writeFile(join(folder, BUCKET, 'ground-truth', 'v1.csv'), groundTruthCsv(5));
    await writeFile(join(folder, BUCKET, 'ground-truth', 'LATEST'), 'ground-truth/v1.csv');
    const stored = await post({ extraction: {}, match: { document_id: 'doc-1' } });
    expect(stored.status).toBe(200);
    expect(stored.body.ground_truth).toEqual({ version: 'ground-truth/v1.csv', key: 'document_id=doc-1' });
    expect((await post({ extraction: {}, match: { document_id: 'nope' } })).status).toBe(404);

    // The poller (started with the service) scores the five traces.
    let stats = statsBody.parse((await call('/stats')).body);
    // Without TEST_DATABASE_URL the poller starts once embedded PGlite is up, seconds on a busy machine.
    for (let i = 0; i < 1_200 && stats.counters.traces_scored !== 5; i++) {
      await new Promise((r) => setTimeout(r, 50));
      stats = statsBody.parse((await call('/stats')).body);
    }
    expect(peer.scores.size).toBe(55);
    expect(stats.counters.traces_scored).toBe(5);
    expect(stats.sections?.ground_truth).toMatchObject({
      state: 'fresh',
      version: 'ground-truth/v1.csv',
      rows: 5,
    });
    expect(stats.sections?.poller).toMatchObject({ read_api: 'traces', polling_enabled: true });
    expect(stats.sections?.poller?.lag_s).toBeGreaterThanOrEqual(0);
    const ready = readyBody.parse((await call('/ready')).body);
    expect(ready.checks.find((check) => check.name === 'ground-truth')?.detail).toBe(
      'fresh: ground-truth/v1.csv',
    );

    const metrics = emfLines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const totals = metrics.find((m) => typeof m.TracesScored === 'number' && (m.TracesScored as number) > 0);
    expect(totals).toMatchObject({ Service: 'eval-metrics', TracesScored: 5 });
    const emf = totals?._aws as { CloudWatchMetrics: Array<{ Namespace: string }> } | undefined;
    expect(emf?.CloudWatchMetrics[0]?.Namespace).toBe('Stratus/EvalMetrics');
    expect(metrics.some((m) => Array.isArray(m.ScoringLatency))).toBe(true);
  });
});

describe('settings', () => {
  it('names each bad variable', () => {
    const bad = () =>
      settingsOf({ POLL_INTERVAL: 'soon', LANGFUSE_READ_API: 'v9', MAX_TRACES_PER_POLL: '0' });
    expect(bad).toThrow(/POLL_INTERVAL: must be a duration/);
    expect(bad).toThrow(/LANGFUSE_READ_API: /);
    expect(bad).toThrow(/MAX_TRACES_PER_POLL: /);
    expect(settingsOf({ GROUND_TRUTH_CACHE_TTL: '15m' }).GROUND_TRUTH_CACHE_TTL).toBe(900_000);
    expect(settingsOf({}).GROUND_TRUTH_CACHE_TTL).toBe(900_000);
    expect(settingsOf({ POLL_INTERVAL: '500ms' }).POLL_INTERVAL).toBe(500);
  });
});
