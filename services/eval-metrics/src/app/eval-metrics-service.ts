import { createService, type Logger, type Service } from '@stratus/core';
import type { GroundTruthCache } from '../adapters/ground-truth-cache.js';
import type { TraceSource } from '../adapters/langfuse.js';
import type { PollStore, SqlDatabase } from '../adapters/poll-store.js';
import type { EvalMetricsSettings } from '../config/settings.js';
import type { EvaluationSpec } from '../domain/spec.js';
import { registerEvaluateRoute } from '../handlers/evaluate-route.js';
import { Poller } from './poller.js';
import { EvalTelemetry, type LineSink } from './telemetry.js';

export interface PollStorage {
  database: SqlDatabase;
  store: PollStore;
}

export interface EvalMetricsDependencies {
  spec: EvaluationSpec;
  /**
   * The poll cursor's database, possibly still opening: POST /evaluate does not need it, so the
   * service serves (and is ready) at once and the poller starts when it is open.
   */
  storage: Promise<PollStorage>;
  source: TraceSource;
  groundTruth: GroundTruthCache;
  logger?: Logger;
  /** Where EMF lines go; default stdout. */
  emfSink?: LineSink;
  now?: () => number;
}

export interface EvalMetricsService {
  service: Service;
  telemetry: EvalTelemetry;
  /** The poller, once the database is open. */
  poller: Promise<Poller>;
}

/**
 * The service: the HTTP kit (/health, /ready, /stats) with POST /evaluate, the poller and telemetry.
 * `service.run()` or `listen()` serves; the poller starts with it when POLLING_ENABLED and stops at shutdown.
 */
export async function createEvalMetricsService(
  settings: EvalMetricsSettings,
  deps: EvalMetricsDependencies,
): Promise<EvalMetricsService> {
  const { spec, groundTruth } = deps;
  const service = await createService({
    settings,
    ...(deps.logger ? { logger: deps.logger } : {}),
    routes: (app) => registerEvaluateRoute(app, spec, groundTruth),
  });
  const telemetry = new EvalTelemetry(
    service.stats,
    settings.EMF_ENABLED
      ? {
          sink: deps.emfSink ?? process.stdout,
          namespace: settings.EMF_NAMESPACE,
          service: settings.SERVICE_NAME,
        }
      : undefined,
  );
  const now = deps.now ?? Date.now;
  let storage: PollStorage | undefined;
  let storageError: string | undefined;
  let current: Poller | undefined;
  const poller = deps.storage.then(({ database, store }) => {
    storage = { database, store };
    current = new Poller({
      spec,
      source: deps.source,
      store,
      groundTruth,
      telemetry,
      logger: service.logger.child({ component: 'poller' }),
      replicaId: settings.REPLICA_ID,
      maxTracesPerPoll: settings.MAX_TRACES_PER_POLL,
      ingestionDelayMs: settings.INGESTION_DELAY,
      pollIntervalMs: settings.POLL_INTERVAL,
      leaseTtlMs: settings.POLL_LEASE_TTL,
      scoreWriteConcurrency: settings.SCORE_WRITE_CONCURRENCY,
      startAt: settings.POLL_START_AT ? new Date(settings.POLL_START_AT) : new Date(now() - 24 * 3_600_000),
      now,
    });
    return current;
  });
  poller.catch((error: unknown) => {
    storageError = error instanceof Error ? error.message : String(error);
    service.logger.error({ event: 'database_open_failed', err: error }, 'poll database failed to open');
  });

  service.addReadinessCheck({
    name: 'database',
    check: async () => {
      if (storageError) throw new Error(storageError);
      if (!storage) return { detail: 'opening: polling starts when it is open' };
      await storage.database.query('SELECT 1');
      return { detail: 'open' };
    },
  });
  // Ready without ground truth (POST /evaluate with inline rows still works); the detail says it is empty.
  service.addReadinessCheck({
    name: 'ground-truth',
    check: () => {
      const status = groundTruth.status();
      if (status.state === 'empty')
        return { detail: `empty: no version loaded${status.last_error ? ` (${status.last_error})` : ''}` };
      if (status.state === 'stale')
        return { detail: `stale: serving ${status.version}; refresh failed: ${status.last_error}` };
      return { detail: `fresh: ${status.version}` };
    },
  });
  service.stats.section('ground_truth', () => ({ ...groundTruth.status() }));
  service.stats.section('poller', () => ({
    polling_enabled: settings.POLLING_ENABLED,
    ...current?.status(),
  }));

  if (settings.POLLING_ENABLED) {
    service.app.addHook('onReady', async () => {
      void poller.then((started) => started.start()).catch(() => {});
    });
  }
  service.onShutdown('poller', async () => {
    if (current) await current.stop();
  });
  return { service, telemetry, poller };
}
