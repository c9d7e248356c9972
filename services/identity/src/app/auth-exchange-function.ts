import {
  errorBodyOf,
  type Logger,
  ServiceError,
  type StatsRegistry,
  type Tracing,
  toServiceError,
} from '@stratus/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { JWTVerifyGetKey } from 'jose';
import { type AwsCredentials, eventBridgeClientFor, stsClientFor } from '../adapters/aws-clients.js';
import { createFirebaseTokenVerifier, remoteFirebaseKeySet } from '../adapters/firebase-token-verifier.js';
import { EventBridgePublisher, type UserSignedInPublisher } from '../adapters/user-signed-in-publisher.js';
import { WebIdentityRole } from '../adapters/web-identity-role.js';
import type { AuthExchangeSettings } from '../config/settings.js';
import { type AuthExchange, createAuthExchange, recordAuthFailure } from './auth-exchange.js';
import { inInvocationSpan, lambdaTraceHeader } from './lambda-invocation.js';

export type AuthExchangeFunction = (
  event: APIGatewayProxyEventV2,
  context: Pick<Context, 'awsRequestId' | 'invokedFunctionArn'>,
) => Promise<APIGatewayProxyStructuredResultV2>;

export interface AuthExchangeFunctionOptions {
  logger: Logger;
  tracing: Tracing;
  /** Default: Google's key set from FIREBASE_KEY_SET_URL. */
  keySet?: JWTVerifyGetKey;
  /** Default: the SDK's credential chain (the function's execution role). */
  awsCredentials?: AwsCredentials;
}

/** Wires the exchange from settings: verifier, STS, and EventBridge unless `events` is given. */
export function authExchangeFor(
  settings: AuthExchangeSettings,
  options: Omit<AuthExchangeFunctionOptions, 'tracing'> & {
    events?: UserSignedInPublisher;
    stats?: StatsRegistry;
  },
): AuthExchange {
  const keySet =
    options.keySet ??
    remoteFirebaseKeySet({
      url: settings.FIREBASE_KEY_SET_URL,
      cacheMaxAgeMs: settings.FIREBASE_KEY_SET_CACHE_SECONDS * 1000,
      timeoutMs: settings.FIREBASE_KEY_SET_TIMEOUT_MS,
    });
  return createAuthExchange({
    verifyIdToken: createFirebaseTokenVerifier({
      projectId: settings.FIREBASE_PROJECT_ID,
      clockSkewSeconds: settings.ID_TOKEN_CLOCK_SKEW_SECONDS,
      keySet,
    }),
    role: new WebIdentityRole(stsClientFor(settings, options.awsCredentials), {
      roleArn: settings.AUTH_ROLE_ARN,
      durationSeconds: settings.AUTH_SESSION_DURATION_SECONDS,
      retryAfterSeconds: settings.AUTH_RETRY_AFTER_SECONDS,
    }),
    events:
      options.events ??
      new EventBridgePublisher(eventBridgeClientFor(settings, options.awsCredentials), {
        eventBusName: settings.AUTH_EVENT_BUS_NAME,
        source: settings.AUTH_EVENT_SOURCE,
      }),
    logger: options.logger,
    ...(options.stats ? { stats: options.stats } : {}),
  });
}

/**
 * The auth-exchange Lambda for an API Gateway HTTP API route `POST /auth/exchange` (payload format
 * 2.0). Answers 200 with the credentials, or the error model `{ error: { code, message, requestId } }`
 * with Retry-After on 429. Credentials are never cached by anything in between (`no-store`).
 */
export function createAuthExchangeFunction(
  settings: AuthExchangeSettings,
  options: AuthExchangeFunctionOptions,
): AuthExchangeFunction {
  const exchange = authExchangeFor(settings, options);
  return (event, context) =>
    inInvocationSpan(
      {
        name: 'auth-exchange',
        traceHeader: lambdaTraceHeader(event.headers?.['x-amzn-trace-id']),
        attributes: {
          'faas.trigger': 'http',
          'faas.invocation_id': context.awsRequestId,
          'cloud.resource_id': context.invokedFunctionArn,
          'http.request.method': event.requestContext.http.method,
          'url.path': event.rawPath,
          'http.route': event.routeKey,
        },
        statusOf: (response) => response.statusCode ?? 200,
        flush: options.tracing,
      },
      () => answer(exchange, event, options.logger),
    );
}

async function answer(
  exchange: AuthExchange,
  event: APIGatewayProxyEventV2,
  logger: Logger,
): Promise<APIGatewayProxyStructuredResultV2> {
  const requestId = event.requestContext.requestId;
  try {
    const body = parseJsonBody(event);
    return json(200, await exchange(body));
  } catch (error) {
    const failure = toServiceError(error);
    if (failure.status >= 500 && failure.code === 'internal_error')
      logger.error({ event: 'request_failed', err: error }, 'unexpected error');
    const headers: Record<string, string> =
      failure.retryAfterSeconds === undefined ? {} : { 'retry-after': String(failure.retryAfterSeconds) };
    return json(failure.status, errorBodyOf(failure.code, failure.message, requestId), headers);
  }
}

/** Answers as the HTTP kit does for a body that is not JSON: 400 `malformed_body`. */
function parseJsonBody(event: APIGatewayProxyEventV2): unknown {
  if (!event.body) return undefined;
  const text = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  try {
    return JSON.parse(text);
  } catch {
    const failure = new ServiceError(400, 'malformed_body', 'Body is not valid JSON');
    recordAuthFailure(failure);
    throw failure;
  }
}

function json(
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers },
    body: JSON.stringify(body),
  };
}
