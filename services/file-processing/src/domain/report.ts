import type { CsvProfile } from './profile.js';
import type { RuleResult } from './rule-evaluation.js';

/** The object a job profiles. */
export interface SourceObject {
  bucket: string;
  key: string;
  size?: number;
  eTag?: string;
  versionId?: string;
}

export interface DataQualityReport {
  reportVersion: 1;
  jobId: string;
  source: SourceObject;
  /** Null when no ruleset applies to the key: the report is then a profile only. */
  ruleset: { name: string; prefix: string } | null;
  profile: CsvProfile;
  rules: RuleResult[];
  summary: { rulesPassed: number; rulesFailed: number; outcome: 'passed' | 'failed' | 'no_rules' };
  startedAt: string;
  finishedAt: string;
  durationMs: number;
}

/** The metrics a finished job records (and that reach OpenSearch with it). */
export interface DataQualityJobMetrics {
  rows: number;
  bytes: number;
  columns: number;
  rules_passed: number;
  rules_failed: number;
  malformed_rows: number;
  duration_ms: number;
}

export function buildReport(input: {
  jobId: string;
  source: SourceObject;
  ruleset: { name: string; prefix: string } | null;
  profile: CsvProfile;
  rules: RuleResult[];
  startedAt: Date;
  finishedAt: Date;
}): DataQualityReport {
  const rulesPassed = input.rules.filter((rule) => rule.outcome === 'passed').length;
  const rulesFailed = input.rules.length - rulesPassed;
  return {
    reportVersion: 1,
    jobId: input.jobId,
    source: input.source,
    ruleset: input.ruleset,
    profile: input.profile,
    rules: input.rules,
    summary: {
      rulesPassed,
      rulesFailed,
      outcome: input.rules.length === 0 ? 'no_rules' : rulesFailed === 0 ? 'passed' : 'failed',
    },
    startedAt: input.startedAt.toISOString(),
    finishedAt: input.finishedAt.toISOString(),
    durationMs: input.finishedAt.getTime() - input.startedAt.getTime(),
  };
}

export function metricsOf(report: DataQualityReport): DataQualityJobMetrics {
  return {
    rows: report.profile.rowCount,
    bytes: report.profile.bytes,
    columns: report.profile.columnCount,
    rules_passed: report.summary.rulesPassed,
    rules_failed: report.summary.rulesFailed,
    malformed_rows: report.profile.malformedRowCount,
    duration_ms: report.durationMs,
  };
}

/**
 * Where a report goes: `<resultsPrefix><source key>/<job id>.json` in the results bucket, so each run
 * of the same object keeps its own report and a listing by key shows its history.
 */
export function reportKeyFor(resultsPrefix: string, source: SourceObject, jobId: string): string {
  const prefix = resultsPrefix === '' || resultsPrefix.endsWith('/') ? resultsPrefix : `${resultsPrefix}/`;
  return `${prefix}${source.key}/${jobId}.json`;
}
