import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Client } from '@opensearch-project/opensearch';
import { createLogger } from '@stratus/core';
import { OpenSearchPeer } from '@stratus/test-peers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpenSearchFinalMetricsSink } from '../src/final-metrics/opensearch-sink.js';
import { FinalMetricsOutbox } from '../src/final-metrics/outbox.js';
import { FinalMetricsRelay } from '../src/final-metrics/relay.js';
import { openDatabase } from '../src/store/database.js';
import { migrate } from '../src/store/migrations.js';
import { testDatabaseUrl } from './store-backends.js';

const writer = fileURLToPath(new URL('./fixtures/crashing-writer.ts', import.meta.url));
const index = 'job-metrics';
const jobCount = 20;
const leaseMs = 300;
const credentials = { username: 'metrics-writer', password: 'test-password-not-a-secret' };
const logger = createLogger({ SERVICE_NAME: 'jobs-test', ENVIRONMENT: 'test', LOG_LEVEL: 'silent' });

/** Starts the writer and resolves once it has committed every job (and, with the relay on, sent a request). */
async function runWriter(env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', writer], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`writer exited early with code ${code}`)));
    child.stdout!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('committed')) resolve();
    });
  });
  return child;
}

async function kill(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

// PGlite on a data folder is covered in-process (final-metrics-relay.test.ts: a relay abandoned mid-delivery):
// a PGlite child process takes tens of seconds to start and commit on a busy 2-core machine.
const targets = [{ name: 'postgres', available: Boolean(testDatabaseUrl) }];

for (const target of targets) {
  describe.skipIf(!target.available)(
    `writer process killed between commit and delivery (${target.name})`,
    () => {
      let peer: OpenSearchPeer;
      const schema = `jobs_restart_${process.pid}_${randomBytes(4).toString('hex')}`;

      beforeAll(async () => {
        peer = await new OpenSearchPeer({ kind: 'basic', ...credentials }).start();
      });
      afterAll(async () => {
        await peer?.stop();
        const db = await openDatabase({ databaseUrl: testDatabaseUrl });
        await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await db.close();
      });

      it('a new relay delivers every terminal job exactly once, including a bulk request cut off mid-flight', async () => {
        const env = {
          JOBS_SCHEMA: schema,
          JOB_COUNT: String(jobCount),
          RELAY: 'on',
          LEASE_MS: String(leaseMs),
          OPENSEARCH_URL: peer.url,
          OPENSEARCH_USERNAME: credentials.username,
          OPENSEARCH_PASSWORD: credentials.password,
          FINAL_METRICS_INDEX: index,
          DATABASE_URL: testDatabaseUrl!,
        };
        // The node holds the writer's bulk request unanswered; the writer is killed while it waits.
        peer.holdRequests();
        const child = await runWriter(env);
        await expect.poll(() => peer.heldRequests, { timeout: 15_000 }).toBe(1);
        await kill(child);
        // The node applies the orphaned request after all, as a real node may: the redelivery must not duplicate.
        peer.releaseRequests();
        await expect.poll(() => peer.documentIds(index).length).toBe(jobCount);

        const db = await openDatabase({ databaseUrl: testDatabaseUrl });
        try {
          await migrate(db, schema);
          const outbox = new FinalMetricsOutbox(db, { schema });
          expect(await outbox.backlog()).toMatchObject({ pending: jobCount });
          const relay = new FinalMetricsRelay({
            outbox,
            sink: new OpenSearchFinalMetricsSink(
              new Client({ node: peer.url, auth: credentials, maxRetries: 0 }),
              {
                index,
              },
            ),
            logger,
          });
          // The dead writer's claim is a lease: its rows become due again when the lease ends.
          let delivered = 0;
          await expect
            .poll(async () => {
              delivered += await relay.drain();
              return delivered;
            })
            .toBe(jobCount);
          expect(await outbox.backlog()).toEqual({ pending: 0, oldestEnqueuedAt: null });
        } finally {
          await db.close();
        }
        for (let i = 0; i < jobCount; i++) {
          const id = `crash-${i}`;
          expect(peer.effectiveWrites(index, id), id).toHaveLength(1);
          expect(peer.writes.filter((w) => w.id === id).map((w) => w.result)).toEqual(['created', 'noop']);
        }
      });
    },
  );
}
