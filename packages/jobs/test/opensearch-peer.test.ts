import { OpenSearchPeer } from '@stratus/test-peers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The peer the final-metrics tests rely on: its answers to bad requests must be OpenSearch's.
describe('OpenSearch peer', () => {
  let peer: OpenSearchPeer;
  const auth = { username: 'writer', password: 'peer-test-password' };
  const basic = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
  const post = (path: string, body: string, authorization = basic) =>
    fetch(`${peer.url}${path}`, {
      method: 'POST',
      headers: { authorization, 'content-type': 'application/x-ndjson' },
      body,
    });

  beforeAll(async () => {
    peer = await new OpenSearchPeer({ kind: 'basic', ...auth }).start();
  });
  afterAll(() => peer?.stop());

  it('rejects a wrong password with 401 security_exception and records no write', async () => {
    const response = await post(
      '/_bulk',
      '{"index":{"_index":"a","_id":"1"}}\n{}\n',
      'Basic d3Jvbmc6d3Jvbmc=',
    );
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: { type: 'security_exception' }, status: 401 });
    expect(peer.document('a', '1')).toBeUndefined();
  });

  it('answers malformed bulk bodies with 400 and the OpenSearch error type', async () => {
    for (const [body, type] of [
      ['not json\n', 'json_parse_exception'],
      ['{"upsert":{"_index":"a","_id":"1"}}\n{}\n', 'illegal_argument_exception'],
      ['{"update":{"_id":"1"}}\n{"doc":{}}\n', 'action_request_validation_exception'],
      ['{"update":{"_index":"a","_id":"1"}}\n', 'illegal_argument_exception'],
    ] as const) {
      const response = await post('/_bulk', body);
      expect(response.status, body).toBe(400);
      expect(((await response.json()) as { error: { type: string } }).error.type, body).toBe(type);
    }
    expect(peer.writes).toEqual([]);
  });

  it('bulk item errors are per item: a missing document without upsert is 404, the rest apply', async () => {
    const response = await post(
      '/metrics/_bulk',
      '{"update":{"_id":"missing"}}\n{"doc":{"a":1}}\n{"update":{"_id":"new"}}\n{"doc":{"a":1},"doc_as_upsert":true}\n',
    );
    const body = (await response.json()) as { errors: boolean; items: { update: { status: number } }[] };
    expect(body.errors).toBe(true);
    expect(body.items.map((item) => item.update.status)).toEqual([404, 201]);
  });

  it('_update merges partial documents and answers noop when nothing changes', async () => {
    const update = (doc: unknown) =>
      fetch(`${peer.url}/metrics/_update/job-1`, {
        method: 'POST',
        headers: { authorization: basic, 'content-type': 'application/json' },
        body: JSON.stringify({ doc, doc_as_upsert: true }),
      }).then((r) => r.json() as Promise<{ result: string; _version: number }>);
    expect(await update({ status: 'Running', counters: { rows: 1 } })).toMatchObject({
      result: 'created',
      _version: 1,
    });
    expect(await update({ counters: { rejects: 2 } })).toMatchObject({ result: 'updated', _version: 2 });
    expect(await update({ counters: { rejects: 2 } })).toMatchObject({ result: 'noop', _version: 2 });
    expect(peer.document('metrics', 'job-1')?.source).toEqual({
      status: 'Running',
      counters: { rows: 1, rejects: 2 },
    });
  });
});
