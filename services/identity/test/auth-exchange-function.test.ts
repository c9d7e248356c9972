import { configureTracing, type Tracing } from '@stratus/core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAuthExchangeFunction } from '../src/app/auth-exchange-function.js';
import { nowSeconds, PROJECT_ID, unsignedToken } from './fixtures/firebase-tokens.js';
import { type IdentityStack, ROLE_ARN, startIdentityStack } from './fixtures/identity-stack.js';
import { httpApiEvent, LAMBDA_CONTEXT } from './fixtures/lambda-events.js';

let stack: IdentityStack;
let tracing: Tracing;

beforeAll(async () => {
  stack = await startIdentityStack();
  tracing = await configureTracing({ ...stack.settings, ENABLE_TRACING: false });
});
afterAll(() => stack.stop());
beforeEach(() => {
  stack.sts.requests.length = 0;
  stack.eventBridge.requests.length = 0;
  stack.eventBridge.events.length = 0;
});

function exchangeFunction(
  overrides: Partial<typeof stack.settings> = {},
  awsCredentials = stack.awsCredentials,
) {
  return createAuthExchangeFunction(
    { ...stack.settings, ...overrides },
    { logger: stack.logger, tracing, keySet: stack.keys.keySet, awsCredentials },
  );
}

async function exchange(body: string | undefined, fn = exchangeFunction()) {
  const response = await fn(httpApiEvent(body), LAMBDA_CONTEXT);
  return { ...response, json: JSON.parse(response.body ?? '{}') };
}

const bodyFor = (idToken: string) => JSON.stringify({ idToken });

