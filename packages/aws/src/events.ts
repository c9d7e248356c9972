/** @stratus/aws/events: S3, SNS, SNS-in-SQS and EventBridge event schemas (zod only, no AWS SDK). */
export { type EventIssue, EventParseError, parseEvent, parseJsonEvent } from './events/event-parse-error.js';
export {
  anyEventBridgeEventSchema,
  type EventBridgeEvent,
  eventBridgeEventSchema,
  parseEventBridgeEvent,
} from './events/eventbridge-event.js';
export {
  type CreatedObject,
  decodeS3EventKey,
  encodeS3EventKey,
  type ParsedS3Event,
  parseS3Event,
  type S3EventNotification,
  type S3EventRecord,
  type S3TestEvent,
  s3EventNotificationSchema,
  s3EventRecordSchema,
  s3ObjectCreatedEvent,
  s3TestEventSchema,
} from './events/s3-event.js';
export {
  parseSnsMessage,
  type SnsMessage,
  type SnsNotification,
  type SnsSubscriptionConfirmation,
  type SnsUnsubscribeConfirmation,
  snsMessageAttributeSchema,
  snsMessageSchema,
  snsNotificationSchema,
  snsSubscriptionConfirmationSchema,
  snsUnsubscribeConfirmationSchema,
} from './events/sns-envelope.js';
export {
  parseSnsNotificationFromSqsBody,
  parseSqsEvent,
  type SqsEvent,
  type SqsRecord,
  sqsEventSchema,
  sqsRecordSchema,
} from './events/sqs-sns.js';
