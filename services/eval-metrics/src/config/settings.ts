import { hostname } from 'node:os';
import { envBoolean, envInteger, fullSettings, httpSettings, port, secret } from '@stratus/core';
import { z } from 'zod';

/** A duration: `500ms`, `30s`, `15m`, `1h`, or a plain number of seconds. Parsed to milliseconds. */
export const envDuration = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((text, context) => {
      const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
      if (!match) {
        context.addIssue({ code: 'custom', message: 'must be a duration such as 500ms, 30s, 15m or 1h' });
        return z.NEVER;
      }
      const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[(match[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
      return Math.round(Number(match[1]) * unit);
    });

export const evalMetricsSettings = fullSettings.extend({
  ...httpSettings.shape,
  SERVICE_NAME: fullSettings.shape.SERVICE_NAME.default('eval-metrics'),
  PORT: port(8085),
  /** The evaluation spec (YAML or JSON). */
  EVAL_SPEC_PATH: z.string().min(1),

  LANGFUSE_BASE_URL: z.url().default('http://127.0.0.1:3000'),
  LANGFUSE_PUBLIC_KEY: z.string().min(1),
  LANGFUSE_SECRET_KEY: secret(z.string().min(1)),
  /** `traces` reads GET /api/public/traces (self-hosted v3); `observations` reads GET /api/public/v2/observations (Cloud, v4). */
  LANGFUSE_READ_API: z.enum(['traces', 'observations']).default('traces'),
  LANGFUSE_TIMEOUT: envDuration('10s'),
  /** Retries of one request on 408, 429 (after Retry-After) and 5xx. */
  LANGFUSE_MAX_RETRIES: envInteger(3, 0, 10),

  POLLING_ENABLED: envBoolean(true),
  POLL_INTERVAL: envDuration('60s'),
  MAX_TRACES_PER_POLL: envInteger(1_000, 1, 100_000),
  /** Traces younger than this wait for a later poll, so late ingestion is not skipped over. */
  INGESTION_DELAY: envDuration('30s'),
  /** Where a new stream (a spec version never polled before) starts; default 24 hours before its first poll. */
  POLL_START_AT: z.iso.datetime({ offset: true }).optional(),
  SCORE_WRITE_CONCURRENCY: envInteger(16, 1, 256),
  /** How long a replica's claim on the poller lasts unless renewed; another replica takes over after it. */
  POLL_LEASE_TTL: envDuration('2m'),
  REPLICA_ID: z.string().min(1).default(`${hostname()}-${process.pid}`),

  /** postgres://… for the poll cursor; absent: embedded PGlite in EVAL_DATA_DIR. */
  DATABASE_URL: secret(z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')).optional(),
  EVAL_DATA_DIR: z.string().min(1).default('.stratus/eval-metrics'),
  /** A PGlite data folder dump (gzip) a new EVAL_DATA_DIR starts from instead of running initdb. */
  PGLITE_TEMPLATE: z.string().min(1).optional(),

  /** Ground truth: an S3 bucket, or a local folder standing for it (LOCAL_S3_ROOT wins when set). */
  GROUND_TRUTH_BUCKET: z.string().min(3).optional(),
  LOCAL_S3_ROOT: z.string().min(1).optional(),
  /** An S3-compatible endpoint (s3rver, MinIO) instead of AWS's own. */
  S3_ENDPOINT: z.url().optional(),
  /** The pointer object naming the current ground-truth version. */
  GROUND_TRUTH_LATEST_KEY: z.string().min(1).default('ground-truth/LATEST'),
  GROUND_TRUTH_CACHE_TTL: envDuration('15m'),

  /** CloudWatch embedded metric format lines on stdout. */
  EMF_ENABLED: envBoolean(true),
  EMF_NAMESPACE: z.string().min(1).default('Stratus/EvalMetrics'),
});

export type EvalMetricsSettings = z.output<typeof evalMetricsSettings>;
