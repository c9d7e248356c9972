import { loadSettings } from '@stratus/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { finalMetricsDocument } from '../src/domain/final-metrics-document.js';
import {
  completeJob,
  entersTerminalState,
  failJob,
  IllegalJobTransitionError,
  type Job,
  jobStatuses,
  newJob,
  startJob,
} from '../src/domain/job.js';
import { retryDelayMs } from '../src/domain/retry-backoff.js';
import { terminalJobWrites } from '../src/firestore/terminal-job-writes.js';
import { finalMetricsSettings, jobStoreSettings } from '../src/settings.js';

const t0 = new Date('2026-11-25T10:00:00Z');
const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000);

describe('job transitions', () => {
  it('only Pending -> Running -> Done | Failed is allowed, whatever sequence is tried', () => {
    const moves = {
      start: (job: Job) => startJob(job, at(1)),
      complete: (job: Job) => completeJob(job, {}, at(2)),
      fail: (job: Job) => failJob(job, { code: 'x', message: 'y' }, {}, at(2)),
    };
    const allowed: Record<string, string[]> = {
      Pending: ['start'],
      Running: ['complete', 'fail'],
      Done: [],
      Failed: [],
    };
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('start', 'complete', 'fail') as fc.Arbitrary<keyof typeof moves>),
        (steps) => {
          let job = newJob({ id: 'j', type: 'csv' }, t0);
          for (const step of steps) {
            if (allowed[job.status]!.includes(step)) job = moves[step](job);
            else expect(() => moves[step](job)).toThrow(IllegalJobTransitionError);
          }
          expect(jobStatuses).toContain(job.status);
        },
      ),
    );
  });

  it('entering a terminal state is detected once', () => {
    const running = startJob(newJob({ id: 'j', type: 'csv' }, t0), at(1));
    const done = completeJob(running, {}, at(2));
    expect(entersTerminalState({ before: running, after: done })).toBe(true);
    expect(entersTerminalState({ before: done, after: { ...done, version: done.version + 1 } })).toBe(false);
    expect(entersTerminalState({ before: null, after: running })).toBe(false);
  });

  it('the metrics document carries the duration and the error', () => {
    const running = startJob(newJob({ id: 'j-1', type: 'csv' }, t0), at(1));
    const failed = failJob(running, { code: 'bad', message: 'broken' }, { counters: { rows: 4 } }, at(3.5));
    expect(finalMetricsDocument(failed)).toEqual({
      job_id: 'j-1',
      job_type: 'csv',
      status: 'Failed',
      attempts: 1,
      created_at: t0.toISOString(),
      started_at: at(1).toISOString(),
      finished_at: at(3.5).toISOString(),
      duration_ms: 2500,
      counters: { rows: 4 },
      durations_ms: {},
      error_code: 'bad',
      error_message: 'broken',
    });
  });
});

describe('retry backoff', () => {
  it('grows exponentially with jitter between half and all of the step, and never passes the cap', () => {
    const policy = { baseMs: 100, maxMs: 5_000 };
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 200 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (attempt, r) => {
          const step = Math.min(policy.maxMs, 100 * 2 ** (attempt - 1));
          const delay = retryDelayMs(attempt, policy, () => r);
          expect(delay).toBeGreaterThanOrEqual(Math.floor(step / 2));
          expect(delay).toBeLessThanOrEqual(step);
        },
      ),
    );
  });
});

describe('terminal job writes in a Commit request', () => {
  const name = (path: string) => `projects/p/databases/(default)/documents/${path}`;
  const status = (value: string) => ({ status: { stringValue: value } });

  it('finds job documents whose status a write sets to Done or Failed', () => {
    expect(
      terminalJobWrites(
        {
          writes: [
            { update: { name: name('jobs/a'), fields: status('Done') } },
            {
              update: { name: name('jobs/b'), fields: status('Failed') },
              updateMask: { fieldPaths: ['status'] },
            },
            { update: { name: name('jobs/c'), fields: status('Running') } },
            {
              update: { name: name('jobs/d'), fields: status('Done') },
              updateMask: { fieldPaths: ['metricsFinalizedAt'] },
            },
            { update: { name: name('other/e'), fields: status('Done') } },
            { update: { name: name('jobs/f/runs/1'), fields: status('Done') } },
            { update: { name: name('jobs/g'), fields: { status: { integerValue: 3 } } } },
            { update: { name: name('jobs/h'), fields: status('done') } },
          ],
        },
        'jobs',
      ),
    ).toEqual(['jobs/a', 'jobs/b']);
  });

  it('honours a nested collection path', () => {
    const request = { writes: [{ update: { name: name('tenants/acme/jobs/a'), fields: status('Done') } }] };
    expect(terminalJobWrites(request, 'tenants/acme/jobs')).toEqual(['tenants/acme/jobs/a']);
    expect(terminalJobWrites(request, 'jobs')).toEqual([]);
  });
});

describe('settings', () => {
  it('defaults to embedded PGlite in memory and the job-metrics index', () => {
    const settings = loadSettings(jobStoreSettings.extend(finalMetricsSettings.shape), {
      env: {},
      envFile: false,
    });
    expect(settings.DATABASE_URL).toBeUndefined();
    expect(settings).toMatchObject({
      JOBS_DB_SCHEMA: 'stratus_jobs',
      FINAL_METRICS_INDEX: 'job-metrics',
    });
  });

  it('names each bad variable, and prints the database URL redacted', () => {
    expect(() =>
      loadSettings(jobStoreSettings.extend(finalMetricsSettings.shape), {
        env: {
          DATABASE_URL: 'mysql://x',
          JOBS_DB_SCHEMA: 'Bad-Schema',
          FINAL_METRICS_INDEX: 'UPPER',
          FINAL_METRICS_BATCH_SIZE: '0',
        },
        envFile: false,
      }),
    ).toThrow(/DATABASE_URL[\s\S]*JOBS_DB_SCHEMA[\s\S]*FINAL_METRICS_INDEX[\s\S]*FINAL_METRICS_BATCH_SIZE/);
    const settings = loadSettings(jobStoreSettings, {
      env: { DATABASE_URL: 'postgres://app:hunter2@db:5432/jobs' },
      envFile: false,
    });
    expect(JSON.stringify(settings)).not.toContain('hunter2');
  });
});
