import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createLogger, loadSettings } from '@stratus/core';
import type { Database } from '@stratus/jobs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createFileProcessingService,
  type FileProcessingService,
} from '../src/app/file-processing-service.js';
import { fileProcessingSettings } from '../src/config/settings.js';
import { RulesetCatalog } from '../src/domain/ruleset-selection.js';
import { createTestJobStore, openTestDatabase, type TestJobStore } from './job-store-fixture.js';

const logger = createLogger(
  { SERVICE_NAME: 'file-processing', ENVIRONMENT: 'test', LOG_LEVEL: 'silent' },
  { destination: new Writable({ write: (_chunk, _encoding, done) => done() }) },
);
const BUCKET = 'uploads';
const RULESETS = new RulesetCatalog([
  { name: 'people', prefix: 'people/', dqdl: 'Rules = [ RowCount = 2, IsComplete "name" ]' },
]);

let db: Database;
let jobs: TestJobStore;
let root: string;

async function startService(
  env: Record<string, string>,
): Promise<{ app: FileProcessingService; url: string }> {
  const settings = loadSettings(fileProcessingSettings, {
    envFile: false,
    env: {
      PORT: '0',
      LOG_LEVEL: 'silent',
      SNS_TOPIC_ARN_ALLOWLIST: 'arn:aws:sns:us-east-1:123456789012:uploads',
      LOCAL_S3_ROOT: root,
      AWS_REGION: 'us-east-1',
      ...env,
    },
  });
  const app = await createFileProcessingService({
    settings,
    jobs: jobs.store,
    jobQueries: jobs.store,
    rulesets: RULESETS,
    logger,
  });
  return { app, url: await app.service.listen() };
}

beforeAll(async () => {
  db = await openTestDatabase();
  jobs = await createTestJobStore(db);
  root = await mkdtemp(join(tmpdir(), 'fp-job-api-'));
  await mkdir(join(root, BUCKET, 'people'), { recursive: true });
  await writeFile(join(root, BUCKET, 'people', 'a.csv'), 'id,name\n1,ada\n2,\n');
}, 60_000);

afterAll(async () => {
  await jobs?.drop();
  await db?.close();
  await rm(root, { recursive: true, force: true });
});

describe('the job API (JOBS_API_ENABLED)', () => {
  let service: { app: FileProcessingService; url: string };
  const source = { bucket: BUCKET, key: 'people/a.csv' };

  beforeAll(async () => {
    service = await startService({ JOBS_API_ENABLED: 'true' });
    await jobs.store.create({ id: 'job-done', type: 's3-data-quality', input: { source } });
    await service.app.runner.run(jobs.store, 'job-done', source);
    await jobs.store.create({ id: 'job-pending', type: 's3-data-quality', input: { source } });
  }, 60_000);
  afterAll(() => service.app.service.close());

  it('lists jobs newest first, with their status and metrics', async () => {
    const response = await fetch(`${service.url}/jobs?limit=10`);
    expect(response.status).toBe(200);
    const { jobs: listed } = (await response.json()) as {
      jobs: { id: string; status: string; metrics: unknown }[];
    };
    expect(listed.map((job) => [job.id, job.status])).toEqual([
      ['job-pending', 'Pending'],
      ['job-done', 'Done'],
    ]);
    expect(listed[1]?.metrics).toMatchObject({ counters: { rows: 2, rules_passed: 1, rules_failed: 1 } });
  });

  it('filters by status and bounds the page', async () => {
    const done = (await (await fetch(`${service.url}/jobs?status=Done`)).json()) as {
      jobs: { id: string }[];
    };
    expect(done.jobs.map((job) => job.id)).toEqual(['job-done']);
    const one = (await (await fetch(`${service.url}/jobs?limit=1`)).json()) as { jobs: unknown[] };
    expect(one.jobs).toHaveLength(1);
  });

  it('serves the report a Done job wrote', async () => {
    const response = await fetch(`${service.url}/jobs/job-done/report`);
    expect(response.status).toBe(200);
    const report = (await response.json()) as { jobId: string; summary: unknown };
    expect(report.jobId).toBe('job-done');
    expect(report.summary).toEqual({ rulesPassed: 1, rulesFailed: 1, outcome: 'failed' });
  });

  it('answers 404 with a stable code for an unknown job and for a job with no report yet', async () => {
    const unknown = await fetch(`${service.url}/jobs/nope`);
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe('job_not_found');
    const pending = await fetch(`${service.url}/jobs/job-pending/report`);
    expect(pending.status).toBe(404);
    expect(((await pending.json()) as { error: { code: string; message: string } }).error).toMatchObject({
      code: 'report_not_found',
      message: expect.stringContaining('Pending'),
    });
  });

  it('refuses a bad status or page size with 400 naming the field', async () => {
    for (const query of ['status=Finished', 'limit=0', 'limit=5000', 'limit=ten']) {
      const response = await fetch(`${service.url}/jobs?${query}`);
      expect(response.status, query).toBe(400);
      const { error } = (await response.json()) as { error: { code: string; message: string } };
      expect(error.code).toBe('validation_failed');
      expect(error.message).toMatch(query.startsWith('status') ? /status/ : /limit/);
    }
  });

  it('is off unless JOBS_API_ENABLED: the listener may face the internet', async () => {
    const closed = await startService({});
    try {
      expect((await fetch(`${closed.url}/jobs`)).status).toBe(404);
      expect((await fetch(`${closed.url}/jobs/job-done`)).status).toBe(404);
    } finally {
      await closed.app.service.close();
    }
  });
});
