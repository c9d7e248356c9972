import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { EventParseError } from '../src/events/event-parse-error.js';
import { parseEventBridgeEvent } from '../src/events/eventbridge-event.js';
import { decodeS3EventKey, parseS3Event, s3ObjectCreatedEvent } from '../src/events/s3-event.js';
import { parseSnsMessage } from '../src/events/sns-envelope.js';
import { parseSnsNotificationFromSqsBody, parseSqsEvent } from '../src/events/sqs-sns.js';

// Shapes as in the AWS documentation's examples.
function s3Record(key: string, eventName = 'ObjectCreated:Put') {
  return {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: 'eu-west-1',
    eventTime: '2026-11-25T12:00:00.000Z',
    eventName,
    userIdentity: { principalId: 'AWS:AIDAJDPLRKLG7UEXAMPLE' },
    requestParameters: { sourceIPAddress: '127.0.0.1' },
    responseElements: {
      'x-amz-request-id': 'C3D13FE58DE4C810',
      'x-amz-id-2': 'FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD',
    },
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: 'uploads',
      bucket: {
        name: 'stratus-uploads',
        ownerIdentity: { principalId: 'A3NL1KOZZKExample' },
        arn: 'arn:aws:s3:::stratus-uploads',
      },
      object: { key, size: 1024, eTag: 'd41d8cd98f00b204e9800998ecf8427e', sequencer: '0055AED6DCD90281E5' },
    },
  };
}

function issuesOf(run: () => unknown): EventParseError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(EventParseError);
    return error as EventParseError;
  }
  throw new Error('expected an EventParseError');
}

describe('S3 event notifications', () => {
  it('URL-decodes object keys: + is a space, %XX a byte of UTF-8', () => {
    const parsed = parseS3Event({ Records: [s3Record('incoming/My+Report+%282026%29%2Bfinal.csv')] });
    expect(parsed).toMatchObject({ kind: 'records' });
    if (parsed.kind !== 'records') return;
    expect(parsed.records[0]?.s3.object.key).toBe('incoming/My Report (2026)+final.csv');
    expect(decodeS3EventKey('caf%C3%A9%2Fdata.csv')).toBe('café/data.csv');
  });

  it('builds ObjectCreated events that parse back to the same object, whatever the key', () => {
    expect(
      s3ObjectCreatedEvent({ bucket: 'b', key: 'in coming/a+b.csv', size: 1, eTag: 'e' }).Records[0],
    ).toMatchObject({
      s3: { object: { key: 'in+coming/a%2Bb.csv' } },
    });
    for (const key of ['incoming/a b+c.csv', 'año/informe 100%.csv', 'plain.csv']) {
      const event = s3ObjectCreatedEvent({ bucket: 'files', key, size: 42, eTag: 'abc', sequencer: '00FF' });
      const parsed = parseS3Event(JSON.stringify(event));
      expect(parsed.kind).toBe('records');
      if (parsed.kind !== 'records') continue;
      expect(parsed.records[0]).toMatchObject({
        eventName: 'ObjectCreated:Put',
        s3: { bucket: { name: 'files' }, object: { key, size: 42, eTag: 'abc', sequencer: '00FF' } },
      });
    }
  });

  it('recognises the s3:TestEvent, also as the JSON text inside an SNS Message', () => {
    const test = {
      Service: 'Amazon S3',
      Event: 's3:TestEvent',
      Time: '2026-11-25T12:00:00.000Z',
      Bucket: 'stratus-uploads',
      RequestId: '5582815E1AEA5ADF',
      HostId: '8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR+YstdA6Knx4Ip8EXAMPLE',
    };
    expect(parseS3Event(JSON.stringify(test))).toEqual({ kind: 'test', event: test });
  });

  it('lists every failing path of a bad event', () => {
    const record = s3Record('a%ZZb');
    const bad = { Records: [{ ...record, eventSource: 'aws:sqs', s3: { ...record.s3, bucket: {} } }] };
    const error = issuesOf(() => parseS3Event(bad));
    expect(error.code).toBe('invalid_event');
    expect(error.status).toBe(400);
    const paths = error.issues.map((issue) => issue.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'Records.0.eventSource',
        'Records.0.s3.bucket.name',
        'Records.0.s3.object.key',
      ]),
    );
    expect(error.message).toContain('Records.0.s3.object.key: object key is not valid URL encoding');
  });

  it('refuses an empty record list, non-JSON text and a malformed test event', () => {
    expect(issuesOf(() => parseS3Event({ Records: [] })).issues[0]?.path).toBe('Records');
    expect(issuesOf(() => parseS3Event('{')).message).toMatch(/not JSON/);
    expect(
      issuesOf(() => parseS3Event({ Event: 's3:TestEvent', Service: 'Amazon S3' })).issues.map((i) => i.path),
    ).toContain('Bucket');
  });
});

