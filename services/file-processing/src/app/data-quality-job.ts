import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ObjectReader } from '@stratus/aws/objects';
import { isServiceError, type Logger, withLogContext } from '@stratus/core';
import type { DuckDbProfilerOptions } from '../adapters/duckdb-profiler.js';
import { profileCsvFile } from '../adapters/duckdb-profiler.js';
import { type ReportStore, spoolObject } from '../adapters/report-store.js';
import { measurementRequestsFor } from '../domain/profile.js';
import {
  buildReport,
  type DataQualityReport,
  metricsOf,
  reportKeyFor,
  type SourceObject,
} from '../domain/report.js';
import { evaluateRuleset } from '../domain/rule-evaluation.js';
import type { RulesetCatalog } from '../domain/ruleset-selection.js';

export const DATA_QUALITY_JOB_TYPE = 's3-data-quality';

/** The input a data-quality job record carries: the object to profile. */
export interface DataQualityJobInput extends Record<string, unknown> {
  source: SourceObject;
}

/**
 * The slice of @stratus/jobs' JobStore the job uses: every state change is one commit there, and the
 * commit that ends a job enqueues its final metrics for OpenSearch.
 */
export interface DataQualityJobStore {
  create(draft: { id: string; type: string; input?: Record<string, unknown> }): Promise<unknown>;
  get(id: string): Promise<{ status: string }>;
  start(id: string, options?: { owner?: string }): Promise<unknown>;
  complete(
    id: string,
    metrics?: { counters?: Record<string, number>; durationsMs?: Record<string, number> },
  ): Promise<unknown>;
  fail(
    id: string,
    error: { code: string; message: string },
    metrics?: { counters?: Record<string, number>; durationsMs?: Record<string, number> },
  ): Promise<unknown>;
}

export interface DataQualityRunnerOptions {
  objects: ObjectReader;
  reports: ReportStore;
  rulesets: RulesetCatalog;
  profiler: DuckDbProfilerOptions;
  /** Reports go to this bucket; default the source object's bucket. */
  resultsBucket?: string;
  resultsPrefix: string;
  logger: Logger;
  now?: () => Date;
}

export type DataQualityOutcome =
  | { status: 'Done'; report: DataQualityReport; reportLocation: string | null }
  | { status: 'Failed'; error: { code: string; message: string } };

/** Runs data-quality checks on one object: download, profile, evaluate the ruleset, write the report. */
export class DataQualityRunner {
  private readonly now: () => Date;

  constructor(private readonly options: DataQualityRunnerOptions) {
    this.now = options.now ?? (() => new Date());
  }

  /** The report for one object; with `dryRun` nothing is written anywhere. */
  async check(
    jobId: string,
    source: SourceObject,
    { dryRun = false } = {},
  ): Promise<{ report: DataQualityReport; reportLocation: string | null }> {
    const startedAt = this.now();
    const workDirectory = await mkdtemp(join(this.options.profiler.tempRoot, 'dq-job-'));
    try {
      const spooled = join(workDirectory, 'object.csv');
      const downloaded = await spoolObject(this.options.objects, source.bucket, source.key, spooled);
      const selected = this.options.rulesets.select(source.bucket, source.key);
      const ruleset = selected?.ruleset ?? { rules: [] };
      const profile = await profileCsvFile(spooled, measurementRequestsFor(ruleset), this.options.profiler);
      const report = buildReport({
        jobId,
        source: {
          ...source,
          size: downloaded.size,
          ...(downloaded.eTag ? { eTag: downloaded.eTag } : {}),
        },
        ruleset: selected ? { name: selected.name, prefix: selected.prefix } : null,
        profile,
        rules: evaluateRuleset(ruleset, profile),
        startedAt,
        finishedAt: this.now(),
      });
      if (dryRun) return { report, reportLocation: null };
      const bucket = this.options.resultsBucket ?? source.bucket;
      const key = reportKeyFor(this.options.resultsPrefix, source, jobId);
      await this.options.reports.putJson(bucket, key, report);
      return { report, reportLocation: `s3://${bucket}/${key}` };
    } finally {
      await rm(workDirectory, { recursive: true, force: true });
    }
  }

  /**
   * Runs a job already created Pending in the store: Running, then Done with the report's metrics or
   * Failed with the reason. Resolves either way; only a failure of the store itself rejects, or a job
   * that cannot be started (already Running under another owner, or ended). With `owner`, a job left
   * Running by the same owner (a crashed pod of the same Kubernetes Job) is resumed.
   */
  async run(
    jobs: DataQualityJobStore,
    jobId: string,
    source: SourceObject,
    options: { owner?: string } = {},
  ): Promise<DataQualityOutcome> {
    return withLogContext({ job_id: jobId }, async () => {
      const log = this.options.logger.child({ component: 'data-quality-job' });
      await jobs.start(jobId, options);
      log.info({ event: 'job_started', bucket: source.bucket, key: source.key }, 'data-quality job started');
      const startedAt = this.now().getTime();
      let outcome: DataQualityOutcome;
      try {
        const { report, reportLocation } = await this.check(jobId, source);
        outcome = { status: 'Done', report, reportLocation };
      } catch (error) {
        outcome = { status: 'Failed', error: failureOf(error) };
      }
      if (outcome.status === 'Done') {
        const { duration_ms, ...counters } = metricsOf(outcome.report);
        await jobs.complete(jobId, { counters, durationsMs: { total: duration_ms } });
        log.info(
          { event: 'job_done', report: outcome.reportLocation, ...counters, duration_ms },
          'data-quality job done',
        );
      } else {
        await jobs.fail(jobId, outcome.error, { durationsMs: { total: this.now().getTime() - startedAt } });
        log.warn({ event: 'job_failed', error: outcome.error }, 'data-quality job failed');
      }
      return outcome;
    });
  }
}

/** A stable code and a message for the job record; unknown errors keep their message, not their stack. */
export function failureOf(error: unknown): { code: string; message: string } {
  if (isServiceError(error)) return { code: error.code, message: error.message };
  const message = error instanceof Error ? error.message : String(error);
  if (/^(Invalid Input|IO|Conversion|Parser) Error/.test(message))
    return { code: 'csv_unreadable', message: message.split('\n')[0] as string };
  return { code: 'job_error', message: message.split('\n')[0] as string };
}
