import { SQSClient } from '@aws-sdk/client-sqs';
import { createLogger } from '@stratus/core';
import type { Database, JobStore } from '@stratus/jobs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SqsPoller } from '../src/adapters/sqs-poller.js';
import { type JobDispatcher, JobIntake } from '../src/app/job-intake.js';
import type { IncomingFile } from '../src/domain/s3-objects.js';
import { createTestJobStore, openTestDatabase, type TestJobStore } from './job-store-fixture.js';
import { SqsQueuePeer } from './sqs-queue-peer.js';

const logger = createLogger({
  SERVICE_NAME: 'file-processing-test',
  ENVIRONMENT: 'test',
  LOG_LEVEL: 'silent',
});
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:stratus-file-uploads';

const s3Event = (key: string) =>
  JSON.stringify({
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: 'us-east-1',
        eventTime: '2026-11-25T12:00:00.000Z',
        eventName: 'ObjectCreated:Put',
        s3: { s3SchemaVersion: '1.0', bucket: { name: 'uploads' }, object: { key, size: 5 } },
      },
    ],
  });

/** Records what it was handed; the poller's contract ends at durable creation and dispatch. */
class RecordingDispatcher implements JobDispatcher {
  readonly dispatched: IncomingFile[] = [];
  async dispatch(file: IncomingFile) {
    this.dispatched.push(file);
  }
  async close() {}
}

describe('SqsPoller against a loopback SQS queue', () => {
  let queue: SqsQueuePeer;
  let sqs: SQSClient;
  let db: Database;
  let testStore: TestJobStore;
  let store: JobStore;
  let dispatcher: RecordingDispatcher;
  let poller: SqsPoller;

  beforeAll(async () => {
    queue = await new SqsQueuePeer().start();
    sqs = new SQSClient(queue.api.clientConfig());
    db = await openTestDatabase();
  }, 180_000);
  beforeEach(async () => {
    await testStore?.drop();
    testStore = await createTestJobStore(db);
    store = testStore.store;
    dispatcher = new RecordingDispatcher();
    queue.messages.length = 0;
    poller = new SqsPoller(
      sqs,
      new JobIntake(store, dispatcher, logger),
      {
        queueUrl: queue.queueUrl,
        waitTimeSeconds: 0,
        maxMessages: 10,
        visibilityTimeoutSeconds: 30,
        topicAllowlist: [TOPIC],
      },
      logger,
    );
  });
  afterAll(async () => {
    await testStore?.drop();
    await db?.close();
    sqs?.destroy();
    await queue?.stop();
  });

  it('creates jobs from raw and SNS-wrapped events, deletes them, and keeps the bad ones for the DLQ', async () => {
    const raw = queue.send(s3Event('raw.csv'));
    queue.send(
      JSON.stringify({
        Type: 'Notification',
        MessageId: 'sns-1',
        TopicArn: TOPIC,
        Message: s3Event('wrapped.csv'),
      }),
    );
    const malformed = queue.send('not json');
    const foreign = queue.send(
      JSON.stringify({
        Type: 'Notification',
        MessageId: 'sns-2',
        TopicArn: `${TOPIC}-other`,
        Message: s3Event('x.csv'),
      }),
    );

    expect(await poller.pollOnce()).toEqual({ received: 4, deleted: 2, failed: 2 });
    expect((await store.list()).map((job) => job.id).sort()).toEqual([`dq-${raw}-0`, 'dq-sns-1-0']);
    expect(dispatcher.dispatched.map((file) => file.source.key).sort()).toEqual(['raw.csv', 'wrapped.csv']);
    expect(queue.messages.map((message) => message.messageId).sort()).toEqual([malformed, foreign].sort());
    expect(queue.api.requestsFor('DeleteMessageBatch')).toHaveLength(1);
  });

  it('does not delete a message whose job could not be recorded, and a redelivery creates no second job', async () => {
    queue.send(
      JSON.stringify({
        Type: 'Notification',
        MessageId: 'sns-3',
        TopicArn: TOPIC,
        Message: s3Event('a.csv'),
      }),
    );
    await testStore.breakStore();
    expect(await poller.pollOnce()).toEqual({ received: 1, deleted: 0, failed: 1 });
    expect(queue.messages).toHaveLength(1);

    testStore = await createTestJobStore(db);
    store = testStore.store;
    // The job was created before (by another delivery of the message) and is already running.
    await store.create({ id: 'dq-sns-3-0', type: 's3-data-quality' });
    await store.start('dq-sns-3-0');
    poller = new SqsPoller(
      sqs,
      new JobIntake(store, dispatcher, logger),
      {
        queueUrl: queue.queueUrl,
        waitTimeSeconds: 0,
        maxMessages: 10,
        visibilityTimeoutSeconds: 0,
        topicAllowlist: [TOPIC],
      },
      logger,
    );
    queue.messages[0]!.invisibleUntil = 0;
    expect(await poller.pollOnce()).toEqual({ received: 1, deleted: 1, failed: 0 });
    expect(await store.list()).toHaveLength(1);
    expect(dispatcher.dispatched).toEqual([]);
  });

  it('hands a redelivered job that is still Pending to the dispatcher again (created, never dispatched)', async () => {
    await store.create({ id: 'dq-sns-4-0', type: 's3-data-quality' });
    queue.send(
      JSON.stringify({
        Type: 'Notification',
        MessageId: 'sns-4',
        TopicArn: TOPIC,
        Message: s3Event('p.csv'),
      }),
    );
    expect(await poller.pollOnce()).toEqual({ received: 1, deleted: 1, failed: 0 });
    expect(await store.list()).toHaveLength(1);
    expect(dispatcher.dispatched.map((file) => file.jobId)).toEqual(['dq-sns-4-0']);
  });
});