describe('SNS envelopes', () => {
  const base = {
    MessageId: '22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324',
    TopicArn: 'arn:aws:sns:eu-west-1:123456789012:uploads',
    Message: '{"Records":[]}',
    Timestamp: '2026-11-25T12:00:00.000Z',
    SignatureVersion: '2',
    Signature: 'EXAMPLEpH+..',
    SigningCertURL:
      'https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-0000000000000000000000000.pem',
  };

  it('parses the three types, told apart by Type', () => {
    expect(
      parseSnsMessage({ ...base, Type: 'Notification', Subject: 'Amazon S3 Notification' }),
    ).toMatchObject({
      Type: 'Notification',
      Subject: 'Amazon S3 Notification',
    });
    const confirmation = {
      ...base,
      Token: 'abc',
      SubscribeURL: 'https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription',
    };
    expect(parseSnsMessage(JSON.stringify({ ...confirmation, Type: 'SubscriptionConfirmation' })).Type).toBe(
      'SubscriptionConfirmation',
    );
    expect(parseSnsMessage({ ...confirmation, Type: 'UnsubscribeConfirmation' }).Type).toBe(
      'UnsubscribeConfirmation',
    );
  });

  it('names what a confirmation lacks', () => {
    const error = issuesOf(() => parseSnsMessage({ ...base, Type: 'SubscriptionConfirmation' }));
    expect(error.issues.map((issue) => issue.path).sort()).toEqual(['SubscribeURL', 'Token']);
  });

  it('unwraps SNS notifications from SQS message bodies', () => {
    const body = JSON.stringify({ ...base, Type: 'Notification' });
    const event = parseSqsEvent({
      Records: [
        {
          messageId: '059f36b4-87a3-44ab-83d2-661975830a7d',
          receiptHandle: 'AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a',
          body,
          attributes: { ApproximateReceiveCount: '1' },
          messageAttributes: {},
          md5OfBody: 'e4e68fb7bd0e697a0ae8f1bb342846b3',
          eventSource: 'aws:sqs',
          eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:uploads',
          awsRegion: 'eu-west-1',
        },
      ],
    });
    const notification = parseSnsNotificationFromSqsBody(event.Records[0]!.body);
    expect(notification.Message).toBe('{"Records":[]}');
    expect(
      issuesOf(() => parseSnsNotificationFromSqsBody('{"raw":"delivery"}')).issues.map((i) => i.path),
    ).toContain('Type');
  });
});

describe('EventBridge events', () => {
  const detail = z.object({ userId: z.string(), provider: z.enum(['google.com', 'password']) });
  const event = {
    version: '0',
    id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
    'detail-type': 'user.signed_in',
    source: 'stratus.identity',
    account: '111122223333',
    time: '2026-11-25T12:00:00Z',
    region: 'eu-west-1',
    resources: [],
    detail: { userId: 'u-1', provider: 'google.com' },
  };

  it('parses the envelope with the detail schema of the event type', () => {
    expect(parseEventBridgeEvent(event, detail).detail.userId).toBe('u-1');
  });

  it('reports failing detail fields by path', () => {
    const error = issuesOf(() => parseEventBridgeEvent({ ...event, detail: { userId: 1 } }, detail));
    expect(error.issues.map((issue) => issue.path).sort()).toEqual(['detail.provider', 'detail.userId']);
  });
});
