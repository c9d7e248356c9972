import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { EventBridgePeer } from '@stratus/test-peers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The EventBridge peer the exchange's tests stand on, checked against PutEvents' documented behaviour.
let peer: EventBridgePeer;
let client: EventBridgeClient;

beforeAll(async () => {
  peer = await new EventBridgePeer().start();
  client = new EventBridgeClient({ ...peer.clientConfig(), maxAttempts: 1 });
});
afterAll(async () => {
  client.destroy();
  await peer.stop();
});

const entry = (fields: Record<string, unknown> = {}) => ({
  EventBusName: 'auth-events',
  Source: 'stratus.identity',
  DetailType: 'user.signed_in',
  Detail: '{"userId":"u1"}',
  ...fields,
});

describe('EventBridgePeer PutEvents', () => {
  it('fails bad entries alone, in a 200 with FailedEntryCount, and delivers the good ones to the bus subscribers', async () => {
    const delivered: unknown[] = [];
    peer.subscribe('auth-events', ({ event }) => void delivered.push(event.detail));
    const output = await client.send(
      new PutEventsCommand({ Entries: [entry(), entry({ Detail: '[1,2]' }), entry({ Source: undefined })] }),
    );
    expect(output.FailedEntryCount).toBe(2);
    expect(output.Entries?.map((result) => result.ErrorCode ?? 'ok')).toEqual([
      'ok',
      'MalformedDetail',
      'InvalidArgument',
    ]);
    await expect.poll(() => delivered).toEqual([{ userId: 'u1' }]);
  });

  it('refuses more than 10 entries with a ValidationException', async () => {
    await expect(
      client.send(new PutEventsCommand({ Entries: Array.from({ length: 11 }, () => entry()) })),
    ).rejects.toMatchObject({ name: 'ValidationException' });
  });

  it('refuses a request signed with an unknown secret', async () => {
    const forged = new EventBridgeClient({
      ...peer.clientConfig({ accessKeyId: peer.defaultCredentials.accessKeyId, secretAccessKey: 'wrong' }),
      maxAttempts: 1,
    });
    await expect(forged.send(new PutEventsCommand({ Entries: [entry()] }))).rejects.toMatchObject({
      name: 'InvalidSignatureException',
    });
    forged.destroy();
  });
});
