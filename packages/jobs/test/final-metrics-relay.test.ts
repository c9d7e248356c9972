import { createLogger, StatsRegistry } from '@stratus/core';
import { generateTestCredentials, OpenSearchPeer } from '@stratus/test-peers';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { OpenSearchFinalMetricsSink } from '../src/final-metrics/opensearch-sink.js';
import { FinalMetricsOutbox } from '../src/final-metrics/outbox.js';
import { FinalMetricsRelay } from '../src/final-metrics/relay.js';
import { startedJobDocuments } from '../src/final-metrics/started-job-documents.js';
import { JobStore } from '../src/store/job-store.js';
import { sigv4Client } from './opensearch-clients.js';
import { type OpenedStore, storeBackends, storeOpenTimeoutMs } from './store-backends.js';

const index = 'job-metrics';
const logger = createLogger({ SERVICE_NAME: 'jobs-test', ENVIRONMENT: 'test', LOG_LEVEL: 'silent' });

for (const backend of storeBackends) {
  describe.skipIf(!backend.available)(`final metrics relay on ${backend.name}`, () => {
    let opened: OpenedStore;
    let store: JobStore;
    let outbox: FinalMetricsOutbox;
    let peer: OpenSearchPeer;
    let stats: StatsRegistry;
    let relay: FinalMetricsRelay;
    let sequence = 0;

    beforeAll(async () => {
      opened = await backend.open();
      peer = await new OpenSearchPeer({ kind: 'sigv4' }).start();
    }, storeOpenTimeoutMs);
    afterAll(async () => {
      await peer?.stop();
      await opened?.close();
    });
    beforeEach(async () => {
      // Each case starts from an empty outbox and its own job ids.
      await opened.db.query(`TRUNCATE "${opened.schema}".jobs CASCADE`);
      outbox = new FinalMetricsOutbox(opened.db, { schema: opened.schema });
      store = new JobStore(opened.db, { schema: opened.schema, interceptors: [outbox.interceptor] });
      stats = new StatsRegistry('jobs-test');
      relay = new FinalMetricsRelay({
        outbox,
        sink: new OpenSearchFinalMetricsSink(sigv4Client(peer), { index }),
        logger,
        stats,
        batchSize: 50,
        backoff: { baseMs: 1, maxMs: 2 },
      });
    });
    afterEach(() => {
      stats.stop();
      peer.endOutage();
      peer.releaseRequests();
    });

    async function endJobs(count: number, outcome: 'Done' | 'Failed' = 'Done'): Promise<string[]> {
      const ids: string[] = [];
      for (let i = 0; i < count; i++) {
        const id = `${backend.name}-${++sequence}`;
        await store.create({ id, type: 'csv-quality' });
        await store.start(id);
        if (outcome === 'Done') await store.complete(id, { counters: { rows: i } });
        else await store.fail(id, { code: 'bad_file', message: 'not a CSV' });
        ids.push(id);
      }
      return ids;
    }

    /** Each id was created exactly once in the index and never overwritten. */
    function expectDeliveredExactlyOnce(ids: string[]): void {
      for (const id of ids) expect(peer.effectiveWrites(index, id), id).toHaveLength(1);
    }

    it('delivers each terminal job as an upsert with document id = job id, SigV4-signed', async () => {
      const done = await endJobs(3);
      const failed = await endJobs(2, 'Failed');
      const running = `${backend.name}-running-${++sequence}`;
      await store.create({ id: running, type: 'csv-quality' });
      await store.start(running);

      const requestsBefore = peer.requests.length;
      expect(await relay.drain()).toBe(5);
      expectDeliveredExactlyOnce([...done, ...failed]);
      expect(peer.document(index, running)).toBeUndefined();
      expect(peer.document(index, done[1]!)!.source).toMatchObject({
        job_id: done[1],
        status: 'Done',
        counters: { rows: 1 },
      });
      expect(peer.document(index, failed[0]!)!.source).toMatchObject({
        status: 'Failed',
        error_code: 'bad_file',
      });
      const bulkRequests = peer.requests.slice(requestsBefore);
      expect(bulkRequests).toHaveLength(1);
      expect(bulkRequests[0]).toMatchObject({
        path: '/_bulk',
        status: 200,
        operations: 5,
        principal: peer.defaultCredentials.accessKeyId,
      });
      expect(stats.snapshot().counters.final_metrics_delivered).toBe(5);
      expect(stats.snapshot().gauges.final_metrics_pending).toBe(0);
    });

    it('OpenSearch down: commits succeed, deliveries are retried with backoff, then each lands exactly once', async () => {
      peer.startOutage(503);
      const ids = await endJobs(4);
      for (let round = 0; round < 3; round++) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        expect(await relay.deliverDue()).toEqual({ claimed: 4, delivered: 0, failed: 4 });
      }
      expect(peer.documentIds(index).filter((id) => ids.includes(id))).toEqual([]);
      const [row] = await opened.db.query<{ attempts: number; last_error: string }>(
        `SELECT attempts, last_error FROM "${opened.schema}".final_metrics_outbox WHERE job_id = $1`,
        [ids[0]],
      );
      expect(row).toMatchObject({ attempts: 3 });
      expect(row!.last_error).toContain('503');
      expect(stats.snapshot().counters.final_metrics_retries).toBe(12);
      expect(stats.snapshot().gauges.final_metrics_pending).toBe(4);

      peer.endOutage();
      await new Promise((resolve) => setTimeout(resolve, 5));
      expect(await relay.drain()).toBe(4);
      expectDeliveredExactlyOnce(ids);
      expect(relay.snapshot()).toMatchObject({ pending: 0, delivered: 4, retries: 12, oldestPendingAgeS: 0 });
    });

    it('items the node rejects (429) are retried alone; the rest are delivered once', async () => {
      const ids = await endJobs(5);
      peer.rejectNextItems(2);
      expect(await relay.deliverDue()).toEqual({ claimed: 5, delivered: 3, failed: 2 });
      await new Promise((resolve) => setTimeout(resolve, 5));
      expect(await relay.drain()).toBe(2);
      expectDeliveredExactlyOnce(ids);
    });

    it('a delivery repeated after a crash before marking changes nothing (OpenSearch answers noop)', async () => {
      const ids = await endJobs(2);
      // The process delivered, then died before marking the rows delivered: deliver the same documents again.
      const claimed = await outbox.claimDue(10, 0);
      await new OpenSearchFinalMetricsSink(sigv4Client(peer), { index }).deliver(
        claimed.map((e) => e.document),
      );
      expect(await relay.drain()).toBe(2);
      expectDeliveredExactlyOnce(ids);
      expect(peer.writes.filter((w) => ids.includes(w.id)).map((w) => w.result)).toEqual([
        'created',
        'created',
        'noop',
        'noop',
      ]);
    });

    it('a relay that dies mid-delivery: its lease ends and a new relay delivers each job exactly once', async () => {
      const ids = await endJobs(3);
      const realSink = new OpenSearchFinalMetricsSink(sigv4Client(peer), { index });
      let sent = false;
      const dying = new FinalMetricsRelay({
        outbox,
        // The node applies the bulk request, then the process is gone: no answer is ever processed.
        sink: {
          deliver: async (documents) => {
            await realSink.deliver(documents);
            sent = true;
            return new Promise(() => {});
          },
        },
        logger,
        leaseMs: 50,
      });
      void dying.deliverDue();
      await expect.poll(() => sent).toBe(true);
      let delivered = 0;
      await expect
        .poll(async () => {
          delivered += await relay.drain();
          return delivered;
        })
        .toBe(3);
      expectDeliveredExactlyOnce(ids);
      expect(peer.writes.filter((w) => ids.includes(w.id)).map((w) => w.result)).toEqual([
        'created',
        'created',
        'created',
        'noop',
        'noop',
        'noop',
      ]);
    });

    it("the caller's commit neither fails nor waits while OpenSearch hangs", async () => {
      const first = await endJobs(1);
      peer.holdRequests();
      const delivering = relay.deliverDue();
      await expect.poll(() => peer.heldRequests).toBe(1);
      // The relay's bulk request is stuck; commits that end jobs still complete.
      const more = await endJobs(3);
      expect(peer.heldRequests).toBe(1);
      expect((await store.get(more[2]!)).status).toBe('Done');
      peer.releaseRequests();
      expect(await delivering).toMatchObject({ delivered: 1 });
      expect(await relay.drain()).toBe(3);
      expectDeliveredExactlyOnce([...first, ...more]);
    });

    it('unknown signing key: 403 from the node, nothing lost, delivered once the key is right', async () => {
      const ids = await endJobs(2);
      const wrongKey = new FinalMetricsRelay({
        outbox,
        sink: new OpenSearchFinalMetricsSink(sigv4Client(peer, generateTestCredentials()), { index }),
        logger,
        backoff: { baseMs: 1, maxMs: 2 },
      });
      expect(await wrongKey.deliverDue()).toMatchObject({ claimed: 2, failed: 2 });
      expect(peer.requests.at(-1)).toMatchObject({ status: 403, principal: undefined });
      const [row] = await opened.db.query<{ last_error: string }>(
        `SELECT last_error FROM "${opened.schema}".final_metrics_outbox WHERE job_id = $1`,
        [ids[0]],
      );
      expect(row!.last_error).toContain('403');
      expect(row!.last_error).not.toContain(peer.defaultCredentials.secretAccessKey);
      await new Promise((resolve) => setTimeout(resolve, 5));
      expect(await relay.drain()).toBe(2);
      expectDeliveredExactlyOnce(ids);
    });

    it('a started job gets its document with ordinary credentials; the final patch (other key) completes it', async () => {
      const ordinaryKey = generateTestCredentials();
      peer.credentials.add(ordinaryKey);
      store.onCommitted(startedJobDocuments(sigv4Client(peer, ordinaryKey), { index, logger }));
      const id = `${backend.name}-started-${++sequence}`;
      await store.create({ id, type: 'csv-quality' });
      await store.start(id);
      await expect.poll(() => peer.document(index, id)?.source.status).toBe('Running');
      expect(peer.requests.at(-1)?.principal).toBe(ordinaryKey.accessKeyId);
      await store.complete(id, { counters: { rows: 2 } });
      expect(await relay.drain()).toBe(1);
      expect(peer.requests.at(-1)?.principal).toBe(peer.defaultCredentials.accessKeyId);
      expect(peer.document(index, id)?.source).toMatchObject({ status: 'Done', counters: { rows: 2 } });
      expect(peer.writes.filter((w) => w.id === id).map((w) => w.result)).toEqual(['created', 'updated']);
    });

    it('the background loop reconciles jobs ended by another writer and delivers them', async () => {
      const id = `${backend.name}-other-writer-${++sequence}`;
      await store.create({ id, type: 'csv-quality' });
      await opened.db.query(
        `UPDATE "${opened.schema}".jobs SET status = 'Failed', error = '{"code":"x","message":"y"}' WHERE id = $1`,
        [id],
      );
      const looping = new FinalMetricsRelay({
        outbox,
        sink: new OpenSearchFinalMetricsSink(sigv4Client(peer), { index }),
        logger,
        pollIntervalMs: 10,
      });
      looping.start();
      try {
        await expect.poll(() => outbox.backlog()).toEqual({ pending: 0, oldestEnqueuedAt: null });
      } finally {
        await looping.stop();
      }
      expect(peer.document(index, id)?.source).toMatchObject({ status: 'Failed', error_code: 'x' });
      expectDeliveredExactlyOnce([id]);
    });
  });
}
