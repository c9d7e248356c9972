import {
  type CompactJWSHeaderParameters,
  compactVerify,
  createRemoteJWKSet,
  decodeProtectedHeader,
  errors,
  type FlattenedJWSInput,
  type JWSHeaderParameters,
  type JWTVerifyGetKey,
} from 'jose';
import {
  checkIdTokenClaims,
  checkIdTokenHeader,
  checkIdTokenShape,
  type FirebaseIdentity,
  IdTokenRejected,
} from '../domain/id-token-claims.js';

/** Google's public keys for Firebase ID tokens, as a JSON Web Key Set. */
export const FIREBASE_KEY_SET_URL =
  'https://www.googleapis.com/service_accounts/v1/jwk/securetoken@system.gserviceaccount.com';

/** The key set could not be fetched: the token may be fine, so this is an upstream failure, not a 401. */
export class KeySetUnavailable extends Error {
  override readonly name = 'KeySetUnavailable';
}

export interface KeySetOptions {
  url: string;
  /** How long fetched keys are used before they are fetched again. Google rotates them about daily. */
  cacheMaxAgeMs: number;
  timeoutMs: number;
}

/**
 * Google's key set, fetched on first use and cached; an unknown `kid` fetches again (at most every
 * 30 s), which is how a rotated key is picked up. The set itself is made on first use too: making it
 * loads Node's fetch (undici), which would otherwise add to every Lambda cold start's init.
 */
export function remoteFirebaseKeySet(options: KeySetOptions): JWTVerifyGetKey {
  let keySet: JWTVerifyGetKey | undefined;
  return (header, input) => {
    keySet ??= createRemoteJWKSet(new URL(options.url), {
      cacheMaxAge: options.cacheMaxAgeMs,
      cooldownDuration: 30_000,
      timeoutDuration: options.timeoutMs,
    });
    return keySet(header, input);
  };
}

export interface FirebaseTokenVerifierOptions {
  projectId: string;
  clockSkewSeconds: number;
  /** Google's key set in production; a local key set in tests. */
  keySet: JWTVerifyGetKey;
  /** Seconds since the epoch; default the system clock. */
  now?: () => number;
}

export type FirebaseTokenVerifier = (idToken: string) => Promise<FirebaseIdentity>;

/**
 * Verifies a Firebase ID token: its shape and header first, then the RS256 signature with the key
 * named by `kid`, then the claims. Rejections are IdTokenRejected; a key set that cannot be fetched is
 * KeySetUnavailable.
 */
export function createFirebaseTokenVerifier(options: FirebaseTokenVerifierOptions): FirebaseTokenVerifier {
  const now = options.now ?? (() => Math.floor(Date.now() / 1000));
  const getKey = async (header: CompactJWSHeaderParameters, input: FlattenedJWSInput) => {
    try {
      return await options.keySet(header, input);
    } catch (error) {
      if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys)
        throw new IdTokenRejected('unknown_key_id', 'ID token kid names no current Google key');
      throw new KeySetUnavailable('The Firebase key set could not be fetched', { cause: error });
    }
  };

  return async (idToken) => {
    checkIdTokenShape(idToken);
    let header: JWSHeaderParameters;
    try {
      header = decodeProtectedHeader(idToken);
    } catch {
      throw new IdTokenRejected('malformed', 'ID token header is not base64url-encoded JSON');
    }
    checkIdTokenHeader(header);
    let payload: Uint8Array;
    try {
      ({ payload } = await compactVerify(idToken, getKey, { algorithms: ['RS256'] }));
    } catch (error) {
      if (error instanceof IdTokenRejected || error instanceof KeySetUnavailable) throw error;
      if (error instanceof errors.JWSSignatureVerificationFailed)
        throw new IdTokenRejected('bad_signature', 'ID token signature does not verify');
      throw new IdTokenRejected('malformed', 'ID token is not a valid JWS');
    }
    return checkIdTokenClaims(parseClaims(payload), {
      projectId: options.projectId,
      now: now(),
      clockSkewSeconds: options.clockSkewSeconds,
    });
  };
}

function parseClaims(payload: Uint8Array): Record<string, unknown> {
  let claims: unknown;
  try {
    claims = JSON.parse(new TextDecoder().decode(payload));
  } catch {
    throw new IdTokenRejected('malformed', 'ID token payload is not JSON');
  }
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims))
    throw new IdTokenRejected('malformed', 'ID token payload is not a JSON object');
  return claims as Record<string, unknown>;
}
