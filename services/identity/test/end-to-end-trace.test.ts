import { parseSamplingRules, type Tracing, wildcardMatch } from '@stratus/core';
import { type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from '@stratus/test-peers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthExchangeFunction } from '../src/app/auth-exchange-function.js';
import { configureLambdaTracing } from '../src/app/lambda-tracing.js';
import { createUserProfileFunction } from '../src/app/user-profile-function.js';
import { userProfileSettings } from '../src/config/settings.js';
import { type IdentityStack, startIdentityStack } from './fixtures/identity-stack.js';
import { httpApiEvent, LAMBDA_CONTEXT } from './fixtures/lambda-events.js';
import { annotationsOf } from './fixtures/spans.js';

/** What API Gateway hands the auth-exchange function: its own segment as the parent, sampled. */
const API_GATEWAY_ROOT = '5759e988bd862e3fe1be46a994272793';
const API_GATEWAY_SEGMENT = '53995c3f42cd8ad8';
const API_GATEWAY_TRACE_HEADER = `Root=1-5759e988-bd862e3fe1be46a994272793;Parent=${API_GATEWAY_SEGMENT};Sampled=1`;

let receiver: OtlpReceiver;
let stack: IdentityStack;
let tracing: Tracing;
const profileResults: Promise<unknown>[] = [];

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  stack = await startIdentityStack({ ENABLE_TRACING: 'true', OTLP_ENDPOINT: receiver.url });
  // The tracing the Lambda bundles use.
  tracing = configureLambdaTracing(stack.settings);
  const profileFunction = createUserProfileFunction(stack.settings, {
    logger: stack.logger,
    tracing,
    awsCredentials: stack.awsCredentials,
  });
  // What the EventBridge rule and Lambda do: invoke user-profile with the event's trace header as
  // _X_AMZN_TRACE_ID.
  stack.eventBridge.subscribe('auth-events', ({ event, traceHeader }) => {
    const invocation = withLambdaTraceHeader(traceHeader, () =>
      profileFunction(event as never, {
        ...LAMBDA_CONTEXT,
        invokedFunctionArn: 'arn:aws:lambda:::function:user-profile',
      }),
    );
    profileResults.push(invocation);
  });
});
afterAll(async () => {
  await tracing.shutdown();
  await Promise.all([stack.stop(), receiver.close()]);
});

function withLambdaTraceHeader<T>(header: string | undefined, invoke: () => Promise<T>): Promise<T> {
  if (header) process.env._X_AMZN_TRACE_ID = header;
  try {
    return invoke();
  } finally {
    delete process.env._X_AMZN_TRACE_ID;
  }
}

/** Subsegments opened by the service (the instrumentations of AWS SDK and HTTP may add their own beneath them). */
const subsegmentsOf = (spans: ReceivedSpan[], parent: ReceivedSpan | undefined) =>
  spans
    .filter((span) => span.parentSpanId === parent?.spanId && span.scope === '@stratus/core')
    .map((span) => span.name);

