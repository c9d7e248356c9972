import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GoogleTokenPeer } from '../src/google-token-peer.js';
import { decodeJwtClaims, verifyJwtSignature } from '../src/test-jwt.js';

const workload = { email: 'app@p.iam.gserviceaccount.com', uniqueId: '1001' };
const shared = { email: 'shared@p.iam.gserviceaccount.com', uniqueId: '1002' };
const peer = new GoogleTokenPeer({ defaultServiceAccount: workload, impersonable: [shared] });

beforeAll(async () => {
  await peer.start();
});
afterAll(async () => {
  await peer.stop();
});

const metadata = (path: string, flavor = true) =>
  fetch(`${peer.url}/computeMetadata/v1/${path}`, { headers: flavor ? { 'metadata-flavor': 'Google' } : {} });

async function accessToken(): Promise<string> {
  const answer = await metadata('instance/service-accounts/default/token');
  return ((await answer.json()) as { access_token: string }).access_token;
}

const generateIdToken = (email: string, body: unknown, bearer?: string) =>
  fetch(`${peer.url}/v1/projects/-/serviceAccounts/${email}:generateIdToken`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
    body: JSON.stringify(body),
  });

describe('GoogleTokenPeer metadata server', () => {
  it('issues an ID token shaped like Google: iss, aud, azp and sub, signed with its key', async () => {
    const answer = await metadata(
      'instance/service-accounts/default/identity?audience=sts.amazonaws.com&format=full',
    );
    expect(answer.headers.get('metadata-flavor')).toBe('Google');
    const token = await answer.text();
    expect(decodeJwtClaims(token)).toMatchObject({
      iss: 'https://accounts.google.com',
      aud: 'sts.amazonaws.com',
      azp: '1001',
      sub: '1001',
      email: workload.email,
    });
    expect(verifyJwtSignature(token, [peer.jwtIssuer.publicKey])).toBe(true);
  });

  it('refuses requests without Metadata-Flavor: Google, and an ID token without audience', async () => {
    expect((await metadata('instance/service-accounts/default/identity?audience=x', false)).status).toBe(403);
    expect((await metadata('instance/service-accounts/default/identity')).status).toBe(400);
    expect((await metadata('instance/service-accounts/other@p.iam.gserviceaccount.com/token')).status).toBe(
      404,
    );
  });
});

describe('GoogleTokenPeer IAM Credentials generateIdToken', () => {
  it('mints an ID token of an account the caller may impersonate', async () => {
    const answer = await generateIdToken(
      shared.email,
      { audience: 'aud-1', includeEmail: true },
      await accessToken(),
    );
    expect(answer.status).toBe(200);
    const { token } = (await answer.json()) as { token: string };
    expect(decodeJwtClaims(token)).toMatchObject({ sub: '1002', aud: 'aud-1', email: shared.email });
  });

  it('answers 401 without a valid bearer token, 403 for another account, 400 without audience', async () => {
    const bearer = await accessToken();
    const unauthenticated = await generateIdToken(shared.email, { audience: 'a' }, 'ya29.forged');
    expect(unauthenticated.status).toBe(401);
    expect(await unauthenticated.json()).toMatchObject({ error: { code: 401, status: 'UNAUTHENTICATED' } });
    const denied = await generateIdToken('stranger@p.iam.gserviceaccount.com', { audience: 'a' }, bearer);
    expect(await denied.json()).toMatchObject({ error: { code: 403, status: 'PERMISSION_DENIED' } });
    const noAudience = await generateIdToken(shared.email, {}, bearer);
    expect(await noAudience.json()).toMatchObject({ error: { code: 400, status: 'INVALID_ARGUMENT' } });
  });
});
