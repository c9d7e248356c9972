/**
 * @stratus/aws/credentials: AWS credentials from Google workload identity federation (WIF -> STS),
 * IRSA and the rest of the SDK chain. Loads the AWS credential providers and google-auth-library.
 */
export {
  type CreateAwsCredentialProviderOptions,
  createAwsCredentialProvider,
} from './credentials/aws-credential-provider.js';
export {
  type CachedGoogleIdTokenOptions,
  cachedGoogleIdToken,
  type GoogleIdTokenSource,
  type ImpersonatedGoogleIdTokenSourceOptions,
  impersonatedGoogleIdTokenSource,
  jwtExpiresAt,
  nativeGoogleIdTokenSource,
} from './credentials/google-id-token.js';
export {
  type CachedToken,
  type GoogleWebIdentityCredentialsOptions,
  googleWebIdentityCredentials,
  type TemporaryAwsCredentials,
} from './credentials/google-web-identity.js';
export {
  type Expiring,
  RefreshingValue,
  type RefreshingValueOptions,
} from './credentials/refreshing-value.js';
