import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { JobStore, migrate, openDatabase } from '@stratus/jobs';
import { OpenSearchPeer } from '@stratus/test-peers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_JOB_FAILED, EXIT_OK, EXIT_USAGE, main } from '../src/cli.js';

const BUCKET = 'uploads';
const KEY = 'from_client/nm_albuquerque/Officer Detail.csv';

function s3Event(key: string): string {
  return JSON.stringify({
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: 'us-east-1',
        eventTime: '2026-11-25T12:00:00.000Z',
        eventName: 'ObjectCreated:Put',
        s3: {
          s3SchemaVersion: '1.0',
          bucket: { name: BUCKET },
          object: { key: encodeURIComponent(key).replace(/%20/g, '+') },
        },
      },
    ],
  });
}

let root: string;
let env: Record<string, string>;

async function runCli(argv: string[], extraEnv: Record<string, string> = {}) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (chunk: Buffer) => out.push(chunk));
  stderr.on('data', (chunk: Buffer) => err.push(chunk));
  const code = await main(argv, { env: { ...env, ...extraEnv }, stdout, stderr, stdin: Readable.from([]) });
  return { code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'fp-cli-'));
  await mkdir(join(root, 's3', BUCKET, 'from_client/nm_albuquerque'), { recursive: true });
  await writeFile(join(root, 's3', BUCKET, KEY), 'officer_id,name\n1,Ann\n2,Bo\n2,Bo\n');
  await writeFile(
    join(root, 'rulesets.json'),
    JSON.stringify([
      {
        name: 'abq',
        prefix: 'from_client/nm_albuquerque/',
        dqdl: 'Rules = [ RowCount = 3, IsUnique "officer_id" ]',
      },
    ]),
  );
  env = {
    LOG_LEVEL: 'silent',
    LOCAL_S3_ROOT: join(root, 's3'),
    DQ_RULESETS_FILE: join(root, 'rulesets.json'),
    DQ_TEMP_DIR: root,
  };
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('stratus-file-processing CLI', () => {
  it('prints help and exits 0', async () => {
    const { code, stdout } = await runCli(['--help']);
    expect(code).toBe(EXIT_OK);
    expect(stdout).toMatch(/run s3-data-quality/);
  });

  it('--dry-run prints the report, writes nothing, and accepts the original job name', async () => {
    for (const name of ['s3-data-quality', 's3_data_quality_job']) {
      const { code, stdout } = await runCli(['run', name, '--dry-run', '--event-json', s3Event(KEY)]);
      expect(code).toBe(EXIT_OK);
      const report = JSON.parse(stdout);
      expect(report.source).toMatchObject({ bucket: BUCKET, key: KEY });
      expect(report.profile).toMatchObject({ rowCount: 3, duplicateRowCount: 1 });
      expect(report.rules.map((rule: { outcome: string }) => rule.outcome)).toEqual(['passed', 'failed']);
    }
    expect(await readdir(join(root, 's3', BUCKET))).toEqual(['from_client']);
  });

  it('reads events from a file, SNS envelopes included', async () => {
    const file = join(root, 'events.json');
    await writeFile(
      file,
      JSON.stringify([{ Type: 'Notification', MessageId: 'm-1', Message: s3Event(KEY) }]),
    );
    const { code, stdout } = await runCli(['run', 's3-data-quality', '--dry-run', '--events-file', file]);
    expect(code).toBe(EXIT_OK);
    expect(JSON.parse(stdout).jobId).toBe('dq-m-1-0');
  });

  it('exits 1 when the job cannot be done (the object is missing)', async () => {
    const { code, stderr } = await runCli([
      'run',
      's3-data-quality',
      '--dry-run',
      '--event-json',
      s3Event('nope.csv'),
    ]);
    expect(code).toBe(EXIT_JOB_FAILED);
    expect(stderr).toMatch(/does not exist/);
  });

  it.each([
    [['run', 's3-data-quality'], /exactly one of --event-json or --events-file/],
    [['run', 's3-data-quality', '--event-json', '{"Records": "x"}'], /Invalid S3 event: Records/],
    [['run', 's3-data-quality', '--event-json', 'nope'], /not JSON/],
    [['run', 's3-data-quality', '--events-file', '/does/not/exist.json'], /cannot read --events-file/],
    [['frobnicate'], /unknown command/],
  ])('exits 2 on bad usage: %j', async (argv, message) => {
    const { code, stderr } = await runCli(argv);
    expect(code).toBe(EXIT_USAGE);
    expect(stderr).toMatch(message);
  });

  it('exits 2 on bad settings and on a bad ruleset, naming the problem', async () => {
    const badSetting = await runCli(['run', 's3-data-quality', '--dry-run', '--event-json', s3Event(KEY)], {
      DQ_DUCKDB_MEMORY_LIMIT: 'lots',
    });
    expect(badSetting.code).toBe(EXIT_USAGE);
    expect(badSetting.stderr).toMatch(/DQ_DUCKDB_MEMORY_LIMIT/);
    const rulesets = join(root, 'bad-rulesets.json');
    await writeFile(rulesets, JSON.stringify([{ name: 'broken', prefix: '', dqdl: 'Rules = [ RowCount ]' }]));
    const badRuleset = await runCli(['run', 's3-data-quality', '--dry-run', '--event-json', s3Event(KEY)], {
      DQ_RULESETS_FILE: rulesets,
    });
    expect(badRuleset.code).toBe(EXIT_USAGE);
    expect(badRuleset.stderr).toMatch(/Ruleset "broken": Invalid DQDL at line 1, column 20 \(rule 1\)/);
  });

  it('runs the job for real: job Done, report written, final metrics delivered to OpenSearch', async () => {
    const openSearch = await new OpenSearchPeer({ kind: 'sigv4' }).start();
    // The SDK's credential chain reads the process environment, as it would in a pod.
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    process.env.AWS_ACCESS_KEY_ID = openSearch.defaultCredentials.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = openSearch.defaultCredentials.secretAccessKey;
    try {
      const { code, stdout } = await runCli(['run', 's3-data-quality', '--event-json', s3Event(KEY)], {
        OPENSEARCH_URL: openSearch.url,
        AWS_REGION: openSearch.region,
      });
      expect(code).toBe(EXIT_OK);
      const result = JSON.parse(stdout) as {
        jobId: string;
        status: string;
        report: string;
        summary: unknown;
      };
      expect(result).toMatchObject({ status: 'Done', summary: { rulesPassed: 1, rulesFailed: 1 } });
      const reportPath = join(root, 's3', BUCKET, 'dq-results', KEY, `${result.jobId}.json`);
      expect(result.report).toBe(`s3://${BUCKET}/dq-results/${KEY}/${result.jobId}.json`);
      expect(JSON.parse(await readFile(reportPath, 'utf8')).jobId).toBe(result.jobId);
      expect(openSearch.document('job-metrics', result.jobId)?.source).toMatchObject({
        status: 'Done',
        job_type: 's3-data-quality',
        counters: { rows: 3, rules_passed: 1, rules_failed: 1 },
      });
    } finally {
      process.env.AWS_ACCESS_KEY_ID = saved.id;
      process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
      if (saved.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
      if (saved.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
      await openSearch.stop();
    }
  }, 180_000);

  it('a retried Kubernetes pod resumes the job its crashed predecessor left Running; another owner is refused', async () => {
    const jobsDir = join(root, 'jobs-resume');
    const jobId = 'dq-resume-0';
    // The first pod of the Kubernetes Job (owner = the Job's uid) started the job, then crashed.
    const db = await openDatabase({ dataDir: jobsDir });
    await migrate(db, 'stratus_jobs');
    const store = new JobStore(db);
    await store.create({
      id: jobId,
      type: 's3-data-quality',
      input: { source: { bucket: BUCKET, key: KEY } },
    });
    await store.start(jobId, { owner: 'job-uid-1' });
    await db.close();
    const argv = ['run', 's3-data-quality', '--job-id', jobId, '--event-json', s3Event(KEY)];

    const other = await runCli(argv, { JOBS_DATA_DIR: jobsDir, JOB_OWNER: 'job-uid-2' });
    expect(other.code).toBe(EXIT_JOB_FAILED);
    expect(JSON.parse(other.stdout)).toMatchObject({
      jobId,
      status: 'NotStarted',
      error: { code: 'illegal_job_transition' },
    });

    const retried = await runCli(argv, { JOBS_DATA_DIR: jobsDir, JOB_OWNER: 'job-uid-1' });
    expect(retried.code).toBe(EXIT_OK);
    expect(JSON.parse(retried.stdout)).toMatchObject({ jobId, status: 'Done' });
    const reopened = await openDatabase({ dataDir: jobsDir });
    try {
      expect(await new JobStore(reopened).get(jobId)).toMatchObject({
        status: 'Done',
        attempts: 2,
        owner: 'job-uid-1',
      });
    } finally {
      await reopened.close();
    }
  }, 180_000);
});
