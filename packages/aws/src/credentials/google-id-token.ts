import { type AuthClient, GoogleAuth, Impersonated } from 'google-auth-library';
import { type Expiring, RefreshingValue } from './refreshing-value.js';

/** Anything that can mint a Google-signed OIDC ID token for an audience. */
export interface GoogleIdTokenSource {
  fetchIdToken(audience: string): Promise<string>;
}

/**
 * The workload's own service account, from the environment's Google credentials (the metadata
 * server on GKE/GCE/Cloud Run, or a service account key through GOOGLE_APPLICATION_CREDENTIALS).
 */
export function nativeGoogleIdTokenSource(auth: GoogleAuth = new GoogleAuth()): GoogleIdTokenSource {
  return {
    async fetchIdToken(audience) {
      try {
        const client = await auth.getIdTokenClient(audience);
        return await client.idTokenProvider.fetchIdToken(audience);
      } catch (error) {
        throw googleTokenError('could not get the workload ID token', error);
      }
    },
  };
}

export interface ImpersonatedGoogleIdTokenSourceOptions {
  /** The service account whose ID token is minted (SHARED_SA_EMAIL). */
  serviceAccountEmail: string;
  /** The caller's own credentials; default: the environment's (metadata server or key file). */
  sourceClient?: AuthClient;
  /** IAM Credentials API base URL; default https://iamcredentials.googleapis.com. */
  iamCredentialsEndpoint?: string;
}

/**
 * An ID token of another service account, minted through IAM Credentials `generateIdToken`; the
 * caller needs roles/iam.serviceAccountOpenIdTokenCreator on that account.
 */
export function impersonatedGoogleIdTokenSource(
  options: ImpersonatedGoogleIdTokenSourceOptions,
): GoogleIdTokenSource {
  let impersonated: Impersonated | undefined;
  return {
    async fetchIdToken(audience) {
      if (!impersonated) {
        const sourceClient = options.sourceClient ?? (await new GoogleAuth().getClient());
        impersonated = new Impersonated({
          sourceClient,
          targetPrincipal: options.serviceAccountEmail,
          targetScopes: ['https://www.googleapis.com/auth/cloud-platform'],
          ...(options.iamCredentialsEndpoint ? { endpoint: options.iamCredentialsEndpoint } : {}),
        });
      }
      try {
        return await impersonated.fetchIdToken(audience, { includeEmail: true });
      } catch (error) {
        throw googleTokenError(`could not get an ID token of ${options.serviceAccountEmail}`, error);
      }
    },
  };
}

/**
 * A plain error with Google's message only: google-auth-library's errors carry the request,
 * bearer token included, which must never reach a log.
 */
function googleTokenError(what: string, error: unknown): Error {
  return new Error(`${what}: ${error instanceof Error ? error.message : String(error)}`);
}

/** The `exp` of a JWT in milliseconds, read without verifying it (the token came straight from Google). */
export function jwtExpiresAt(token: string): number | undefined {
  const payload = token.split('.')[1];
  if (payload === undefined) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { exp?: unknown };
    return typeof claims.exp === 'number' ? claims.exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

export interface CachedGoogleIdTokenOptions {
  source: GoogleIdTokenSource;
  audience: string;
  /** Default 5 minutes. */
  refreshBeforeMs?: number;
  now?: () => number;
}

/** A Google ID token cached until shortly before its `exp`, refreshed by one caller at a time. */
export function cachedGoogleIdToken(options: CachedGoogleIdTokenOptions): RefreshingValue<string> {
  return new RefreshingValue<string>({
    refreshBeforeMs: options.refreshBeforeMs ?? 5 * 60_000,
    ...(options.now ? { now: options.now } : {}),
    load: async (): Promise<Expiring<string>> => {
      const value = await options.source.fetchIdToken(options.audience);
      const expiresAt = jwtExpiresAt(value);
      if (expiresAt === undefined)
        throw new Error('Google returned an ID token that is not a JWT with an exp claim');
      return { value, expiresAt };
    },
  });
}
