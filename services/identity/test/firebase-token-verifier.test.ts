import type { JWTVerifyGetKey } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createFirebaseTokenVerifier,
  KeySetUnavailable,
  remoteFirebaseKeySet,
} from '../src/adapters/firebase-token-verifier.js';
import { IdTokenRejected, type IdTokenRejectionReason } from '../src/domain/id-token-claims.js';
import {
  createTestKeySet,
  nowSeconds,
  PROJECT_ID,
  serveKeySet,
  type TestKeySet,
  unsignedToken,
} from './fixtures/firebase-tokens.js';

let keys: TestKeySet;
beforeAll(async () => {
  keys = await createTestKeySet();
});

const verifierFor = (keySet: JWTVerifyGetKey = keys.keySet) =>
  createFirebaseTokenVerifier({ projectId: PROJECT_ID, clockSkewSeconds: 30, keySet });

async function rejection(token: string): Promise<IdTokenRejectionReason> {
  const error = await createFirebaseTokenVerifier({
    projectId: PROJECT_ID,
    clockSkewSeconds: 30,
    keySet: keys.keySet,
  })(token).catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(IdTokenRejected);
  expect((error as Error).message).not.toContain(token);
  return (error as IdTokenRejected).reason;
}

describe('Firebase ID token verification', () => {
  it('accepts a valid token and reads the identity from it', async () => {
    const identity = await verifierFor()(await keys.sign());
    expect(identity).toMatchObject({
      userId: 'uid-123',
      email: 'ada@example.com',
      emailVerified: true,
      displayName: 'Ada Lovelace',
      photoURL: 'https://example.com/ada.png',
      provider: 'password',
    });
  });

  it('rejects an expired token', async () => {
    const issuedAt = nowSeconds() - 7200;
    expect(await rejection(await keys.sign({}, { issuedAt }))).toBe('expired');
  });

  it('rejects a token for another project (audience)', async () => {
    expect(await rejection(await keys.sign({ aud: 'another-project' }))).toBe('wrong_audience');
  });

  it('rejects a token from another issuer', async () => {
    const token = await keys.sign({ iss: 'https://accounts.google.com' });
    expect(await rejection(token)).toBe('wrong_issuer');
  });

  it('rejects a token whose signature does not verify', async () => {
    expect(await rejection(await keys.sign({}, { foreignKey: true }))).toBe('bad_signature');
  });

  it('rejects a tampered payload', async () => {
    const [header, , signature] = (await keys.sign()).split('.');
    const forged = Buffer.from(JSON.stringify({ sub: 'someone-else', aud: PROJECT_ID })).toString(
      'base64url',
    );
    expect(await rejection(`${header}.${forged}.${signature}`)).toBe('bad_signature');
  });

  it('rejects alg none', async () => {
    expect(await rejection(unsignedToken())).toBe('unsupported_algorithm');
  });

  it('rejects a token without a kid', async () => {
    expect(await rejection(await keys.sign({}, { kid: null }))).toBe('missing_key_id');
  });

  it('rejects a kid that is not in the key set', async () => {
    expect(await rejection(await keys.sign({}, { kid: 'rotated-away' }))).toBe('unknown_key_id');
  });

  it('rejects an oversized token before looking at it', async () => {
    const token = await keys.sign({ padding: 'x'.repeat(9000) });
    expect(await rejection(token)).toBe('too_large');
  });

  it('rejects text that is not a JWS', async () => {
    expect(await rejection('not-a-token')).toBe('malformed');
    expect(await rejection('a.b.c')).toBe('malformed');
  });

  it('allows the bounded clock skew and no more', async () => {
    const verifier = (now: number) =>
      createFirebaseTokenVerifier({
        projectId: PROJECT_ID,
        clockSkewSeconds: 30,
        keySet: keys.keySet,
        now: () => now,
      });
    const issuedAt = nowSeconds();
    const token = await keys.sign({}, { issuedAt });
    await expect(verifier(issuedAt - 20)(token)).resolves.toMatchObject({ userId: 'uid-123' });
    await expect(verifier(issuedAt - 40)(token)).rejects.toMatchObject({ reason: 'issued_in_future' });
    await expect(verifier(issuedAt + 3600 + 20)(token)).resolves.toMatchObject({ userId: 'uid-123' });
    await expect(verifier(issuedAt + 3600 + 30)(token)).rejects.toMatchObject({ reason: 'expired' });
  });
});

describe("Google's key set over HTTP", () => {
  it('is fetched once and cached across verifications', async () => {
    const served = await serveKeySet(keys.jwks);
    try {
      const verify = verifierFor(
        remoteFirebaseKeySet({ url: served.url, cacheMaxAgeMs: 60_000, timeoutMs: 1000 }),
      );
      await verify(await keys.sign());
      await verify(await keys.sign({ sub: 'uid-456' }));
      expect(served.fetches()).toBe(1);
    } finally {
      await served.close();
    }
  });

  it('that cannot be fetched is an upstream failure, not a bad token', async () => {
    const served = await serveKeySet(keys.jwks);
    await served.close();
    const verify = verifierFor(
      remoteFirebaseKeySet({ url: served.url, cacheMaxAgeMs: 60_000, timeoutMs: 1000 }),
    );
    await expect(verify(await keys.sign())).rejects.toBeInstanceOf(KeySetUnavailable);
  });
});
