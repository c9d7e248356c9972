import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { Agent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createOpenSearchClient, s3ObjectCreatedEvent } from '@stratus/aws';
import { createLogger, loadSettings } from '@stratus/core';
import { type Database, FinalMetricsRelay, type JobStore, OpenSearchFinalMetricsSink } from '@stratus/jobs';
import { OpenSearchPeer, SnsDeliveryPeer } from '@stratus/test-peers';
import S3rver from 's3rver';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createFileProcessingService,
  type FileProcessingService,
} from '../src/app/file-processing-service.js';
import type { InProcessDispatcher } from '../src/app/in-process-dispatcher.js';
import { fileProcessingSettings } from '../src/config/settings.js';
import { RulesetCatalog } from '../src/domain/ruleset-selection.js';
import { createTestJobStore, openTestDatabase } from './job-store-fixture.js';

let db: Database;
// One database for the file; opening PGlite can take long on a loaded machine.
beforeAll(async () => {
  db = await openTestDatabase();
}, 180_000);
afterAll(async () => {
  await db?.close();
});

const logger = createLogger({
  SERVICE_NAME: 'file-processing-test',
  ENVIRONMENT: 'test',
  LOG_LEVEL: 'silent',
});
const BUCKET = 'client-uploads';
const KEY = 'from_client/nm_albuquerque/Officer_Detail.csv';
const CSV = 'officer_id,name,state\n1,Ann Lee,NM\n2,Bo Chen,NM\n3,,TX\n';
const RULESETS = new RulesetCatalog([
  {
    name: 'albuquerque',
    prefix: 'from_client/nm_albuquerque/',
    dqdl: 'Rules = [ RowCount = 3, IsUnique "officer_id", IsComplete "name", ColumnValues "state" in ["NM", "TX"] ]',
  },
]);

function s3EventFor(bucket: string, key: string, size: number) {
  return JSON.stringify(s3ObjectCreatedEvent({ bucket, key, size, eTag: 'e', sequencer: '01' }));
}

interface Harness {
  app: FileProcessingService;
  url: string;
  store: JobStore;
  relay: FinalMetricsRelay;
  /** Makes every job store call fail, as an outage of our own would. */
  breakStore(): Promise<void>;
  close(): Promise<void>;
}

/** The listener with a PGlite job store, the final-metrics relay to the OpenSearch peer, and SNS. */
async function startListener(
  sns: SnsDeliveryPeer,
  openSearch: OpenSearchPeer,
  env: Record<string, string>,
  s3Config = {},
): Promise<Harness> {
  const { store, outbox, breakStore, drop } = await createTestJobStore(db);
  const relay = new FinalMetricsRelay({
    outbox,
    sink: new OpenSearchFinalMetricsSink(
      createOpenSearchClient({
        node: openSearch.url,
        region: openSearch.region,
        service: 'es',
        credentials: async () => openSearch.defaultCredentials,
        maxRetries: 0,
      }),
      { index: 'job-metrics' },
    ),
    logger,
  });
  const settings = loadSettings(fileProcessingSettings, {
    envFile: false,
    env: {
      PORT: '0',
      LOG_LEVEL: 'silent',
      SNS_TRUSTED_CERT_HOST_PATTERN: '^127\\.0\\.0\\.1$',
      SNS_TOPIC_ARN_ALLOWLIST: sns.topicArn,
      SNS_BODY_LIMIT_BYTES: '16384',
      AWS_REGION: 'us-east-1',
      ...env,
    },
  });
  const app = await createFileProcessingService({
    settings,
    jobs: store,
    rulesets: RULESETS,
    logger,
    s3Config,
    snsConfig: sns.api.clientConfig(),
    certificateAgent: new Agent({ ca: sns.certificates.tlsCertificate }),
  });
  const url = await app.service.listen();
  return {
    app,
    url,
    store,
    relay,
    breakStore,
    async close() {
      await app.service.close();
      await drop();
    },
  };
}

