import { AssumeRoleWithWebIdentityCommand, type Credentials, type STSClient } from '@aws-sdk/client-sts';
import { ServiceError } from '@stratus/core';

export interface TemporaryCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  /** ISO 8601. */
  expiration: string;
}

export interface WebIdentityRoleOptions {
  roleArn: string;
  durationSeconds: number;
  /** Seconds a throttled caller is told to wait (Retry-After). */
  retryAfterSeconds: number;
}

/**
 * Exchanges a verified Firebase ID token for temporary credentials of one role with STS
 * AssumeRoleWithWebIdentity. STS checks the token again against the role's trust policy (the IAM
 * OIDC provider for securetoken.google.com/<project>), so a token is never trusted on our word alone.
 */
export class WebIdentityRole {
  constructor(
    private readonly client: STSClient,
    private readonly options: WebIdentityRoleOptions,
  ) {}

  /** Throws ServiceError 401/403/429/502 as the failure warrants; never puts the token in a message. */
  async assume(idToken: string, roleSessionName: string): Promise<TemporaryCredentials> {
    let credentials: Credentials | undefined;
    try {
      ({ Credentials: credentials } = await this.client.send(
        new AssumeRoleWithWebIdentityCommand({
          RoleArn: this.options.roleArn,
          RoleSessionName: roleSessionName,
          WebIdentityToken: idToken,
          DurationSeconds: this.options.durationSeconds,
        }),
      ));
    } catch (error) {
      throw stsFailure(error, this.options.retryAfterSeconds);
    }
    if (
      !credentials?.AccessKeyId ||
      !credentials.SecretAccessKey ||
      !credentials.SessionToken ||
      !credentials.Expiration
    )
      throw new ServiceError(502, 'upstream_failure', 'STS answered without credentials');
    return {
      accessKeyId: credentials.AccessKeyId,
      secretAccessKey: credentials.SecretAccessKey,
      sessionToken: credentials.SessionToken,
      expiration: credentials.Expiration.toISOString(),
    };
  }
}

const THROTTLING = new Set([
  'Throttling',
  'ThrottlingException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
]);
const ACCESS_DENIED = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'IDPRejectedClaimException',
  'IDPRejectedClaim',
]);
const TOKEN_REJECTED = new Set(['InvalidIdentityTokenException', 'InvalidIdentityToken']);
const TOKEN_EXPIRED = new Set(['ExpiredTokenException', 'ExpiredToken']);

/** STS's errors in the service's error model; the STS error code stays on the error as `cause`. */
export function stsFailure(error: unknown, retryAfterSeconds: number): ServiceError {
  const name = (error as { name?: string }).name ?? '';
  const options = { cause: error };
  if (THROTTLING.has(name))
    return new ServiceError(429, 'throttled', 'Too many sign-ins right now; retry later', {
      ...options,
      retryAfterSeconds,
    });
  if (ACCESS_DENIED.has(name))
    return new ServiceError(403, 'access_denied', 'This identity may not assume the sign-in role', options);
  if (TOKEN_EXPIRED.has(name)) return new ServiceError(401, 'token_expired', 'ID token has expired', options);
  if (TOKEN_REJECTED.has(name))
    return new ServiceError(401, 'invalid_token', 'STS did not accept the ID token', options);
  return new ServiceError(502, 'upstream_failure', 'STS could not issue credentials', options);
}
