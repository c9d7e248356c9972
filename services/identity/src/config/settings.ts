import { envInteger, fullSettings, httpSettings, port, xrayTracingSettings } from '@stratus/core';
import * as z from 'zod';
import { FIREBASE_KEY_SET_URL } from '../adapters/firebase-token-verifier.js';
import samplingRules from './sampling-rules.json' with { type: 'json' };

/**
 * The settings of the two functions and of the local service that runs both. Each is parsed once at
 * start-up (`loadSettings`); a bad value stops start-up naming the variable.
 */

const roleArn = z
  .string()
  .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/, 'must be an IAM role ARN');
const eventBusName = z
  .string()
  .regex(/^[\w.-]{1,256}$|^arn:aws[a-z-]*:events:/, 'must be an event bus name or ARN');

/**
 * The plan's sampling rules, in AWS's SamplingRule format (the same file can create the rules in X-Ray):
 * `POST /auth/*` 5 per second then 10%, everything else 1 per second then 5%. XRAY_SAMPLING_RULES or
 * XRAY_SAMPLING_RULES_FILE replace them. In Lambda the function follows the Sampled flag it is
 * invoked with, which X-Ray decides with the account's rules.
 */
const identityTracingSettings = xrayTracingSettings.extend({
  XRAY_SAMPLING_RULES: z.string().min(1).default(JSON.stringify(samplingRules)),
});

/** Shared by every AWS client of the service. */
const awsClientSettings = z.object({
  /** Attempts per AWS call, first one included; the SDK backs off between them. */
  AWS_MAX_ATTEMPTS: envInteger(3, 1, 10),
  /** Bound on one AWS request, so a stalled endpoint cannot hold a sign-in. */
  AWS_REQUEST_TIMEOUT_MS: envInteger(3000, 100, 60_000),
});

export const authExchangeSettings = fullSettings.extend({
  ...identityTracingSettings.shape,
  ...awsClientSettings.shape,
  SERVICE_NAME: fullSettings.shape.SERVICE_NAME.default('auth-exchange'),
  /** The Firebase project whose ID tokens are accepted (their `aud`). */
  FIREBASE_PROJECT_ID: z.string().regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, 'must be a Firebase project id'),
  FIREBASE_KEY_SET_URL: z.url().default(FIREBASE_KEY_SET_URL),
  FIREBASE_KEY_SET_CACHE_SECONDS: envInteger(3600, 60, 86_400),
  FIREBASE_KEY_SET_TIMEOUT_MS: envInteger(2000, 100, 30_000),
  /** How far Google's clock may be from ours when checking exp, iat and auth_time. */
  ID_TOKEN_CLOCK_SKEW_SECONDS: envInteger(30, 0, 300),
  /** The role whose trust policy accepts Firebase tokens (OIDC provider securetoken.google.com/<project>). */
  AUTH_ROLE_ARN: roleArn,
  AUTH_SESSION_DURATION_SECONDS: envInteger(3600, 900, 43_200),
  /** Sent as Retry-After when STS throttles the exchange. */
  AUTH_RETRY_AFTER_SECONDS: envInteger(2, 1, 300),
  AUTH_EVENT_BUS_NAME: eventBusName.default('auth-events'),
  AUTH_EVENT_SOURCE: z.string().min(1).max(256).default('stratus.identity'),
  /** Only to point the clients elsewhere than AWS (a local stack, tests). */
  STS_ENDPOINT: z.url().optional(),
  EVENTBRIDGE_ENDPOINT: z.url().optional(),
});

export const userProfileSettings = fullSettings.extend({
  ...identityTracingSettings.shape,
  ...awsClientSettings.shape,
  SERVICE_NAME: fullSettings.shape.SERVICE_NAME.default('user-profile'),
  USERS_TABLE: z
    .string()
    .regex(/^[\w.-]{3,255}$/, 'must be a DynamoDB table name')
    .default('users'),
  DYNAMODB_ENDPOINT: z.url().optional(),
});

/** Both functions as one HTTP service, with the in-process bus between them. */
export const localIdentitySettings = authExchangeSettings.extend({
  ...userProfileSettings.shape,
  ...httpSettings.shape,
  SERVICE_NAME: fullSettings.shape.SERVICE_NAME.default('identity'),
  PORT: port(8088),
});

export type AuthExchangeSettings = z.output<typeof authExchangeSettings>;
export type UserProfileSettings = z.output<typeof userProfileSettings>;
export type LocalIdentitySettings = z.output<typeof localIdentitySettings>;