describe('file-processing listener, end to end over loopback', () => {
  let sns: SnsDeliveryPeer;
  let openSearch: OpenSearchPeer;
  let s3rver: S3rver;
  let s3rverDirectory: string;
  let s3: S3Client;
  let s3Port: number;
  const s3Config = () => ({
    endpoint: `http://127.0.0.1:${s3Port}`,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });

  beforeAll(async () => {
    sns = await new SnsDeliveryPeer().start();
    openSearch = await new OpenSearchPeer({ kind: 'sigv4' }).start();
    s3rverDirectory = await mkdtemp(join(tmpdir(), 'fp-s3rver-'));
    s3rver = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: s3rverDirectory });
    s3Port = (await s3rver.run()).port;
    s3 = new S3Client(s3Config());
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: KEY, Body: CSV }));
  });
  beforeEach(() => {
    // Each test starts its own listener; earlier subscriptions point at closed ones.
    sns.subscriptions.length = 0;
  });
  afterAll(async () => {
    s3?.destroy();
    await s3rver?.close();
    await sns?.stop();
    await openSearch?.stop();
    await rm(s3rverDirectory, { recursive: true, force: true });
  });

  it('with s3rver: confirms the subscription, runs the job, writes the report, delivers final metrics', async () => {
    const harness = await startListener(
      sns,
      openSearch,
      { AWS_ENDPOINT_URL_S3: s3Config().endpoint },
      s3Config(),
    );
    try {
      const confirmation = await sns.subscribe(`${harness.url}/`);
      expect(confirmation.status).toBe(200);
      expect(confirmation.subscription.confirmed).toBe(true);
      expect(sns.api.requestsFor('ConfirmSubscription')).toHaveLength(1);

      const [delivery] = await sns.publish(s3EventFor(BUCKET, KEY, CSV.length));
      expect(delivery?.status).toBe(200);
      const { jobs } = JSON.parse(delivery?.body ?? '{}') as { jobs: string[] };
      expect(jobs).toHaveLength(1);
      const jobId = jobs[0] as string;

      await (harness.app.dispatcher as InProcessDispatcher).idle();
      const job = await harness.store.get(jobId);
      expect(job.status).toBe('Done');
      expect(job.metrics.counters).toMatchObject({ rows: 3, columns: 3, rules_passed: 3, rules_failed: 1 });

      const reportObject = await s3.send(
        new GetObjectCommand({ Bucket: BUCKET, Key: `dq-results/${KEY}/${jobId}.json` }),
      );
      const report = JSON.parse(
        await (reportObject.Body as { transformToString(): Promise<string> }).transformToString(),
      );
      expect(report.ruleset).toEqual({ name: 'albuquerque', prefix: 'from_client/nm_albuquerque/' });
      expect(report.rules.find((rule: { rule: string }) => rule.rule === 'IsComplete "name"')).toMatchObject({
        outcome: 'failed',
        observed: 2 / 3,
      });

      expect(await harness.relay.drain()).toBe(1);
      const metrics = openSearch.document('job-metrics', jobId);
      expect(metrics?.source).toMatchObject({
        job_id: jobId,
        job_type: 's3-data-quality',
        status: 'Done',
        counters: { rows: 3, rules_failed: 1 },
      });

      // SNS retries the same message: no second job.
      const again = await sns.deliver(`${harness.url}/`, delivery?.envelope as Record<string, string>);
      expect(again.status).toBe(200);
      expect(JSON.parse(again.body)).toMatchObject({ jobs: [], duplicates: [jobId] });
      expect(await harness.store.list()).toHaveLength(1);
    } finally {
      await harness.close();
    }
  });

  it('with LOCAL_S3_ROOT: the same flow reads and writes the local folder', async () => {
    const root = await mkdtemp(join(tmpdir(), 'fp-local-s3-'));
    await mkdir(join(root, BUCKET, 'from_client/nm_albuquerque'), { recursive: true });
    await writeFile(join(root, BUCKET, KEY), CSV);
    const harness = await startListener(sns, openSearch, { LOCAL_S3_ROOT: root });
    try {
      expect((await sns.subscribe(`${harness.url}/`)).status).toBe(200);
      const [delivery] = await sns.publish(s3EventFor(BUCKET, KEY, CSV.length));
      expect(delivery?.status).toBe(200);
      const jobId = (JSON.parse(delivery?.body ?? '{}') as { jobs: string[] }).jobs[0] as string;
      await (harness.app.dispatcher as InProcessDispatcher).idle();
      expect((await harness.store.get(jobId)).status).toBe('Done');
      const report = JSON.parse(
        await readFile(join(root, BUCKET, 'dq-results', KEY, `${jobId}.json`), 'utf8'),
      );
      expect(report.profile).toMatchObject({ rowCount: 3, columnCount: 3 });
      expect(await harness.relay.drain()).toBe(1);
      expect(openSearch.document('job-metrics', jobId)?.source).toMatchObject({ status: 'Done' });
    } finally {
      await harness.close();
      await rm(root, { recursive: true, force: true });
    }
  });

  it('concurrent deliveries: each 200 names a committed job; a MessageId delivered three times at once creates one', async () => {
    // An empty bucket folder: the jobs fail fast on the missing objects, which is not what is tested here.
    const root = await mkdtemp(join(tmpdir(), 'fp-concurrent-'));
    const harness = await startListener(sns, openSearch, { LOCAL_S3_ROOT: root });
    try {
      const envelopes = Array.from({ length: 20 }, (_, index) =>
        sns.notification(s3EventFor(BUCKET, `from_client/batch/file-${index}.csv`, 10)),
      );
      const deliveries = [...envelopes, envelopes[0], envelopes[0]] as Record<string, string>[];
      const answers = await Promise.all(
        deliveries.map((envelope) => sns.deliver(`${harness.url}/`, envelope)),
      );
      expect(answers.map((answer) => answer.status)).toEqual(deliveries.map(() => 200));
      const bodies = answers.map(
        (answer) => JSON.parse(answer.body) as { jobs: string[]; duplicates: string[] },
      );
      const created = bodies.flatMap((body) => body.jobs);
      expect(new Set(created).size).toBe(20);
      expect(created).toHaveLength(20);
      expect(bodies.flatMap((body) => body.duplicates)).toHaveLength(2);
      expect((await harness.store.list()).map((job) => job.id).sort()).toEqual([...created].sort());
      await (harness.app.dispatcher as InProcessDispatcher).idle();
    } finally {
      await harness.close();
      await rm(root, { recursive: true, force: true });
    }
  });

  it('records a job Failed with the reason when the object is missing, and its final metrics', async () => {
    const root = await mkdtemp(join(tmpdir(), 'fp-local-s3-'));
    const harness = await startListener(sns, openSearch, { LOCAL_S3_ROOT: root });
    try {
      await sns.subscribe(`${harness.url}/`);
      const [delivery] = await sns.publish(s3EventFor(BUCKET, 'from_client/missing.csv', 10));
      const jobId = (JSON.parse(delivery?.body ?? '{}') as { jobs: string[] }).jobs[0] as string;
      await (harness.app.dispatcher as InProcessDispatcher).idle();
      const job = await harness.store.get(jobId);
      expect(job).toMatchObject({ status: 'Failed', error: { code: 'object_not_found' } });
      expect(await harness.relay.drain()).toBe(1);
      expect(openSearch.document('job-metrics', jobId)?.source).toMatchObject({
        status: 'Failed',
        error_code: 'object_not_found',
      });
    } finally {
      await harness.close();
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe('file-processing listener refuses bad deliveries and creates nothing', () => {
  let sns: SnsDeliveryPeer;
  let openSearch: OpenSearchPeer;
  let harness: Harness;
  let root: string;
  let endpoint: string;

  beforeAll(async () => {
    sns = await new SnsDeliveryPeer().start();
    openSearch = await new OpenSearchPeer({ kind: 'sigv4' }).start();
    root = await mkdtemp(join(tmpdir(), 'fp-refusals-'));
    harness = await startListener(sns, openSearch, { LOCAL_S3_ROOT: root });
    endpoint = `${harness.url}/`;
  });
  afterAll(async () => {
    await harness?.close();
    await sns?.stop();
    await openSearch?.stop();
    await rm(root, { recursive: true, force: true });
  });

  const event = () => s3EventFor(BUCKET, KEY, 10);
  const errorOf = (body: string) => (JSON.parse(body) as { error: { code: string } }).error.code;

  it.each([
    [
      'a forged signature',
      () => ({ ...sns.notification(event()), Message: event().replace('Officer', 'Forged') }),
      {},
      403,
      'sns_signature_invalid',
    ],
    [
      'a certificate on an untrusted host',
      () =>
        sns.notification(event(), {
          SigningCertURL: 'https://sns.evil.example.com/SimpleNotificationService-0a1b.pem',
        }),
      {},
      403,
      'sns_cert_url_untrusted',
    ],
    [
      'an old timestamp',
      () => sns.notification(event(), { Timestamp: new Date(Date.now() - 3 * 3600_000).toISOString() }),
      {},
      403,
      'sns_message_expired',
    ],
    [
      'an unknown topic',
      () => sns.notification(event(), { TopicArn: 'arn:aws:sns:us-east-1:123456789012:someone-else' }),
      {},
      403,
      'sns_topic_not_allowed',
    ],
    [
      'a type header that disagrees with the body',
      () => sns.notification(event()),
      { 'x-amz-sns-message-type': 'SubscriptionConfirmation' },
      400,
      'sns_message_type_mismatch',
    ],
    [
      'no type header',
      () => sns.notification(event()),
      { 'x-amz-sns-message-type': '' },
      400,
      'sns_message_type_missing',
    ],
    [
      'a signed message that is not an S3 event',
      () => sns.notification('{"hello":"world"}'),
      {},
      400,
      'invalid_event',
    ],
  ])('%s', async (_name, envelope, headers, status, code) => {
    const answer = await sns.deliver(endpoint, envelope(), headers);
    expect(answer.status).toBe(status);
    expect(errorOf(answer.body)).toBe(code);
    expect(await harness.store.list()).toEqual([]);
  });

  it('a body that is not JSON', async () => {
    const response = await fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'text/plain; charset=UTF-8', 'x-amz-sns-message-type': 'Notification' },
      body: 'Records: not json',
    });
    expect(response.status).toBe(400);
    expect(errorOf(await response.text())).toBe('sns_message_malformed');
    expect(await harness.store.list()).toEqual([]);
  });

  it('a body over the size limit', async () => {
    const envelope = sns.notification(JSON.stringify({ padding: 'x'.repeat(20_000) }));
    const answer = await sns.deliver(endpoint, envelope);
    expect(answer.status).toBe(413);
    expect(errorOf(answer.body)).toBe('payload_too_large');
    expect(await harness.store.list()).toEqual([]);
  });

  it('answers probes on / and /health, acknowledges s3:TestEvent and UnsubscribeConfirmation', async () => {
    for (const path of ['/', '/health']) {
      expect((await fetch(`${harness.url}${path}`)).status).toBe(200);
      expect((await fetch(`${harness.url}${path}`, { method: 'HEAD' })).status).toBe(200);
    }
    const testEvent = JSON.stringify({
      Service: 'Amazon S3',
      Event: 's3:TestEvent',
      Time: new Date().toISOString(),
      Bucket: BUCKET,
      RequestId: 'r',
      HostId: 'h',
    });
    const tested = await sns.deliver(endpoint, sns.notification(testEvent));
    expect(tested.status).toBe(200);
    expect(JSON.parse(tested.body)).toEqual({ jobs: [], duplicates: [], skipped: 1 });
    const unsubscribed = await sns.deliver(
      endpoint,
      sns.certificates.envelope({ Type: 'UnsubscribeConfirmation', TopicArn: sns.topicArn }),
    );
    expect(unsubscribed.status).toBe(200);
    expect(await harness.store.list()).toEqual([]);
  });

  it('answers 503 when the subscription cannot be confirmed yet, so SNS sends it again', async () => {
    sns.api.injectError('ConfirmSubscription', { status: 500, code: 'InternalError', times: 10 });
    const first = await sns.subscribe(endpoint);
    expect(first.status).toBe(503);
    expect(errorOf(first.body)).toBe('subscription_confirmation_failed');
    expect(first.subscription.confirmed).toBe(false);
  });

  it('answers 503 when the job store is down, so SNS delivers again; nothing half-created', async () => {
    const outage = await startListener(sns, openSearch, { LOCAL_S3_ROOT: root });
    try {
      await outage.breakStore();
      const answer = await sns.deliver(`${outage.url}/`, sns.notification(event()));
      expect(answer.status).toBe(503);
      expect(errorOf(answer.body)).toBe('job_store_unavailable');
      expect(answer.body).not.toMatch(/pglite|sql/i);
    } finally {
      await outage.close();
    }
  });
});
