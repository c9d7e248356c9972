import { randomBytes } from 'node:crypto';
import { Client } from '@opensearch-project/opensearch';
import { createLogger, loadSettings, StatsRegistry } from '@stratus/core';
import { OpenSearchPeer } from '@stratus/test-peers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OpenedJobStore, openJobStore } from '../src/open-job-store.js';
import { finalMetricsSettings, jobStoreSettings } from '../src/settings.js';
import { testDatabaseUrl } from './store-backends.js';

// The wiring a service uses, from environment variables to delivered metrics, on the Postgres server.
describe.skipIf(!testDatabaseUrl)('openJobStore from settings', () => {
  const schema = `jobs_open_${process.pid}_${randomBytes(4).toString('hex')}`;
  const auth = { username: 'metrics', password: 'open-store-test-password' };
  let peer: OpenSearchPeer;
  let opened: OpenedJobStore;
  let stats: StatsRegistry;

  beforeAll(async () => {
    peer = await new OpenSearchPeer({ kind: 'basic', ...auth }).start();
    const settings = loadSettings(jobStoreSettings.extend(finalMetricsSettings.shape), {
      env: {
        DATABASE_URL: testDatabaseUrl,
        JOBS_DB_SCHEMA: schema,
        FINAL_METRICS_INDEX: 'metrics-open',
        // Far longer than the test: a delivery within it proves the relay was woken by the commit.
        FINAL_METRICS_POLL_INTERVAL_MS: '600000',
      },
      envFile: false,
    });
    stats = new StatsRegistry('jobs-test');
    opened = await openJobStore({
      settings,
      client: new Client({ node: peer.url, auth, maxRetries: 0 }),
      logger: createLogger({ SERVICE_NAME: 'jobs-test', ENVIRONMENT: 'test', LOG_LEVEL: 'silent' }),
      stats,
    });
  });
  afterAll(async () => {
    await opened?.db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await opened?.close();
    stats?.stop();
    await peer?.stop();
  });

  it('a job that ends is delivered at once by the started relay, and /stats shows it', async () => {
    opened.relay.start();
    await opened.store.create({ id: 'open-1', type: 'csv-quality' });
    await opened.store.start('open-1');
    await opened.store.complete('open-1', { counters: { rows: 5 } });
    await expect.poll(() => stats.snapshot().counters.final_metrics_delivered, { timeout: 15_000 }).toBe(1);
    expect(peer.document('metrics-open', 'open-1')?.source).toMatchObject({
      status: 'Done',
      counters: { rows: 5 },
    });
    expect(stats.snapshot().gauges).toMatchObject({
      final_metrics_pending: 0,
      final_metrics_oldest_pending_age_s: 0,
    });
  });
});
