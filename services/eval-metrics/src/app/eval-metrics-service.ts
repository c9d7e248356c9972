import { createService, type Logger, type Service } from '@stratus/core';
import type { GroundTruthCache } from '../adapters/ground-truth-cache.js';
import type { TraceSource } from '../adapters/langfuse.js';
import type { PollStore, SqlDatabase } from '../adapters/poll-store.js';
import type { EvalMetricsSettings } from '../config/settings.js';
import type { EvaluationSpec } from '../domain/spec.js';
import { registerEvaluateRoute } from '../handlers/evaluate-route.js';
import { Poller } from './poller.js';
import { EvalTelemetry, type LineSink } from './telemetry.js';

export interface EvalMetricsDependencies {
  spec: EvaluationSpec;
  database: SqlDatabase;
  store: PollStore;
  source: TraceSource;
  groundTruth: GroundTruthCache;
  logger?: Logger;
  /** Where EMF lines go; default stdout. */
  emfSink?: LineSink;
  now?: () => number;
}

export interface EvalMetricsService {
  service: Service;
  poller: Poller;
  telemetry: EvalTelemetry;
}

/**
 * The service: the HTTP kit (/health, /ready, /stats) with POST /evaluate, the poller and telemetry.
 * `service.run()` or `listen()` serves; the poller starts with it when POLLING_ENABLED and stops at shutdown.
 */
export async function createEvalMetricsService(
  settings: EvalMetricsSettings,
  deps: EvalMetricsDependencies,
): Promise<EvalMetricsService> {
  const { spec, groundTruth, store } = deps;
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
  const poller = new Poller({
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

  service.addReadinessCheck({ name: 'database', check: () => deps.database.query('SELECT 1') });
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
  service.stats.section('poller', () => ({ ...poller.status() }));
  service.stats.gauge('lag_s', () => poller.lagSeconds() ?? Number.NaN);
  service.stats.gauge('ground_truth_age_s', () => groundTruth.status().age_s ?? Number.NaN);

  if (settings.POLLING_ENABLED) {
    service.app.addHook('onReady', async () => poller.start());
    service.onShutdown('poller', () => poller.stop());
  }
  return { service, poller, telemetry };
}
