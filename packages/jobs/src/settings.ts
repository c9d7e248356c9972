import { envInteger, secret } from '@stratus/core';
import { z } from 'zod';

/**
 * The job store's settings group, keyed by environment variable. Without DATABASE_URL the store is
 * embedded PGlite: in JOBS_DATA_DIR, or in memory when that is unset too.
 */
export const jobStoreSettings = z.object({
  DATABASE_URL: secret(
    z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
      .optional(),
  ),
  JOBS_DATA_DIR: z.string().min(1).optional(),
  /** A PGlite data folder dump (gzip) a new JOBS_DATA_DIR starts from instead of running initdb. */
  PGLITE_TEMPLATE: z.string().min(1).optional(),
  JOBS_DB_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be lower-case letters, digits and _')
    .default('stratus_jobs'),
  JOBS_DB_MAX_CONNECTIONS: envInteger(10, 1, 1000),
});

/** Where final metrics go and how the relay paces itself. */
export const finalMetricsSettings = z.object({
  FINAL_METRICS_INDEX: z
    .string()
    .regex(/^[a-z0-9][a-z0-9._-]{0,254}$/, 'must be a lower-case OpenSearch index or alias name')
    .default('job-metrics'),
  FINAL_METRICS_BATCH_SIZE: envInteger(500, 1, 10_000),
  FINAL_METRICS_POLL_INTERVAL_MS: envInteger(1_000, 10),
  FINAL_METRICS_LEASE_MS: envInteger(60_000, 1_000),
  FINAL_METRICS_RECONCILE_INTERVAL_MS: envInteger(300_000, 1_000),
  FINAL_METRICS_RETRY_BASE_MS: envInteger(1_000, 1),
  FINAL_METRICS_RETRY_MAX_MS: envInteger(300_000, 1),
});

export type JobStoreSettings = z.output<typeof jobStoreSettings>;
export type FinalMetricsSettings = z.output<typeof finalMetricsSettings>;
