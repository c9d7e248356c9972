import { z } from 'zod';
import { parseEvent, parseJsonEvent } from './event-parse-error.js';
import { type SnsNotification, snsNotificationSchema } from './sns-envelope.js';

/**
 * SNS messages delivered through an SQS queue (not raw delivery): each SQS message body is the SNS
 * Notification envelope as JSON. The record shape is the Lambda SQS event's.
 */
export const sqsRecordSchema = z.object({
  messageId: z.string().min(1),
  receiptHandle: z.string(),
  body: z.string(),
  attributes: z.record(z.string(), z.string()).optional(),
  messageAttributes: z.record(z.string(), z.unknown()).optional(),
  md5OfBody: z.string().optional(),
  eventSource: z.literal('aws:sqs'),
  eventSourceARN: z.string(),
  awsRegion: z.string(),
});

/** A Lambda SQS event: a batch of records. */
export const sqsEventSchema = z.object({ Records: z.array(sqsRecordSchema) });

export type SqsRecord = z.output<typeof sqsRecordSchema>;
export type SqsEvent = z.output<typeof sqsEventSchema>;

/** The SNS Notification inside one SQS message body; throws EventParseError. */
export function parseSnsNotificationFromSqsBody(body: string): SnsNotification {
  return parseEvent(
    snsNotificationSchema,
    parseJsonEvent(body, 'SNS notification in SQS'),
    'SNS notification in SQS',
  );
}

/** A Lambda SQS event; throws EventParseError listing failing paths. */
export function parseSqsEvent(input: unknown): SqsEvent {
  return parseEvent(sqsEventSchema, input, 'SQS event');
}