describe('one trace from API Gateway through auth-exchange, EventBridge and user-profile to DynamoDB', () => {
  it('has exactly the subsegments and annotations of the plan', async () => {
    const exchangeFunction = createAuthExchangeFunction(stack.settings, {
      logger: stack.logger,
      tracing,
      keySet: stack.keys.keySet,
      awsCredentials: stack.awsCredentials,
    });
    const idToken = await stack.keys.sign();
    const response = await withLambdaTraceHeader(API_GATEWAY_TRACE_HEADER, () =>
      exchangeFunction(httpApiEvent(JSON.stringify({ idToken })), LAMBDA_CONTEXT),
    );
    expect(response.statusCode).toBe(200);
    await expect.poll(() => profileResults.length).toBe(1);
    expect(await profileResults[0]).toEqual({ action: 'created' });

    const spans = (
      await receiver.waitForSpans((all) => all.some((span) => span.name === 'dynamodb_put_user'))
    ).filter((span) => span.traceId === API_GATEWAY_ROOT);
    const exchange = spans.find((span) => span.name === 'auth-exchange');
    const profile = spans.find((span) => span.name === 'user-profile');

    expect(exchange?.parentSpanId).toBe(API_GATEWAY_SEGMENT);
    expect(exchange?.attributes['http.response.status_code']).toBe(200);
    expect(annotationsOf(exchange)).toEqual({ user_id: 'uid-123', auth_result: 'success' });
    expect(exchange?.attributes['enduser.id']).toBe('uid-123');
    expect(subsegmentsOf(spans, exchange)).toEqual(['sts_assume_role', 'emit_user_signed_in_event']);

    const emit = spans.find((span) => span.name === 'emit_user_signed_in_event');
    expect(profile?.parentSpanId).toBe(emit?.spanId);
    expect(annotationsOf(profile)).toEqual({
      event_source: 'eventbridge',
      user_id: 'uid-123',
      action: 'created',
    });
    expect(subsegmentsOf(spans, profile)).toEqual(['dynamodb_put_user']);
  });

  it('annotates a rejected sign-in with the result, code and type of the failure', async () => {
    const exchangeFunction = createAuthExchangeFunction(stack.settings, {
      logger: stack.logger,
      tracing,
      keySet: stack.keys.keySet,
    });
    const token = await stack.keys.sign({ aud: 'another-project' });
    const response = await exchangeFunction(httpApiEvent(JSON.stringify({ idToken: token })), {
      ...LAMBDA_CONTEXT,
      awsRequestId: 'rejected-sign-in',
    });
    expect(response.statusCode).toBe(401);
    const spans = await receiver.waitForSpans((all) =>
      all.some((span) => span.attributes['faas.invocation_id'] === 'rejected-sign-in'),
    );
    const exchange = spans.find((span) => span.attributes['faas.invocation_id'] === 'rejected-sign-in');
    expect(annotationsOf(exchange)).toEqual({
      auth_result: 'failure',
      error_code: 'invalid_token',
      error_type: 'wrong_audience',
    });
    expect(subsegmentsOf(spans, exchange)).toEqual([]);
  });
});

describe('user-profile Lambda', () => {
  it('fails the invocation on an invalid event, so Lambda retries it and keeps it on failure', async () => {
    const profileFunction = createUserProfileFunction(stack.settings, {
      logger: stack.logger,
      tracing,
      awsCredentials: stack.awsCredentials,
    });
    const invalid = { 'detail-type': 'user.signed_in', detail: { userId: 'someone' } };
    await expect(
      profileFunction(invalid as never, { ...LAMBDA_CONTEXT, awsRequestId: 'invalid-event' }),
    ).rejects.toMatchObject({ status: 400, code: 'invalid_event' });
    const spans = await receiver.waitForSpans((all) =>
      all.some((span) => span.attributes['faas.invocation_id'] === 'invalid-event'),
    );
    const invocation = spans.find((span) => span.attributes['faas.invocation_id'] === 'invalid-event');
    expect(invocation?.status.code).toBe(2);
    expect(annotationsOf(invocation)).toEqual({ event_source: 'eventbridge' });
  });
});

describe('sampling rules', () => {
  it('sample POST /auth/* at 5 per second then 10%, and the rest at 1 per second then 5%', () => {
    const rules = parseSamplingRules(
      userProfileSettings.shape.XRAY_SAMPLING_RULES.parse(undefined),
      'identity sampling rules',
    );
    const ruleFor = (method: string, path: string) =>
      rules.find((rule) => wildcardMatch(rule.HTTPMethod, method) && wildcardMatch(rule.URLPath, path));
    expect(ruleFor('POST', '/auth/exchange')).toMatchObject({ ReservoirSize: 5, FixedRate: 0.1 });
    expect(ruleFor('GET', '/auth/exchange')).toMatchObject({
      RuleName: 'Default',
      ReservoirSize: 1,
      FixedRate: 0.05,
    });
    expect(ruleFor('POST', '/health')).toMatchObject({ RuleName: 'Default' });
  });
});
