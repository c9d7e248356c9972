import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalIdentityService, type LocalIdentityService } from '../src/app/local-identity-service.js';
import { type IdentityStack, startIdentityStack } from './fixtures/identity-stack.js';

let stack: IdentityStack;
let service: LocalIdentityService;
let url: string;

beforeAll(async () => {
  stack = await startIdentityStack();
  service = await createLocalIdentityService({
    settings: stack.settings,
    logger: stack.logger,
    keySet: stack.keys.keySet,
    awsCredentials: stack.awsCredentials,
  });
  url = await service.listen();
});
afterAll(async () => {
  await service.close();
  await stack.stop();
});

const post = (body: string, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
  fetch(`${url}/auth/exchange`, { method: 'POST', headers, body });

async function profileOf(userId: string) {
  const { Item } = await stack.dynamo.client.send(
    new GetItemCommand({ TableName: 'users', Key: { userId: { S: userId } }, ConsistentRead: true }),
  );
  return Item;
}

describe('local identity service: exchange and profile in one process', () => {
  it('signs a user in over HTTP and records the profile through the in-process bus', async () => {
    const token = await stack.keys.sign({ sub: 'local-user', name: 'Grace Hopper' });
    const response = await post(JSON.stringify({ idToken: token }));
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const body = (await response.json()) as { userId: string; credentials: { sessionToken: string } };
    expect(body.userId).toBe('local-user');
    expect(body.credentials.sessionToken).toBe(stack.sts.issued.at(-1)?.sessionToken);

    await service.bus.drain();
    const profile = await profileOf('local-user');
    expect(profile?.displayName?.S).toBe('Grace Hopper');
    expect(profile?.createdAt?.S).toBe(profile?.lastLoginDate?.S);
    expect(stack.eventBridge.events).toHaveLength(0);

    const again = await post(JSON.stringify({ idToken: await stack.keys.sign({ sub: 'local-user' }) }));
    expect(again.status).toBe(200);
    await service.bus.drain();
    const returning = await profileOf('local-user');
    expect(returning?.createdAt?.S).toBe(profile?.createdAt?.S);
    expect(String(returning?.lastLoginDate?.S) > String(profile?.lastLoginDate?.S)).toBe(true);
    expect(stack.logLines()).toContainEqual(
      expect.objectContaining({ event: 'user_profile_recorded', user_id: 'local-user', action: 'updated' }),
    );
  });

  it('answers the error model for bad bodies and bad tokens', async () => {
    const notJson = await post('{"idToken":');
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toEqual({
      error: { code: 'malformed_body', message: expect.any(String), requestId: expect.any(String) },
    });
    const missing = await post('{}');
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('validation_failed');
    const expired = await post(
      JSON.stringify({
        idToken: await stack.keys.sign({}, { issuedAt: Math.floor(Date.now() / 1000) - 7200 }),
      }),
    );
    expect(expired.status).toBe(401);
    expect(((await expired.json()) as { error: { code: string } }).error.code).toBe('token_expired');
  });

  it('rejects an invalid event on the bus without touching the table', async () => {
    await service.bus.publish(
      { userId: 'bad-event-user', provider: 'password', timestamp: 'not-a-time' } as never,
      undefined,
    );
    await service.bus.drain();
    expect(stack.logLines()).toContainEqual(
      expect.objectContaining({ event: 'user_signed_in_invalid', fields: 'detail.timestamp' }),
    );
    expect(await profileOf('bad-event-user')).toBeUndefined();
  });
});
