import { z } from 'zod';
import { parseEvent, parseJsonEvent } from './event-parse-error.js';

/**
 * The JSON body SNS POSTs to an HTTP/S subscriber, in its three types. Field names are AWS's.
 * https://docs.aws.amazon.com/sns/latest/dg/http-header.html
 */

const signatureFields = {
  SignatureVersion: z.enum(['1', '2']),
  Signature: z.string().min(1),
  SigningCertURL: z.string().min(1),
};

const common = {
  MessageId: z.string().min(1),
  TopicArn: z.string().min(1),
  Message: z.string(),
  Timestamp: z.iso.datetime({ offset: true }),
  ...signatureFields,
};

/** A message attribute as SNS sends it in the envelope. */
export const snsMessageAttributeSchema = z.object({ Type: z.string(), Value: z.string() });

/** A published message (`Type: Notification`). */
export const snsNotificationSchema = z.object({
  Type: z.literal('Notification'),
  ...common,
  /** Absent when the publisher gave none (SQS and Lambda deliveries may carry null). */
  Subject: z.string().nullish(),
  UnsubscribeURL: z.string().optional(),
  MessageAttributes: z.record(z.string(), snsMessageAttributeSchema).optional(),
});

/** Sent once when a subscription is created; confirm it through SubscribeURL or ConfirmSubscription. */
export const snsSubscriptionConfirmationSchema = z.object({
  Type: z.literal('SubscriptionConfirmation'),
  ...common,
  Token: z.string().min(1),
  SubscribeURL: z.url(),
});

/** Sent when the subscription is deleted. */
export const snsUnsubscribeConfirmationSchema = z.object({
  Type: z.literal('UnsubscribeConfirmation'),
  ...common,
  Token: z.string().min(1),
  SubscribeURL: z.url(),
});

/** Any of the three envelope types, told apart by `Type`. */
export const snsMessageSchema = z.discriminatedUnion('Type', [
  snsNotificationSchema,
  snsSubscriptionConfirmationSchema,
  snsUnsubscribeConfirmationSchema,
]);

export type SnsNotification = z.output<typeof snsNotificationSchema>;
export type SnsSubscriptionConfirmation = z.output<typeof snsSubscriptionConfirmationSchema>;
export type SnsUnsubscribeConfirmation = z.output<typeof snsUnsubscribeConfirmationSchema>;
export type SnsMessage = z.output<typeof snsMessageSchema>;

/** Parses an SNS HTTP envelope (object or JSON text); throws EventParseError listing failing paths. */
export function parseSnsMessage(input: unknown): SnsMessage {
  const value = typeof input === 'string' ? parseJsonEvent(input, 'SNS message') : input;
  return parseEvent(snsMessageSchema, value, 'SNS message');
}