describe('auth-exchange Lambda against the STS and EventBridge peers', () => {
  it('exchanges a valid token for credentials and emits user.signed_in', async () => {
    const token = await stack.keys.sign();
    const response = await exchange(bodyFor(token));

    expect(response.statusCode).toBe(200);
    expect(response.headers).toMatchObject({
      'cache-control': 'no-store',
      'content-type': 'application/json',
    });
    const issued = stack.sts.issued.at(-1)!;
    expect(response.json).toEqual({
      userId: 'uid-123',
      credentials: {
        accessKeyId: issued.accessKeyId,
        secretAccessKey: issued.secretAccessKey,
        sessionToken: issued.sessionToken,
        expiration: issued.expiration.toISOString(),
      },
    });
    const [assume] = stack.sts.requestsFor('AssumeRoleWithWebIdentity');
    expect(assume?.input).toMatchObject({
      RoleArn: ROLE_ARN,
      RoleSessionName: 'uid-123',
      DurationSeconds: '3600',
      WebIdentityToken: token,
    });

    const [put] = stack.eventBridge.requestsFor('PutEvents');
    expect(put?.accessKeyId).toBe(stack.awsCredentials.accessKeyId);
    expect(stack.eventBridge.events).toHaveLength(1);
    const [{ eventBusName, event }] = stack.eventBridge.events as [(typeof stack.eventBridge.events)[0]];
    expect(eventBusName).toBe('auth-events');
    expect(event).toMatchObject({ source: 'stratus.identity', 'detail-type': 'user.signed_in' });
    expect(event.detail).toEqual({
      userId: 'uid-123',
      email: 'ada@example.com',
      displayName: 'Ada Lovelace',
      photoURL: 'https://example.com/ada.png',
      provider: 'password',
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    });

    const log = stack.logText();
    expect(log).toContain('"event":"user_signed_in"');
    for (const secret of [token, issued.secretAccessKey, issued.sessionToken, issued.accessKeyId])
      expect(log).not.toContain(secret);
  });

  it.each([
    ['not JSON', '{"idToken":', 'malformed_body'],
    ['no body', undefined, 'validation_failed'],
    ['no idToken', '{}', 'validation_failed'],
    ['idToken not a string', '{"idToken":42}', 'validation_failed'],
    ['unknown fields', '{"idToken":"a.b.c","admin":true}', 'validation_failed'],
  ])('answers 400 to a malformed body (%s) without calling STS', async (_case, body, code) => {
    const response = await exchange(body);
    expect(response.statusCode).toBe(400);
    expect(response.json).toEqual({
      error: { code, message: expect.any(String), requestId: 'JKJaXmPLvHcESHA=' },
    });
    expect(stack.sts.requests).toHaveLength(0);
  });

  it.each([
    ['expired', () => stack.keys.sign({}, { issuedAt: nowSeconds() - 7200 }), 'token_expired'],
    ['wrong audience', () => stack.keys.sign({ aud: 'other-project' }), 'invalid_token'],
    [
      'wrong issuer',
      () => stack.keys.sign({ iss: 'https://securetoken.google.com/other-project' }),
      'invalid_token',
    ],
    ['bad signature', () => stack.keys.sign({}, { foreignKey: true }), 'invalid_token'],
    ['alg none', async () => unsignedToken(), 'invalid_token'],
    ['missing kid', () => stack.keys.sign({}, { kid: null }), 'invalid_token'],
    ['oversized', () => stack.keys.sign({ padding: 'x'.repeat(9000) }), 'invalid_token'],
    ['far oversized', async () => `${'a'.repeat(40_000)}.b.c`, 'invalid_token'],
  ])('answers 401 to a token that is %s, without calling STS', async (_case, makeToken, code) => {
    const token = await makeToken();
    const response = await exchange(bodyFor(token));
    expect(response.statusCode).toBe(401);
    expect(response.json.error.code).toBe(code);
    expect(response.body).not.toContain(token);
    expect(stack.sts.requests).toHaveLength(0);
    expect(stack.eventBridge.events).toHaveLength(0);
  });

  it('answers 403 when STS denies the role', async () => {
    const untrusted = 'arn:aws:iam::123456789012:role/not-for-firebase';
    const response = await exchange(
      bodyFor(await stack.keys.sign()),
      exchangeFunction({ AUTH_ROLE_ARN: untrusted }),
    );
    expect(response.statusCode).toBe(403);
    expect(response.json.error.code).toBe('access_denied');
    expect(stack.sts.requestsFor('AssumeRoleWithWebIdentity')[0]?.errorCode).toBe('AccessDenied');
    expect(stack.eventBridge.events).toHaveLength(0);
  });

  it('answers 429 with Retry-After when STS keeps throttling', async () => {
    stack.sts.injectError('AssumeRoleWithWebIdentity', {
      status: 400,
      code: 'Throttling',
      message: 'Rate exceeded',
      times: 2,
    });
    const response = await exchange(bodyFor(await stack.keys.sign()));
    expect(response.statusCode).toBe(429);
    expect(response.headers?.['retry-after']).toBe('2');
    expect(response.json.error.code).toBe('throttled');
    expect(stack.sts.requestsFor('AssumeRoleWithWebIdentity')).toHaveLength(2);
  });

  it('answers 502 when STS fails', async () => {
    stack.sts.injectError('AssumeRoleWithWebIdentity', { status: 500, code: 'InternalFailure', times: 2 });
    const response = await exchange(bodyFor(await stack.keys.sign()));
    expect(response.statusCode).toBe(502);
    expect(response.json.error.code).toBe('upstream_failure');
  });

  it('still signs the user in when EventBridge fails the entry, and says so in the log', async () => {
    stack.eventBridge.failEntries({ errorCode: 'InternalFailure', errorMessage: 'Internal failure' });
    const response = await exchange(bodyFor(await stack.keys.sign({ sub: 'uid-emit-fails' })));
    expect(response.statusCode).toBe(200);
    expect(stack.eventBridge.events).toHaveLength(0);
    expect(stack.logLines()).toContainEqual(
      expect.objectContaining({ event: 'user_signed_in_emit_failed', user_id: 'uid-emit-fails' }),
    );
  });

  it('is refused by EventBridge when the request is not signed with known credentials', async () => {
    const unknown = { accessKeyId: 'AKIAUNKNOWNKEY000000', secretAccessKey: 'not-the-secret' };
    const response = await exchange(bodyFor(await stack.keys.sign()), exchangeFunction({}, unknown));
    expect(response.statusCode).toBe(200);
    expect(stack.eventBridge.requestsFor('PutEvents').map((request) => request.errorCode)).toContain(
      'UnrecognizedClientException',
    );
    expect(stack.eventBridge.events).toHaveLength(0);
  });
});

describe('settings', () => {
  it('names the Firebase project in the token rules', () => {
    expect(stack.settings.FIREBASE_PROJECT_ID).toBe(PROJECT_ID);
  });
});
