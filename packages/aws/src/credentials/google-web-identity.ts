import { fromWebToken } from '@aws-sdk/credential-providers';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { RefreshingValue } from './refreshing-value.js';

/** A cached token: `get` hands out the current one, `invalidate` makes the next `get` mint a new one. */
export interface CachedToken {
  get(): Promise<string>;
  invalidate(): void;
}

export interface GoogleWebIdentityCredentialsOptions {
  /** The AWS role whose trust policy federates accounts.google.com. */
  roleArn: string;
  /** The Google ID token to exchange, cached by its supplier (see cachedGoogleIdToken). */
  idToken: CachedToken;
  roleSessionName?: string;
  durationSeconds?: number;
  /** STS client settings: region, endpoint (VPC endpoint or a test peer). */
  stsClientConfig?: { region?: string; endpoint?: string };
  /** Default 5 minutes: refresh this long before the AWS credentials expire. */
  refreshBeforeMs?: number;
  now?: () => number;
}

/** AWS credentials with the time they stop working, as the SDK's credential providers return them. */
export type TemporaryAwsCredentials = AwsCredentialIdentity & { expiration: Date };

/**
 * Google Workload Identity Federation to AWS: exchanges a Google ID token for temporary AWS
 * credentials with STS AssumeRoleWithWebIdentity. The credentials are cached and refreshed before
 * they expire, one STS call at a time however many callers ask. The result is an AWS SDK v3
 * credential provider: `new S3Client({ credentials: googleWebIdentityCredentials({...}) })`.
 */
export function googleWebIdentityCredentials(
  options: GoogleWebIdentityCredentialsOptions,
): AwsCredentialIdentityProvider {
  const exchange = async (): Promise<TemporaryAwsCredentials> => {
    const assume = async () =>
      fromWebToken({
        roleArn: options.roleArn,
        webIdentityToken: await options.idToken.get(),
        roleSessionName: options.roleSessionName ?? 'stratus',
        ...(options.durationSeconds ? { durationSeconds: options.durationSeconds } : {}),
        clientConfig: { region: 'us-east-1', ...options.stsClientConfig },
      })();
    let credentials: AwsCredentialIdentity;
    try {
      credentials = await assume();
    } catch (error) {
      // A cached token can lapse between our check and STS's; mint a new one and try once more.
      if ((error as { name?: string }).name !== 'ExpiredTokenException') throw error;
      options.idToken.invalidate();
      credentials = await assume();
    }
    if (!credentials.expiration) throw new Error('STS returned credentials without an expiration');
    return credentials as TemporaryAwsCredentials;
  };
  const cached = new RefreshingValue<TemporaryAwsCredentials>({
    refreshBeforeMs: options.refreshBeforeMs ?? 5 * 60_000,
    ...(options.now ? { now: options.now } : {}),
    load: async () => {
      const credentials = await exchange();
      return { value: credentials, expiresAt: credentials.expiration.getTime() };
    },
  });
  return () => cached.get();
}
