import type { Client } from '@opensearch-project/opensearch';
import type { Logger, StatsRegistry } from '@stratus/core';
import { entersTerminalState } from './domain/job.js';
import { OpenSearchFinalMetricsSink } from './final-metrics/opensearch-sink.js';
import { FinalMetricsOutbox } from './final-metrics/outbox.js';
import { FinalMetricsRelay } from './final-metrics/relay.js';
import type { FinalMetricsSettings, JobStoreSettings } from './settings.js';
import { type Database, openDatabase } from './store/database.js';
import { JobStore } from './store/job-store.js';
import { migrate } from './store/migrations.js';

export interface OpenedJobStore {
  db: Database;
  store: JobStore;
  outbox: FinalMetricsOutbox;
  /** Not started: call `relay.start()` in the process that should deliver (any number may). */
  relay: FinalMetricsRelay;
  /** Stops the relay and closes the database. */
  close(): Promise<void>;
}

/**
 * The job store as a service uses it: database opened and migrated, the final-metrics outbox registered
 * on the commit path, and a relay to OpenSearch through `client` (made by the caller: SigV4 with WIF
 * credentials from @stratus/aws, basic auth, or none).
 */
export async function openJobStore(options: {
  settings: JobStoreSettings & FinalMetricsSettings;
  client: Client;
  logger: Logger;
  stats?: StatsRegistry;
}): Promise<OpenedJobStore> {
  const { settings } = options;
  const db = await openDatabase({
    databaseUrl: settings.DATABASE_URL,
    dataDir: settings.JOBS_DATA_DIR,
    pgliteTemplatePath: settings.PGLITE_TEMPLATE,
    maxConnections: settings.JOBS_DB_MAX_CONNECTIONS,
  });
  const schema = settings.JOBS_DB_SCHEMA;
  await migrate(db, schema);
  const outbox = new FinalMetricsOutbox(db, { schema });
  const store = new JobStore(db, { schema, interceptors: [outbox.interceptor] });
  const relay = new FinalMetricsRelay({
    outbox,
    sink: new OpenSearchFinalMetricsSink(options.client, { index: settings.FINAL_METRICS_INDEX }),
    logger: options.logger,
    ...(options.stats ? { stats: options.stats } : {}),
    batchSize: settings.FINAL_METRICS_BATCH_SIZE,
    leaseMs: settings.FINAL_METRICS_LEASE_MS,
    pollIntervalMs: settings.FINAL_METRICS_POLL_INTERVAL_MS,
    reconcileIntervalMs: settings.FINAL_METRICS_RECONCILE_INTERVAL_MS,
    backoff: { baseMs: settings.FINAL_METRICS_RETRY_BASE_MS, maxMs: settings.FINAL_METRICS_RETRY_MAX_MS },
  });
  // Deliver as soon as a job ends, instead of at the next poll.
  store.onCommitted((change) => {
    if (entersTerminalState(change)) relay.notify();
  });
  return {
    db,
    store,
    outbox,
    relay,
    async close() {
      await relay.stop();
      await db.close();
    },
  };
}
