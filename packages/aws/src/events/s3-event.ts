import { z } from 'zod';
import { parseEvent, parseJsonEvent } from './event-parse-error.js';

/**
 * S3 event notifications (https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html).
 * Object keys arrive URL-encoded as in an HTML form (`+` for a space, `%XX` for other bytes); the
 * schema decodes them, so `object.key` is the real key.
 */

/** Decodes an S3 notification key: `+` is a space, then percent-decoding. */
export function decodeS3EventKey(encoded: string): string {
  return decodeURIComponent(encoded.replace(/\+/g, ' '));
}

const s3EventKey = z.string().transform((encoded, context) => {
  try {
    return decodeS3EventKey(encoded);
  } catch {
    context.addIssue({ code: 'custom', message: 'object key is not valid URL encoding' });
    return z.NEVER;
  }
});

/** One record of an S3 event notification, `s3.object.key` decoded. */
export const s3EventRecordSchema = z.object({
  eventVersion: z.string(),
  eventSource: z.literal('aws:s3'),
  awsRegion: z.string(),
  eventTime: z.iso.datetime({ offset: true }),
  /** e.g. `ObjectCreated:Put`, `ObjectRemoved:Delete`. */
  eventName: z.string().min(1),
  userIdentity: z.object({ principalId: z.string() }).optional(),
  requestParameters: z.object({ sourceIPAddress: z.string() }).optional(),
  responseElements: z.record(z.string(), z.string()).optional(),
  s3: z.object({
    s3SchemaVersion: z.string(),
    configurationId: z.string().optional(),
    bucket: z.object({
      name: z.string().min(1),
      ownerIdentity: z.object({ principalId: z.string() }).optional(),
      arn: z.string().optional(),
    }),
    object: z.object({
      key: s3EventKey,
      /** Absent on delete events. */
      size: z.number().int().nonnegative().optional(),
      eTag: z.string().optional(),
      versionId: z.string().optional(),
      sequencer: z.string().optional(),
    }),
  }),
});

/** An S3 event notification: one or more records. */
export const s3EventNotificationSchema = z.object({ Records: z.array(s3EventRecordSchema).min(1) });

/** What S3 sends once when a notification configuration is saved, to check the destination. */
export const s3TestEventSchema = z.object({
  Service: z.literal('Amazon S3'),
  Event: z.literal('s3:TestEvent'),
  Time: z.iso.datetime({ offset: true }),
  Bucket: z.string(),
  RequestId: z.string(),
  HostId: z.string(),
});

export type S3EventRecord = z.output<typeof s3EventRecordSchema>;
export type S3EventNotification = z.output<typeof s3EventNotificationSchema>;
export type S3TestEvent = z.output<typeof s3TestEventSchema>;

/** Either real records or the configuration test event, which carries no object. */
export type ParsedS3Event =
  | { kind: 'records'; records: S3EventRecord[] }
  | { kind: 'test'; event: S3TestEvent };

/** Parses an S3 notification (object or JSON text, e.g. an SNS Message); throws EventParseError. */
export function parseS3Event(input: unknown): ParsedS3Event {
  const value = typeof input === 'string' ? parseJsonEvent(input, 'S3 event') : input;
  if (
    typeof value === 'object' &&
    value !== null &&
    (value as { Event?: unknown }).Event === 's3:TestEvent'
  ) {
    return { kind: 'test', event: parseEvent(s3TestEventSchema, value, 'S3 test event') };
  }
  return { kind: 'records', records: parseEvent(s3EventNotificationSchema, value, 'S3 event').Records };
}

/** Encodes a key as S3 writes it into notifications: form encoding, a space as `+`, `/` kept. */
export function encodeS3EventKey(key: string): string {
  return key
    .split('/')
    .map((segment) => encodeURIComponent(segment).replace(/%20/g, '+'))
    .join('/');
}

/** The object an `ObjectCreated` notification announces. */
export interface CreatedObject {
  bucket: string;
  key: string;
  size: number;
  eTag: string;
  region?: string;
  eventName?: `ObjectCreated:${'Put' | 'Post' | 'Copy' | 'CompleteMultipartUpload'}`;
  eventTime?: Date;
  /** Orders events of one key: a later event has a greater sequencer (hex). */
  sequencer?: string;
}

/**
 * An S3 `ObjectCreated` event notification as S3 sends it (event version 2.1): what a local stack or a
 * test hands to code that reads real notifications. `parseS3Event` reads it back.
 */
export function s3ObjectCreatedEvent(object: CreatedObject): { Records: [Record<string, unknown>] } {
  const region = object.region ?? 'us-east-1';
  return {
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: region,
        eventTime: (object.eventTime ?? new Date()).toISOString(),
        eventName: object.eventName ?? 'ObjectCreated:Put',
        s3: {
          s3SchemaVersion: '1.0',
          bucket: { name: object.bucket, arn: `arn:aws:s3:::${object.bucket}` },
          object: {
            key: encodeS3EventKey(object.key),
            size: object.size,
            eTag: object.eTag,
            ...(object.sequencer ? { sequencer: object.sequencer } : {}),
          },
        },
      },
    ],
  };
}
