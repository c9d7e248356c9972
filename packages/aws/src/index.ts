// Credentials: Google WIF -> STS, IRSA and the rest of the SDK chain.
export {
  type CreateAwsCredentialProviderOptions,
  createAwsCredentialProvider,
} from './credentials/aws-credential-provider.js';
export {
  type CachedGoogleIdTokenOptions,
  cachedGoogleIdToken,
  type GoogleIdTokenSource,
  type ImpersonatedGoogleIdTokenSourceOptions,
  impersonatedGoogleIdTokenSource,
  jwtExpiresAt,
  nativeGoogleIdTokenSource,
} from './credentials/google-id-token.js';
export {
  type CachedToken,
  type GoogleWebIdentityCredentialsOptions,
  googleWebIdentityCredentials,
  type TemporaryAwsCredentials,
} from './credentials/google-web-identity.js';
export {
  type Expiring,
  RefreshingValue,
  type RefreshingValueOptions,
} from './credentials/refreshing-value.js';
// Events: S3, SNS, SNS-in-SQS, EventBridge.
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
// Objects: S3 GetObject or LOCAL_S3_ROOT.
export { checkBucketName, checkObjectKey } from './objects/object-key.js';
export {
  createObjectReader,
  LocalFolderObjectReader,
  type ObjectReader,
  type OpenedObject,
  S3ObjectReader,
} from './objects/object-reader.js';
// Secrets: the service's API key from Secrets Manager.
export {
  type ApiKeySecretSettings,
  apiKeySecretId,
  apiKeySecretSettings,
  DEFAULT_API_KEY_SECRET_ID_PATTERN,
  type SecretsManagerApiKeySourceOptions,
  secretsManagerApiKeySource,
} from './secrets/api-key-secret.js';
// Settings groups.
export {
  type AwsCredentialSettings,
  awsCredentialSettings,
  awsCredentialSettingsIssues,
  awsCredentialSources,
  awsSnsCertificateHostPattern,
  type ObjectReaderSettings,
  objectReaderSettings,
  refineAwsCredentialSettings,
  type SnsVerificationSettings,
  snsVerificationSettings,
} from './settings.js';
// SigV4.
export { createOpenSearchClient, type OpenSearchClientOptions } from './sigv4/opensearch-client.js';
export {
  createSignedFetch,
  type SignedFetch,
  type SignedFetchOptions,
  type SignedRequestInit,
} from './sigv4/signed-fetch.js';
// SNS message verification.
export { type CertificateFetchOptions, fetchSigningPublicKey } from './sns/certificate-fetch.js';
export { LruTtlCache } from './sns/lru-ttl-cache.js';
export { signingCertUrlProblem } from './sns/signing-cert-url.js';
export {
  createSnsMessageVerifier,
  SnsMessageVerifier,
  type SnsMessageVerifierOptions,
} from './sns/sns-message-verifier.js';
export { type SnsVerificationCode, SnsVerificationError } from './sns/sns-verification-error.js';
export { type SignedSnsFields, snsSignatureDigest, snsStringToSign } from './sns/string-to-sign.js';
