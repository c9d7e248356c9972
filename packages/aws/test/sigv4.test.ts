import { AwsApiPeer, OpenSearchPeer, StsPeer, TestJwtIssuer } from '@stratus/test-peers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { googleWebIdentityCredentials } from '../src/credentials/google-web-identity.js';
import { RefreshingValue } from '../src/credentials/refreshing-value.js';
import { createOpenSearchClient } from '../src/sigv4/opensearch-client.js';
import { createSignedFetch } from '../src/sigv4/signed-fetch.js';

const events = new AwsApiPeer({ protocol: 'json-1.1', signingName: 'events', targetPrefix: 'AWSEvents' });
const sts = new StsPeer();
let search: OpenSearchPeer;

beforeAll(async () => {
  await Promise.all([events.start(), sts.start()]);
  // The OpenSearch peer accepts what the STS peer issues, as a domain accepts the role's sessions.
  search = await new OpenSearchPeer({ kind: 'sigv4', credentials: sts.credentials }).start();
  events.handle('PutEvents', (input) => ({
    FailedEntryCount: 0,
    Entries: (input.Entries as unknown[]).map((_, index) => ({ EventId: `e-${index}` })),
  }));
});
afterAll(async () => {
  await Promise.all([events.stop(), sts.stop(), search.stop()]);
});

const putEventsInit = {
  method: 'POST',
  headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AWSEvents.PutEvents' },
  body: JSON.stringify({ Entries: [{ Source: 'stratus.test', DetailType: 'ping', Detail: '{}' }] }),
};

describe('createSignedFetch', () => {
  it('signs a request that an AWS JSON API accepts', async () => {
    const signedFetch = createSignedFetch({
      credentials: events.defaultCredentials,
      region: 'eu-west-1',
      service: 'events',
    });
    const response = await signedFetch(events.url, putEventsInit);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ FailedEntryCount: 0, Entries: [{ EventId: 'e-0' }] });
    expect(events.requests.at(-1)?.accessKeyId).toBe(events.defaultCredentials.accessKeyId);
  });

  it('signs the payload hash: a body changed after signing is refused', async () => {
    const tampering: typeof fetch = (url, init) =>
      fetch(url, {
        ...init,
        body: JSON.stringify({ Entries: [{ Source: 'evil', DetailType: 'x', Detail: '{}' }] }),
      });
    const signedFetch = createSignedFetch({
      credentials: events.defaultCredentials,
      region: 'eu-west-1',
      service: 'events',
      fetch: tampering,
    });
    const response = await signedFetch(events.url, putEventsInit);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ __type: 'XAmzContentSHA256Mismatch' });
  });

  it('is refused with the wrong secret key', async () => {
    const signedFetch = createSignedFetch({
      credentials: { ...events.defaultCredentials, secretAccessKey: 'wrong' },
      region: 'eu-west-1',
      service: 'events',
    });
    const response = await signedFetch(events.url, putEventsInit);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ __type: 'InvalidSignatureException' });
  });

  it('signs paths with escaped characters and repeated query parameters (REST APIs)', async () => {
    const signedFetch = createSignedFetch({
      credentials: sts.defaultCredentials,
      region: 'eu-west-1',
      service: 'es',
    });
    const response = await signedFetch(`${search.url}/job-metrics/_doc/job%20one%2F2?routing=a%20b&x=1&x=2`);
    // Authenticated (a 403 would mean a bad signature); the document just does not exist.
    expect(response.status).toBe(404);
    expect(search.requests.at(-1)?.principal).toBe(sts.defaultCredentials.accessKeyId);
  });
});

describe('createOpenSearchClient', () => {
  const jwt = new TestJwtIssuer();
  const idToken = new RefreshingValue<string>({
    refreshBeforeMs: 60_000,
    load: async () => {
      const exp = Math.floor(Date.now() / 1000) + 3600;
      return {
        value: jwt.sign({ iss: 'https://accounts.google.com', sub: '1', aud: 'sts.amazonaws.com', exp }),
        expiresAt: exp * 1000,
      };
    },
  });

  it('writes and reads documents signed with web-identity credentials', async () => {
    const client = createOpenSearchClient({
      node: search.url,
      region: 'eu-west-1',
      service: 'es',
      credentials: googleWebIdentityCredentials({
        roleArn: 'arn:aws:iam::111122223333:role/metrics-writer',
        idToken,
        stsClientConfig: { endpoint: sts.url },
      }),
    });
    await client.update({
      index: 'job-metrics',
      id: 'job-1',
      body: { doc: { rows: 3, state: 'Done' }, doc_as_upsert: true },
    });
    const read = await client.get({ index: 'job-metrics', id: 'job-1' });
    expect(read.body._source).toEqual({ rows: 3, state: 'Done' });
    const issued = sts.issued.at(-1)!;
    expect(search.requests.at(-1)?.principal).toBe(issued.accessKeyId);
    await client.close();
  });

  it('is refused by the domain with credentials it does not know', async () => {
    const client = createOpenSearchClient({
      node: search.url,
      region: 'eu-west-1',
      service: 'es',
      credentials: async () => ({ accessKeyId: 'AKIAUNKNOWN000000000', secretAccessKey: 'x' }),
      maxRetries: 0,
    });
    await expect(client.get({ index: 'job-metrics', id: 'job-1' })).rejects.toMatchObject({
      statusCode: 403,
    });
    await client.close();
  });
});
