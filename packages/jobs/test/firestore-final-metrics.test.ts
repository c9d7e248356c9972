import { Firestore } from '@google-cloud/firestore';
import { createLogger, StatsRegistry } from '@stratus/core';
import { OpenSearchPeer } from '@stratus/test-peers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpenSearchFinalMetricsSink } from '../src/final-metrics/opensearch-sink.js';
import {
  createFirestoreWithFinalMetrics,
  FirestoreFinalMetrics,
} from '../src/firestore/firestore-final-metrics.js';
import { FirestoreServer } from './firestore-server.js';
import { sigv4Client } from './opensearch-clients.js';

const index = 'job-metrics';
const projectId = 'stratus-test';
const logger = createLogger({ SERVICE_NAME: 'jobs-test', ENVIRONMENT: 'test', LOG_LEVEL: 'silent' });

describe('Firestore Commit interception against a loopback gRPC Firestore', () => {
  let server: FirestoreServer;
  let peer: OpenSearchPeer;
  let stats: StatsRegistry;
  let finalMetrics: FirestoreFinalMetrics;
  let firestore: Firestore;
  /** The same kind of client without the hook: another writer. */
  let plain: Firestore;
  const documentName = (path: string) => `projects/${projectId}/databases/(default)/documents/${path}`;

  beforeAll(async () => {
    server = await new FirestoreServer().start();
    peer = await new OpenSearchPeer({ kind: 'sigv4' }).start();
    // The client reads these when it is made; no test reaches Google (metadata server lookups off).
    process.env.FIRESTORE_EMULATOR_HOST = server.host;
    process.env.METADATA_SERVER_DETECTION = 'none';
    stats = new StatsRegistry('jobs-test');
    finalMetrics = new FirestoreFinalMetrics({
      sink: new OpenSearchFinalMetricsSink(sigv4Client(peer), { index }),
      logger,
      stats,
      backoff: { baseMs: 5, maxMs: 20 },
    });
    firestore = createFirestoreWithFinalMetrics({ projectId }, finalMetrics);
    plain = new Firestore({ projectId });
  });
  afterAll(async () => {
    finalMetrics?.close();
    stats?.stop();
    await firestore?.terminate();
    await plain?.terminate();
    await peer?.stop();
    await server?.stop();
  });

  const delivered = (id: string) => peer.document(index, id)?.source;
  const finalized = (path: string) => server.fields(documentName(path))?.metricsFinalizedAt;

  it('REGRESSION: the transport hook sees every Commit; if this fails, final metrics are silently lost', async () => {
    const before = finalMetrics.snapshot().commitsSeen;
    const commitsBefore = server.callsOf('Commit');
    await firestore.doc('settings/probe').set({ at: 1 });
    await firestore.doc('settings/probe').update({ at: 2 });
    expect(server.callsOf('Commit') - commitsBefore).toBe(2);
    await expect
      .poll(() => finalMetrics.snapshot().commitsSeen - before, {
        message:
          'grpc.callInvocationTransformer no longer reaches grpc-js through google-gax: Firestore Commit calls are NOT intercepted',
      })
      .toBe(2);
  });

  it('interceptors given in the Firestore settings are silently dropped (why the transformer is used)', async () => {
    let called = 0;
    const withInterceptors = new Firestore({
      projectId,
      interceptors: [
        (options: unknown, next: (options: unknown) => unknown) => {
          called++;
          return next(options);
        },
      ],
    });
    try {
      await withInterceptors.doc('settings/interceptors').set({ at: 1 });
      expect(server.fields(documentName('settings/interceptors'))).toBeDefined();
      expect(called).toBe(0);
    } finally {
      await withInterceptors.terminate();
    }
  });

  it('set() to Done: metrics upserted (document id = job id) and the job marked metricsFinalizedAt', async () => {
    await firestore.doc('jobs/set-1').set({ type: 'csv-quality', status: 'Running', attempts: 1 });
    expect(delivered('set-1')).toBeUndefined();
    await firestore.doc('jobs/set-1').set({
      type: 'csv-quality',
      status: 'Done',
      attempts: 1,
      metrics: { counters: { rows: 120, rejects: 3 }, durationsMs: { parse: 41.5 } },
      startedAt: new Date('2026-11-25T10:00:00Z'),
      finishedAt: new Date('2026-11-25T10:00:02Z'),
    });
    await expect.poll(() => finalized('jobs/set-1')).toBeDefined();
    expect(delivered('set-1')).toMatchObject({
      job_id: 'set-1',
      job_type: 'csv-quality',
      status: 'Done',
      counters: { rows: 120, rejects: 3 },
      durations_ms: { parse: 41.5 },
      duration_ms: 2000,
    });
    expect(peer.effectiveWrites(index, 'set-1')).toHaveLength(1);
    expect(peer.requests.at(-1)?.principal).toBe(peer.defaultCredentials.accessKeyId);
  });

  it('update() to Failed is caught, with the error', async () => {
    await firestore.doc('jobs/update-1').set({ type: 'csv-quality', status: 'Running' });
    await firestore.doc('jobs/update-1').update({
      status: 'Failed',
      error: { code: 'bad_header', message: 'no header row' },
      'metrics.counters.rows': 0,
    });
    await expect.poll(() => finalized('jobs/update-1')).toBeDefined();
    expect(delivered('update-1')).toMatchObject({
      status: 'Failed',
      error_code: 'bad_header',
      counters: { rows: 0 },
    });
  });

  it('a batch: only the jobs it ended are delivered, not running jobs or other collections', async () => {
    const batch = firestore.batch();
    batch.set(firestore.doc('jobs/batch-done'), { type: 'csv', status: 'Done' });
    batch.set(firestore.doc('jobs/batch-running'), { type: 'csv', status: 'Running' });
    batch.set(firestore.doc('reports/batch-done'), { type: 'csv', status: 'Done' });
    batch.set(firestore.doc('jobs/batch-done/attempts/1'), { status: 'Done' });
    await batch.commit();
    await expect.poll(() => finalized('jobs/batch-done')).toBeDefined();
    await finalMetrics.idle();
    expect(peer.documentIds(index).filter((id) => id.startsWith('batch-') || id === '1')).toEqual([
      'batch-done',
    ]);
    expect(finalized('jobs/batch-running')).toBeUndefined();
    expect(finalized('reports/batch-done')).toBeUndefined();
  });

  it('a transaction is caught, once it commits', async () => {
    await firestore.doc('jobs/tx-1').set({ type: 'csv', status: 'Running', attempts: 2 });
    await firestore.runTransaction(async (tx) => {
      const job = await tx.get(firestore.doc('jobs/tx-1'));
      tx.update(job.ref, { status: 'Done', 'metrics.counters.rows': 7 });
    });
    await expect.poll(() => finalized('jobs/tx-1')).toBeDefined();
    expect(delivered('tx-1')).toMatchObject({ status: 'Done', attempts: 2, counters: { rows: 7 } });
  });

  it('a failed Commit delivers nothing', async () => {
    const before = finalMetrics.snapshot().commitsSeen;
    // update() requires the document to exist: the server answers NOT_FOUND.
    await expect(firestore.doc('jobs/never-created').update({ status: 'Done' })).rejects.toThrow(
      /NOT_FOUND|No document/,
    );
    await firestore.doc('settings/after-failure').set({ at: 1 });
    await expect.poll(() => finalMetrics.snapshot().commitsSeen - before).toBe(1);
    expect(delivered('never-created')).toBeUndefined();
  });

  it('other RPCs pass untouched: reads and queries are not seen as commits', async () => {
    const before = finalMetrics.snapshot().commitsSeen;
    await firestore.doc('jobs/set-1').get();
    await firestore.collection('jobs').where('status', '==', 'Done').get();
    await firestore.doc('settings/marker').set({ at: 1 });
    await expect.poll(() => finalMetrics.snapshot().commitsSeen - before).toBe(1);
  });

  it('OpenSearch down: the Firestore write succeeds at once; delivery retries with backoff, then lands once', async () => {
    peer.startOutage(503);
    try {
      await firestore.doc('jobs/outage-1').set({ type: 'csv', status: 'Done' });
      expect(server.fields(documentName('jobs/outage-1'))?.status).toBeDefined();
      await expect
        .poll(() => stats.snapshot().counters.firestore_final_metrics_retries)
        .toBeGreaterThanOrEqual(2);
      expect(finalized('jobs/outage-1')).toBeUndefined();
    } finally {
      peer.endOutage();
    }
    await expect.poll(() => finalized('jobs/outage-1')).toBeDefined();
    expect(peer.effectiveWrites(index, 'outage-1')).toHaveLength(1);
  });

  it('the sweep finds terminal jobs another writer ended, delivers them once, and skips marked ones', async () => {
    await plain
      .doc('jobs/other-writer-1')
      .set({ type: 'csv', status: 'Done', metrics: { counters: { rows: 'many' } } });
    await plain
      .doc('jobs/other-writer-2')
      .set({ type: 'csv', status: 'Failed', error: { code: 'x', message: 'y' } });
    await plain.doc('jobs/other-writer-3').set({ type: 'csv', status: 'Running' });
    await finalMetrics.idle();
    expect(delivered('other-writer-1')).toBeUndefined();

    expect(await finalMetrics.sweep(2)).toBe(2);
    expect(delivered('other-writer-1')).toMatchObject({ status: 'Done', counters: {} });
    expect(delivered('other-writer-2')).toMatchObject({ status: 'Failed', error_code: 'x' });
    expect(finalized('jobs/other-writer-2')).toBeDefined();
    expect(delivered('other-writer-3')).toBeUndefined();
    expect(await finalMetrics.sweep(2)).toBe(0);
    expect(peer.effectiveWrites(index, 'other-writer-1')).toHaveLength(1);
  });
});
