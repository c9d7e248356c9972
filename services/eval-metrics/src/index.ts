export {
  bucketObjects,
  GroundTruthCache,
  type GroundTruthCacheOptions,
  GroundTruthError,
  type GroundTruthStatus,
  type ObjectSource,
  parseGroundTruthPointer,
  verifyChecksum,
} from './adapters/ground-truth-cache.js';
export {
  LangfuseCallError,
  type LangfuseSourceOptions,
  langfuseTraceSource,
  PAGE_LIMITS,
  type TracePage,
  type TraceSource,
} from './adapters/langfuse.js';
export { LeaseLostError, type PollState, PollStore, type SqlDatabase } from './adapters/poll-store.js';
export {
  createEvalMetricsService,
  type EvalMetricsDependencies,
  type EvalMetricsService,
} from './app/eval-metrics-service.js';
export { Poller, type PollerOptions, type PollResult } from './app/poller.js';
export { EvalTelemetry, type LineSink } from './app/telemetry.js';
export { type EvalMetricsSettings, envDuration, evalMetricsSettings } from './config/settings.js';
export * from './domain/index.js';
