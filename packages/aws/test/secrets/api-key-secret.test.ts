import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  apiKeyAuth,
  baseServiceSettings,
  createService,
  createServiceClient,
  httpSettings,
  loadSettings,
  type Service,
} from '@stratus/core';
import { generateTestCredentials, SecretsManagerPeer } from '@stratus/test-peers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  apiKeySecretId,
  apiKeySecretSettings,
  secretsManagerApiKeySource,
} from '../../src/secrets/api-key-secret.js';

const peer = new SecretsManagerPeer();
const chatSecret = apiKeySecretId({ project: 'stratus', environment: 'test', service: 'chat' });

beforeAll(async () => {
  await peer.start();
  peer.putSecret(chatSecret, 'chat-key-v1-0123456789abcdef');
});
afterAll(async () => {
  await peer.stop();
});

const clientOf = (credentials = peer.defaultCredentials) =>
  new SecretsManagerClient({ ...peer.clientConfig(credentials), maxAttempts: 1 });

describe('API key secret ids', () => {
  it('follows {project}/{environment}/{service}/api-key unless the pattern is changed', () => {
    expect(chatSecret).toBe('stratus/test/chat/api-key');
    expect(
      apiKeySecretId(
        { project: 'p', environment: 'prod', service: 'identity' },
        'keys/{service}-{environment}',
      ),
    ).toBe('keys/identity-prod');
    expect(() =>
      apiKeySecretId({ project: 'p', environment: 'e', service: 's' }, '{project}/{region}'),
    ).toThrow(/unknown placeholder \{region\}/);
  });

  it('checks the pattern and TTL settings', () => {
    expect(apiKeySecretSettings.parse({})).toEqual({
      API_KEY_SECRET_ID_PATTERN: '{project}/{environment}/{service}/api-key',
      API_KEY_CACHE_TTL_MS: 300_000,
    });
    const bad = apiKeySecretSettings.safeParse({
      API_KEY_SECRET_ID_PATTERN: '{team}/key',
      API_KEY_CACHE_TTL_MS: '-1',
    });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues.map((issue) => issue.path[0])).toEqual([
      'API_KEY_SECRET_ID_PATTERN',
      'API_KEY_CACHE_TTL_MS',
    ]);
  });
});

describe('secretsManagerApiKeySource through the real SDK client', () => {
  it('reads the key with a SigV4-signed GetSecretValue and caches it for the TTL', async () => {
    let now = 0;
    const source = secretsManagerApiKeySource({ client: clientOf(), secretId: chatSecret, now: () => now });
    const before = peer.requestsFor('GetSecretValue').length;
    expect(await source.getApiKey()).toBe('chat-key-v1-0123456789abcdef');
    expect(await source.getApiKey()).toBe('chat-key-v1-0123456789abcdef');
    const calls = peer.requestsFor('GetSecretValue').slice(before);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({
      status: 200,
      accessKeyId: peer.defaultCredentials.accessKeyId,
      input: { SecretId: 'stratus/test/chat/api-key' },
    });
    now = 300_000;
    await source.getApiKey();
    expect(peer.requestsFor('GetSecretValue').length - before).toBe(2);
  });

  it('reads a key from a JSON secret', async () => {
    peer.putSecret('stratus/test/json/api-key', '{"apiKey":"json-key-1","note":"rotated monthly"}');
    const source = secretsManagerApiKeySource({ client: clientOf(), secretId: 'stratus/test/json/api-key' });
    expect(await source.getApiKey()).toBe('json-key-1');
    peer.putSecret('stratus/test/json/other', '{"token":"x"}');
    await expect(
      secretsManagerApiKeySource({ client: clientOf(), secretId: 'stratus/test/json/other' }).getApiKey(),
    ).rejects.toThrow(
      'API key secret stratus/test/json/other is a JSON object without a string field apiKey',
    );
  });

  it('names the secret and the AWS error, never the value', async () => {
    await expect(
      secretsManagerApiKeySource({
        client: clientOf(),
        secretId: 'stratus/test/missing/api-key',
      }).getApiKey(),
    ).rejects.toThrow(
      /reading API key secret stratus\/test\/missing\/api-key failed: ResourceNotFoundException: Secrets Manager can't find/,
    );
    const stranger = generateTestCredentials();
    const error = (await secretsManagerApiKeySource({ client: clientOf(stranger), secretId: chatSecret })
      .getApiKey()
      .catch((e: unknown) => e)) as Error;
    expect(error.message).toMatch(/UnrecognizedClientException/);
    expect(error.message).not.toContain('chat-key-v1');
    const forged = { ...peer.defaultCredentials, secretAccessKey: generateTestCredentials().secretAccessKey };
    await expect(
      secretsManagerApiKeySource({ client: clientOf(forged), secretId: chatSecret }).getApiKey(),
    ).rejects.toThrow(/InvalidSignatureException/);
  });
});

describe('key rotation between two services', () => {
  let chat: Service;
  let url: string;
  let now = 1_000_000;

  beforeAll(async () => {
    peer.putSecret('stratus/test/rotating/api-key', 'rotating-key-v1-abcdef');
    chat = await createService({
      settings: loadSettings(baseServiceSettings.extend(httpSettings.shape), {
        env: { SERVICE_NAME: 'chat', PORT: '0', LOG_LEVEL: 'silent' },
        envFile: false,
      }),
      routes: async (app) => {
        const ownKey = secretsManagerApiKeySource({
          client: clientOf(),
          secretId: 'stratus/test/rotating/api-key',
          now: () => now,
        });
        await app.register(apiKeyAuth, { apiKey: ownKey, now: () => now });
        app.get('/chat/health', async () => ({ status: 'ok' }));
      },
    });
    url = await chat.listen();
  });
  afterAll(async () => {
    await chat?.close();
  });

  it('picks up a rotated key on both sides without a restart', async () => {
    const callerKey = secretsManagerApiKeySource({
      client: clientOf(),
      secretId: 'stratus/test/rotating/api-key',
      now: () => now,
    });
    const client = createServiceClient({ baseUrl: url, apiKey: callerKey });
    expect(await client.get('/chat/health')).toEqual({ status: 'ok' });

    peer.putSecret('stratus/test/rotating/api-key', 'rotating-key-v2-fedcba');
    now += 60_000;
    // A new caller has v2; chat still caches v1 and reloads on the unknown key.
    const newCaller = createServiceClient({
      baseUrl: url,
      apiKey: secretsManagerApiKeySource({ client: clientOf(), secretId: 'stratus/test/rotating/api-key' }),
    });
    expect(await newCaller.get('/chat/health')).toEqual({ status: 'ok' });
    // The old caller is refused (403), reads the secret again once, and succeeds.
    const reads = peer.requestsFor('GetSecretValue').length;
    expect(await client.get('/chat/health')).toEqual({ status: 'ok' });
    expect(peer.requestsFor('GetSecretValue').length - reads).toBe(1);
    expect(await callerKey.getApiKey()).toBe('rotating-key-v2-fedcba');
  });
});
