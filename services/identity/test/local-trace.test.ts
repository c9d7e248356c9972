import { context } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import { configureTracing, type Tracing } from '@stratus/core';
import { type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from '@stratus/test-peers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalIdentityService, type LocalIdentityService } from '../src/app/local-identity-service.js';
import { type IdentityStack, startIdentityStack } from './fixtures/identity-stack.js';
import { annotationsOf } from './fixtures/spans.js';

const CALLER_ROOT = '6a1b2c3d4e5f60718293a4b5c6d7e8f9';
const CALLER_SEGMENT = '0123456789abcdef';

let receiver: OtlpReceiver;
let stack: IdentityStack;
let tracing: Tracing;
let service: LocalIdentityService;
let url: string;

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  stack = await startIdentityStack({ ENABLE_TRACING: 'true', OTLP_ENDPOINT: receiver.url });
  tracing = await configureTracing(stack.settings);
  service = await createLocalIdentityService({
    settings: stack.settings,
    logger: stack.logger,
    tracing,
    keySet: stack.keys.keySet,
    awsCredentials: stack.awsCredentials,
  });
  url = await service.listen();
});
afterAll(async () => {
  await service.close();
  await tracing.shutdown();
  await Promise.all([stack.stop(), receiver.close()]);
});

describe('local identity service tracing', () => {
  it('continues the caller trace from the request through the in-process bus to DynamoDB', async () => {
    const idToken = await stack.keys.sign({ sub: 'traced-local' });
    // The test's own request is not traced (the client instrumentation would start its own trace):
    // the caller is whoever sent the X-Amzn-Trace-Id header.
    const response = await context.with(suppressTracing(context.active()), () =>
      fetch(`${url}/auth/exchange`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-amzn-trace-id': `Root=1-${CALLER_ROOT.slice(0, 8)}-${CALLER_ROOT.slice(8)};Parent=${CALLER_SEGMENT};Sampled=1`,
        },
        body: JSON.stringify({ idToken }),
      }),
    );
    expect(response.status).toBe(200);
    await service.bus.drain();
    // The request's own span ends after the response is sent; flush until it is out too.
    await expect
      .poll(async () => {
        await tracing.forceFlush();
        return receiver.spans().some((span) => span.parentSpanId === CALLER_SEGMENT);
      })
      .toBe(true);
    const spans = receiver.spans().filter((span) => span.traceId === CALLER_ROOT);
    const named = (name: string) => spans.find((span) => span.name === name);
    const byId = new Map(spans.map((span) => [span.spanId, span]));
    const rootOf = (span: ReceivedSpan | undefined): ReceivedSpan | undefined => {
      const parent = span?.parentSpanId ? byId.get(span.parentSpanId) : undefined;
      return parent ? rootOf(parent) : span;
    };

    const request = named('POST /auth/exchange');
    expect(rootOf(request)?.parentSpanId).toBe(CALLER_SEGMENT);
    expect(annotationsOf(request)).toEqual({ user_id: 'traced-local', auth_result: 'success' });
    expect(named('sts_assume_role')?.parentSpanId).toBe(request?.spanId);
    expect(named('emit_user_signed_in_event')?.parentSpanId).toBe(request?.spanId);
    const profile = named('user-profile');
    expect(profile?.parentSpanId).toBe(named('emit_user_signed_in_event')?.spanId);
    expect(annotationsOf(profile)).toEqual({
      event_source: 'in-process',
      user_id: 'traced-local',
      action: 'created',
    });
    expect(named('dynamodb_put_user')?.parentSpanId).toBe(profile?.spanId);
  });
});
