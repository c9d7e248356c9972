/**
 * The rules a Firebase ID token must meet before anything is done on its behalf, after its signature
 * has been checked. They follow Firebase's own "verify ID tokens using a third-party JWT library":
 * RS256 with a `kid`, `aud` = the project, `iss` = https://securetoken.google.com/<project>,
 * a non-empty `sub` of at most 128 characters, and `exp`, `iat` and `auth_time` checked against the
 * clock with a bounded skew.
 */

/** Longer than any token Firebase issues (about 1 KB, custom claims at most 1000 bytes). */
export const MAX_ID_TOKEN_LENGTH = 8192;
export const MAX_USER_ID_LENGTH = 128;

export type IdTokenRejectionReason =
  | 'malformed'
  | 'too_large'
  | 'unsupported_algorithm'
  | 'missing_key_id'
  | 'unknown_key_id'
  | 'bad_signature'
  | 'wrong_audience'
  | 'wrong_issuer'
  | 'invalid_subject'
  | 'expired'
  | 'issued_in_future'
  | 'authenticated_in_future';

/** Thrown for any token that is not a valid Firebase ID token for this project. Never carries the token. */
export class IdTokenRejected extends Error {
  override readonly name = 'IdTokenRejected';
  constructor(
    readonly reason: IdTokenRejectionReason,
    message: string,
  ) {
    super(message);
  }
}

export interface IdTokenRules {
  projectId: string;
  /** Seconds since the epoch. */
  now: number;
  /** How far the issuer's clock may be from ours, in seconds. */
  clockSkewSeconds: number;
}

/** What the service takes from a verified token. */
export interface FirebaseIdentity {
  userId: string;
  email?: string;
  emailVerified?: boolean;
  displayName?: string;
  photoURL?: string;
  /** `firebase.sign_in_provider`: password, google.com, apple.com, phone, anonymous, custom... */
  provider: string;
  authTime: number;
  issuedAt: number;
  expiresAt: number;
}

export const issuerFor = (projectId: string) => `https://securetoken.google.com/${projectId}`;

/** Checked before the signature, so a token that could never be accepted costs no key look-up. */
export function checkIdTokenShape(token: string): void {
  if (token.length > MAX_ID_TOKEN_LENGTH)
    throw new IdTokenRejected('too_large', `ID token is longer than ${MAX_ID_TOKEN_LENGTH} characters`);
  if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token))
    throw new IdTokenRejected('malformed', 'ID token is not a compact JWS (three base64url parts)');
}

export function checkIdTokenHeader(header: Record<string, unknown>): { kid: string } {
  if (header.alg !== 'RS256')
    throw new IdTokenRejected(
      'unsupported_algorithm',
      `ID token algorithm must be RS256, got ${describe(header.alg)}`,
    );
  if (typeof header.kid !== 'string' || header.kid.length === 0)
    throw new IdTokenRejected('missing_key_id', 'ID token header has no kid');
  return { kid: header.kid };
}

export function checkIdTokenClaims(payload: Record<string, unknown>, rules: IdTokenRules): FirebaseIdentity {
  const { projectId, now, clockSkewSeconds: skew } = rules;
  if (payload.aud !== projectId)
    throw new IdTokenRejected('wrong_audience', `ID token audience is not the Firebase project ${projectId}`);
  if (payload.iss !== issuerFor(projectId))
    throw new IdTokenRejected('wrong_issuer', `ID token issuer is not ${issuerFor(projectId)}`);
  const sub = payload.sub;
  if (typeof sub !== 'string' || sub.length === 0 || sub.length > MAX_USER_ID_LENGTH)
    throw new IdTokenRejected(
      'invalid_subject',
      `ID token subject must be a non-empty string of at most ${MAX_USER_ID_LENGTH} characters`,
    );
  const exp = timeClaim(payload, 'exp');
  const iat = timeClaim(payload, 'iat');
  const authTime = timeClaim(payload, 'auth_time');
  if (exp <= now - skew) throw new IdTokenRejected('expired', 'ID token has expired');
  if (iat > now + skew) throw new IdTokenRejected('issued_in_future', 'ID token is issued in the future');
  if (authTime > now + skew)
    throw new IdTokenRejected('authenticated_in_future', 'ID token auth_time is in the future');

  const firebase = isRecord(payload.firebase) ? payload.firebase : {};
  const identity: FirebaseIdentity = {
    userId: sub,
    provider: typeof firebase.sign_in_provider === 'string' ? firebase.sign_in_provider : 'unknown',
    authTime,
    issuedAt: iat,
    expiresAt: exp,
  };
  if (typeof payload.email === 'string') identity.email = payload.email;
  if (typeof payload.email_verified === 'boolean') identity.emailVerified = payload.email_verified;
  if (typeof payload.name === 'string') identity.displayName = payload.name;
  if (typeof payload.picture === 'string') identity.photoURL = payload.picture;
  return identity;
}

function timeClaim(payload: Record<string, unknown>, name: 'exp' | 'iat' | 'auth_time'): number {
  const value = payload[name];
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw new IdTokenRejected('malformed', `ID token claim ${name} must be a number of seconds`);
  return value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  return typeof value === 'string' ? value.slice(0, 16) : typeof value;
}
