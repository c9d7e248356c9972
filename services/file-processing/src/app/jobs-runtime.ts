import { createAwsCredentialProvider } from '@stratus/aws/credentials';
import { createOpenSearchClient } from '@stratus/aws/opensearch';
import { awsRegionOf, type Logger, type StatsRegistry } from '@stratus/core';
import { type JobStore, openJobStore } from '@stratus/jobs';
import type { FileProcessingSettings } from '../config/settings.js';

/** The job store with its final-metrics outbox, and the relay that carries metrics to OpenSearch. */
export interface JobsRuntime {
  store: JobStore;
  /** Delivers final metrics now; false (and nothing sent) without OPENSEARCH_URL. */
  deliverFinalMetrics(): Promise<boolean>;
  /** Starts the background relay (a no-op without OPENSEARCH_URL: metrics wait in the outbox). */
  startRelay(): void;
  close(): Promise<void>;
}

/**
 * Opens the job store as @stratus/jobs configures it (Postgres at DATABASE_URL, else embedded PGlite),
 * with the final-metrics outbox on every commit and a relay to OpenSearch signed with SigV4 using the
 * process's AWS credentials (IRSA, the SDK chain or Google WIF).
 */
export async function openJobsRuntime(
  settings: FileProcessingSettings,
  logger: Logger,
  stats?: StatsRegistry,
): Promise<JobsRuntime> {
  const region = awsRegionOf(settings) ?? 'us-east-1';
  const opened = await openJobStore({
    settings,
    // Without OPENSEARCH_URL the relay is never started, so this client is never called.
    client: createOpenSearchClient({
      node: settings.OPENSEARCH_URL ?? 'http://127.0.0.1:9200',
      region,
      service: settings.OPENSEARCH_SERVICE,
      credentials: createAwsCredentialProvider(settings, { region }),
      maxRetries: 0,
    }),
    logger,
    ...(stats ? { stats } : {}),
  });
  const enabled = settings.OPENSEARCH_URL !== undefined;
  return {
    store: opened.store,
    async deliverFinalMetrics() {
      if (!enabled) return false;
      await opened.relay.drain();
      return true;
    },
    startRelay() {
      if (enabled) opened.relay.start();
    },
    close: () => opened.close(),
  };
}
