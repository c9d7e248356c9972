import { createSign, createVerify, generateKeyPairSync, type KeyObject, randomUUID } from 'node:crypto';

/** The claims a peer reads from an OIDC ID token. */
export interface JwtClaims {
  iss?: string;
  sub?: string;
  aud?: string;
  azp?: string;
  email?: string;
  iat?: number;
  exp?: number;
  [claim: string]: unknown;
}

/**
 * Issues RS256 JWTs with a key pair made at start-up (never stored), like an OIDC provider would:
 * the Google token peer signs with it and the STS peer verifies with its public key.
 */
export class TestJwtIssuer {
  readonly publicKey: KeyObject;
  readonly keyId = randomUUID();
  private readonly privateKey: KeyObject;

  constructor() {
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.publicKey = pair.publicKey;
    this.privateKey = pair.privateKey;
  }

  sign(claims: JwtClaims): string {
    const header = base64UrlJson({ alg: 'RS256', typ: 'JWT', kid: this.keyId });
    const payload = base64UrlJson(claims);
    const signature = createSign('RSA-SHA256').update(`${header}.${payload}`).sign(this.privateKey);
    return `${header}.${payload}.${signature.toString('base64url')}`;
  }
}

/** The claims of a JWT, without checking its signature; undefined when it is not a JWT. */
export function decodeJwtClaims(token: string): JwtClaims | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const claims: unknown = JSON.parse(Buffer.from(parts[1] ?? '', 'base64url').toString('utf8'));
    return typeof claims === 'object' && claims !== null && !Array.isArray(claims)
      ? (claims as JwtClaims)
      : undefined;
  } catch {
    return undefined;
  }
}

/** True when an RS256 JWT's signature verifies with one of the keys. */
export function verifyJwtSignature(token: string, keys: KeyObject[]): boolean {
  const [header, payload, signature] = token.split('.');
  if (header === undefined || payload === undefined || signature === undefined) return false;
  return keys.some((key) =>
    createVerify('RSA-SHA256')
      .update(`${header}.${payload}`)
      .verify(key, Buffer.from(signature, 'base64url')),
  );
}

function base64UrlJson(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}
